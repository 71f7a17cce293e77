"""Account URLs, namespaced `accounts:`."""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from glmweb.accounts import connection, preferences, views

app_name = "accounts"

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("preferences/", preferences.save_preferences, name="preferences"),
    path("connection/", connection.connection, name="connection"),
    path(
        "login/",
        views.ThrottledLoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(
            success_url=reverse_lazy("accounts:password_change_done")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]
