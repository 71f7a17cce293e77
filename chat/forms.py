"""Validation of what the chat API accepts: conversation settings, renames, presets.

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

from chat import catalog
from chat.models import Conversation


class JSONBooleanField(forms.Field):
    """A JSON `true` or `false`; anything else (strings, numbers, null) is refused."""

    widget = forms.HiddenInput
    default_error_messages = {"invalid": _("Must be true or false.")}

    def to_python(self, value: Any) -> bool:
        if value is True or value is False:
            return value
        raise ValidationError(self.error_messages["invalid"], code="invalid")

    def validate(self, value: Any) -> None:
        # `False` is a value here, not an empty field.
        return None


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


class ConversationForm(_PartialForm):
    """A conversation's settings, as created (POST) or changed (PATCH).

    Ranges are the platform's: temperature in [0, 1], top_p in (0, 1], max_tokens from
    1 to the model's max_output (chat.catalog). null means "the platform's default"
    for the three sampling settings.
    """

    title = forms.CharField(max_length=200, required=False)
    pinned = JSONBooleanField(required=False)
    archived = JSONBooleanField(required=False)
    model = forms.ChoiceField(required=False)
    system_prompt = forms.CharField(required=False, strip=False)
    temperature = forms.FloatField(
        required=False,
        min_value=catalog.TEMPERATURE_RANGE[0],
        max_value=catalog.TEMPERATURE_RANGE[1],
    )
    top_p = forms.FloatField(required=False, max_value=catalog.TOP_P_RANGE[1])
    max_tokens = forms.IntegerField(required=False, min_value=1)
    web_search = JSONBooleanField(required=False)
    thinking = JSONBooleanField(required=False)

    def __init__(
        self,
        data: dict[str, Any],
        *,
        partial: bool = False,
        conversation: Conversation | None = None,
    ) -> None:
        super().__init__(data, partial=partial)
        self.conversation = conversation
        if "model" in self.fields:
            self.fields["model"].choices = [
                (model.code, model.label) for model in catalog.list_models()
            ]
        if "system_prompt" in self.fields:
            self.fields[
                "system_prompt"
            ].max_length = settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS
            self.fields["system_prompt"].validators.append(
                MaxLengthValidator(settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS)
            )
        if partial and "title" in self.fields:
            # Renaming to nothing is refused; the title can only be replaced.
            self.fields["title"].required = True
            self.fields["title"].error_messages["required"] = _("Enter a title.")
        if partial and "model" in self.fields:
            self.fields["model"].required = True

    def clean_top_p(self) -> float | None:
        value = self.cleaned_data.get("top_p")
        if value is not None and value <= catalog.TOP_P_RANGE[0]:
            raise ValidationError(
                _("Must be greater than 0 and at most 1."), code="min_value"
            )
        return value

    def _model(self) -> catalog.ChatModel:
        code = self.cleaned_data.get("model") or (
            self.conversation.model if self.conversation else catalog.default_model()
        )
        return catalog.describe(code)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        model = self._model()
        max_tokens = cleaned.get("max_tokens")
        if max_tokens is not None and max_tokens > model.max_output:
            self.add_error(
                "max_tokens",
                ValidationError(
                    _("%(model)s writes at most %(limit)d tokens per reply."),
                    code="max_value",
                    params={"model": model.label, "limit": model.max_output},
                ),
            )
        if cleaned.get("web_search") and not model.supports("web_search"):
            self.add_error(
                "web_search",
                ValidationError(
                    _("%(model)s cannot search the web."),
                    code="unsupported",
                    params={"model": model.label},
                ),
            )
        if cleaned.get("thinking") and not model.supports("thinking"):
            self.add_error(
                "thinking",
                ValidationError(
                    _("%(model)s has no thinking mode."),
                    code="unsupported",
                    params={"model": model.label},
                ),
            )
        return cleaned


class PresetForm(_PartialForm):
    """A user's own system-prompt preset."""

    name = forms.CharField(max_length=80)
    system_prompt = forms.CharField(strip=False)

    def __init__(self, data: dict[str, Any], *, partial: bool = False) -> None:
        super().__init__(data, partial=partial)
        if "system_prompt" in self.fields:
            limit = settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS
            self.fields["system_prompt"].max_length = limit
            self.fields["system_prompt"].validators.append(MaxLengthValidator(limit))

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
