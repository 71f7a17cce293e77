"""The admin speaks the administrator's language: the apps', models', fields', choices'
and actions' labels are marked for translation (test_translations then holds them to
the catalog), and a changelist shows them in zh-Hans."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils.functional import Promise

from chat.models import Conversation, Preferences

OUR_APPS = ("chat", "media_jobs")


def _unmarked_labels() -> list[str]:
    found = []
    for label in OUR_APPS:
        config = apps.get_app_config(label)
        if not isinstance(config.verbose_name, Promise):
            found.append(f"{label}: AppConfig.verbose_name")
        for model in config.get_models():
            name = model.__name__
            for attr in ("verbose_name", "verbose_name_plural"):
                if not isinstance(getattr(model._meta, attr), Promise):
                    found.append(f"{name}.Meta.{attr}")
            for field in model._meta.get_fields():
                if field.auto_created:
                    continue  # Django's own "ID" and reverse relations
                if not isinstance(field.verbose_name, Promise):
                    found.append(f"{name}.{field.name}")
                for _value, choice in getattr(field, "choices", None) or []:
                    if not isinstance(choice, Promise):
                        found.append(f"{name}.{field.name} choice {choice!r}")
            model_admin = admin.site._registry.get(model)
            for action in getattr(model_admin, "actions", None) or []:
                function = getattr(model_admin, action)
                if not isinstance(function.short_description, Promise):
                    found.append(f"{name} admin action {action}")
    return found


def test_admin_labels_are_marked_for_translation():
    unmarked = _unmarked_labels()
    assert not unmarked, "Give these a gettext_lazy label:\n" + "\n".join(unmarked)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("zh-hans", ["对话", "标题", "所有者", "已置顶"]),
        ("en", ["Conversations", "Title", "Owner", "Pinned", "Chat"]),
    ],
)
def test_admin_changelist_shows_labels_in_the_saved_language(
    client, django_user_model, language, labels
):
    superuser = django_user_model.objects.create_superuser("admin", password="pw-1")
    Preferences.objects.create(user=superuser, language=language)
    Conversation.objects.create(owner=superuser, model="glm-4-flash", title="Hi")
    client.force_login(superuser)
    # The browser asks for the other language: the account's choice wins.
    other = "en" if language == "zh-hans" else "zh-hans"
    response = client.get(
        reverse("admin:chat_conversation_changelist"), HTTP_ACCEPT_LANGUAGE=other
    )
    page = response.content.decode()
    assert response.status_code == 200
    missing = [label for label in labels if label not in page]
    assert not missing, f"{language} admin lacks {missing}"
