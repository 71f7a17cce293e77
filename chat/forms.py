"""Validation of what the chat API accepts: conversations, renames, presets.

The forms take decoded JSON objects. With `partial=True` (PATCH) only the keys
present are validated and returned. Error messages come out in the active language
(Django's own catalogue plus chat's zh-Hans one).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from chat import catalog, conversation_settings
from chat.models import Conversation


class JSONBooleanField(forms.Field):
    """A JSON `true` or `false`; anything else (strings, numbers, null) is refused."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": conversation_settings.FLAG_INVALID}

    def to_python(self, value: Any) -> bool:
        if value is True or value is False:
            return value
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value: Any) -> None:
        # `False` is a value here, not an empty field.
        return None


class JSONCharField(forms.CharField):
    """A JSON string (null: empty); numbers, flags, lists and objects are refused,
    not saved as their Python text ("['a']", "True")."""

    def to_python(self, value: Any) -> str | None:
        if value is not None and not isinstance(value, str):
            raise ValidationError(_("Enter a text."), code="invalid")
        return super().to_python(value)


class _PartialForm(forms.Form):
    """A form over a JSON object; with `partial`, fields absent from it are dropped."""

    def __init__(self, data: dict[str, Any], *, partial: bool = False) -> None:
        super().__init__(data)
        if partial:
            for name in list(self.fields):
                if name not in data:
                    del self.fields[name]

    def cleaned_changes(self) -> dict[str, Any]:
        """Return the cleaned values of the fields that were validated."""
        return {name: self.cleaned_data[name] for name in self.fields}


class _Setting(forms.Field):
    """A conversation setting as the JSON had it; ConversationForm.clean() checks it
    with the rule the websocket uses too (chat.conversation_settings)."""

    widget = forms.HiddenInput


class ConversationForm(_PartialForm):
    """A conversation as created (POST) or changed (PATCH): its title, pin and archive
    flags (checked here) and its settings (checked by
    conversation_settings.validate_settings against the conversation's model, or the
    default model for a new one).
    """

    title = JSONCharField(max_length=200, required=False)
    pinned = JSONBooleanField(required=False)
    archived = JSONBooleanField(required=False)

    def __init__(
        self,
        data: dict[str, Any],
        *,
        partial: bool = False,
        conversation: Conversation | None = None,
    ) -> None:
        super().__init__(data, partial=partial)
        self.conversation = conversation
        self.settings: dict[str, Any] = {}
        for name in conversation_settings.FIELDS:
            if name in data:
                self.fields[name] = _Setting(required=False)
        if partial and "title" in self.fields:
            # Renaming to nothing is refused; the title can only be replaced.
            self.fields["title"].required = True
            self.fields["title"].error_messages["required"] = _("Enter a title.")

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        raw = {
            name: self.data[name]
            for name in conversation_settings.FIELDS
            if name in self.data
        }
        current = (
            self.conversation.model if self.conversation else catalog.default_model()
        )
        try:
            self.settings = conversation_settings.validate_settings(
                raw,
                current_model=current,
                has_character=conversation_settings.has_character(self.conversation),
            )
        except conversation_settings.SettingsInvalid as invalid:
            for name, error in invalid.errors.items():
                self.add_error(name, error)
        return cleaned

    def cleaned_changes(self) -> dict[str, Any]:
        """Return the cleaned title/pinned/archived present and the settings."""
        return {
            **{
                name: self.cleaned_data[name]
                for name in self.fields
                if name not in conversation_settings.FIELDS
            },
            **self.settings,
        }


class PresetForm(_PartialForm):
    """A user's own system-prompt preset."""

    name = JSONCharField(max_length=80)
    system_prompt = JSONCharField(strip=False)

    def __init__(self, data: dict[str, Any], *, partial: bool = False) -> None:
        super().__init__(data, partial=partial)
        field = self.fields.get("system_prompt")
        if isinstance(field, forms.CharField):
            limit = settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS
            field.max_length = limit
            field.validators.append(MaxLengthValidator(limit))

    def clean_system_prompt(self) -> str:
        value = self.cleaned_data["system_prompt"]
        if not value.strip():
            raise ValidationError(
                forms.Field.default_error_messages["required"], code="required"
            )
        return value


def error_fields(form: forms.Form) -> dict[str, list[str]]:
    """Return a form's errors as {field: [messages]} ("__all__" for the form's)."""
    return {
        field: [str(message) for message in messages]
        for field, messages in form.errors.items()
    }
