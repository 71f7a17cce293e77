"""The sign-up view. Log-in, log-out and password change are Django's own views."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from glmweb.accounts.forms import SignupForm


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign it in; 404 page when sign-up is switched off."""
    if not settings.GLMWEB_ALLOW_SIGNUP:
        return render(request, "registration/signup_closed.html", status=404)
    if request.user.is_authenticated:
        return redirect("chat:index")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat:index")
    # A failed sign-up comes back as 400 with the form re-filled (except passwords).
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)
