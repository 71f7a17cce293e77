"""The sign-up and log-in views (both throttled: glmweb/accounts/throttle.py). Log-out
and password change are Django's own views."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from glmweb.accounts import throttle
from glmweb.accounts.forms import SignupForm

TOO_MANY_REQUESTS = 429


class ThrottledLoginView(LoginView):
    """Django's LoginView, refusing (429) once an account or an address has failed
    too often, before the password is checked."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        username = str(request.POST.get("username", ""))[:150]
        if throttle.login_blocked(request, username):
            form = self.get_form()
            form.add_error(
                None, throttle.refusal_text(settings.GLMWEB_LOGIN_WINDOW_SECONDS)
            )
            return self.render_to_response(
                self.get_context_data(form=form), status=TOO_MANY_REQUESTS
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        throttle.note_login_failure(self.request, str(form.data.get("username", "")))
        return super().form_invalid(form)


def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and sign it in; 404 page when sign-up is switched off."""
    if not settings.GLMWEB_ALLOW_SIGNUP:
        return render(request, "registration/signup_closed.html", status=404)
    if request.user.is_authenticated:
        return redirect("chat:index")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and throttle.signup_blocked(request):
        form.is_valid()  # the typed username comes back with the refusal
        form.add_error(
            None, throttle.refusal_text(settings.GLMWEB_SIGNUP_WINDOW_SECONDS)
        )
        return render(
            request,
            "registration/signup.html",
            {"form": form},
            status=TOO_MANY_REQUESTS,
        )
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("chat:index")
    # A failed sign-up comes back as 400 with the form re-filled (except passwords).
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)
