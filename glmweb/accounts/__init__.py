"""Accounts: sign-up (switchable), log-in, log-out and password change.

Django's own auth views do the work; this package adds the sign-up view and the URLs.
"""
