"""The sign-up form: Django's, with the password rules from AUTH_PASSWORD_VALIDATORS."""

from __future__ import annotations

from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Create an account from a username and a password typed twice."""

    class Meta(UserCreationForm.Meta):  # type: ignore[name-defined]  # stubs lack it
        fields = ("username",)
