"""A conversation's reply settings: one definition for every door they come in by.

The websocket's `message.send` options (chat.frames, then chat.turns under the
conversation's lock) and the HTTP API's POST and PATCH (chat.forms) both check values
with validate_settings(); chat.turns and chat.conversations both write them with
apply_settings() (a new conversation starts from initial_settings()). Adding a
setting touches FIELDS and _CLEANERS here, the Conversation model,
serializers.conversation_dict and the page; nothing else.

The rules, where the two doors used to disagree (issue 8):
- JSON types are strict: a number is a JSON number, never a string; a flag is
  `true`/`false`; a prompt is a string or null.
- `model` is matched case-insensitively and stored as the catalog spells it. A
  role-play model (CharGLM, Emohaa) needs a character (`meta`): it may be chosen
  only in a conversation with a character its owner may see (issue 10); any other
  catalog model may be chosen everywhere, character or not.
- `system_prompt` is stripped, and its length counted after stripping, like a
  message's text: surrounding blanks mean nothing to the model, and a prompt of only
  blanks is no prompt. null means none.
- `max_tokens` is at most the max_output of the model the conversation will have: the
  one chosen in the same request, else its current one.
- `web_search`/`thinking` set to true for a model without them is refused; changing
  to such a model turns the flag off instead (apply_settings), as the page expects.
- null puts temperature, top_p and max_tokens back to the platform's default.
Wording comes out in the active language (Django's catalogue plus chat's zh-Hans).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django import forms
from django.conf import settings
from django.core import validators
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chat import accept_sql, catalog
from chat.characters import access
from chat.models import Conversation

# The settings a conversation's replies use, in the order errors are reported.
FIELDS = (
    "model",
    "system_prompt",
    "temperature",
    "top_p",
    "max_tokens",
    "web_search",
    "thinking",
)
FLAGS = ("web_search", "thinking")
# Why a flag cannot be on for a model.
_UNSUPPORTED = {
    "web_search": _("%(model)s cannot search the web."),
    "thinking": _("%(model)s has no thinking mode."),
}

# Shown for a value of the wrong JSON type. Django's own wording where it has one,
# so its translations apply.
_NOT_A_NUMBER = forms.FloatField.default_error_messages["invalid"]
_NOT_A_WHOLE_NUMBER = forms.IntegerField.default_error_messages["invalid"]
FLAG_INVALID = _("Must be true or false.")


class SettingsInvalid(Exception):
    """Settings were refused; `errors` maps each bad field to its ValidationError.

    `field` and `error` name the first one (in FIELDS order): the websocket
    reports one refusal per frame.
    """

    def __init__(self, errors: dict[str, ValidationError]) -> None:
        super().__init__(errors)
        self.errors = errors
        self.field, self.error = next(iter(errors.items()))


def defaults() -> dict[str, Any]:
    """Return the settings of a conversation created without any."""
    return {
        "model": catalog.default_model(),
        "system_prompt": "",
        "temperature": None,
        "top_p": None,
        "max_tokens": None,
        "web_search": False,
        "thinking": False,
    }


def _model(value: Any) -> str:
    if value is None or value == "":
        raise ValidationError(
            forms.Field.default_error_messages["required"], code="required"
        )
    model = catalog.get_model(value) if isinstance(value, str) else None
    if model is None:
        raise ValidationError(
            forms.ChoiceField.default_error_messages["invalid_choice"],
            code="invalid_choice",
            params={"value": str(value)[:64]},
        )
    return model.code


def _roleplay_error(model: catalog.ChatModel) -> ValidationError:
    return ValidationError(
        _(
            "%(model)s is a role-play model: it needs a character. Start a chat "
            "from a character to use it, or choose another model."
        ),
        code="needs_character",
        params={"model": model.label},
    )


def _system_prompt(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError(validators.RegexValidator.message, code="invalid")
    text = value.strip()
    validators.MaxLengthValidator(settings.GLMWEB_MAX_SYSTEM_PROMPT_CHARS)(text)
    # PostgreSQL text cannot hold NUL.
    validators.ProhibitNullCharactersValidator()(text)
    return text


def _number(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
    ):
        raise ValidationError(_NOT_A_NUMBER, code="invalid")
    return float(value)


def _temperature(value: Any) -> float | None:
    if value is None:
        return None
    number = _number(value)
    validators.MinValueValidator(catalog.TEMPERATURE_RANGE[0])(number)
    validators.MaxValueValidator(catalog.TEMPERATURE_RANGE[1])(number)
    return number


def _top_p(value: Any) -> float | None:
    if value is None:
        return None
    number = _number(value)
    low, high = catalog.TOP_P_RANGE
    if not low < number <= high:
        raise ValidationError(
            _("Must be greater than 0 and at most 1."), code="out_of_range"
        )
    return number


def _max_tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(_NOT_A_WHOLE_NUMBER, code="invalid")
    validators.MinValueValidator(1)(value)
    return value


def _flag(value: Any) -> bool:
    if value is True or value is False:
        return value
    raise ValidationError(FLAG_INVALID, code="invalid")


_CLEANERS: dict[str, Callable[[Any], Any]] = {
    "model": _model,
    "system_prompt": _system_prompt,
    "temperature": _temperature,
    "top_p": _top_p,
    "max_tokens": _max_tokens,
    "web_search": _flag,
    "thinking": _flag,
}


def _model_errors(
    values: dict[str, Any], model: catalog.ChatModel
) -> Iterator[tuple[str, ValidationError]]:
    max_tokens = values.get("max_tokens")
    if max_tokens is not None and max_tokens > model.max_output:
        yield (
            "max_tokens",
            ValidationError(
                _("%(model)s writes at most %(limit)d tokens per reply."),
                code="max_value",
                params={"model": model.label, "limit": model.max_output},
            ),
        )
    for flag in FLAGS:
        if values.get(flag) and not model.supports(flag):
            yield (
                flag,
                ValidationError(
                    _UNSUPPORTED[flag],
                    code="unsupported",
                    params={"model": model.label},
                ),
            )


def validate_settings(
    raw: Mapping[str, Any],
    *,
    current_model: str | None,
    has_character: bool | None = False,
) -> dict[str, Any]:
    """Return the settings present in `raw`, cleaned (keys outside FIELDS are left
    to the caller); raise SettingsInvalid naming every bad field.

    The rules that depend on the model (max_tokens, web_search, thinking) use the
    model chosen in `raw`, else `current_model`; with neither (a websocket frame not
    yet matched to its conversation) they wait for the caller that knows it.
    A role-play model may be chosen only when `has_character` (the conversation has
    a character its owner may see: has_character() below); None means not known
    yet (that frame again), and the check waits too.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, ValidationError] = {}
    for name in FIELDS:
        if name in raw:
            try:
                cleaned[name] = _CLEANERS[name](raw[name])
            except ValidationError as error:
                errors[name] = error
    chosen = catalog.get_model(cleaned["model"]) if "model" in cleaned else None
    if chosen is not None and chosen.needs_meta and has_character is False:
        errors["model"] = _roleplay_error(chosen)
    code = cleaned.get("model") or (None if "model" in errors else current_model)
    if code is not None:
        for name, refusal in _model_errors(cleaned, catalog.describe(code)):
            errors.setdefault(name, refusal)
    if errors:
        raise SettingsInvalid({name: errors[name] for name in FIELDS if name in errors})
    return cleaned


def has_character(conversation: Conversation | None) -> bool:
    """Return whether `conversation` has a character its owner may see: what lets
    it choose a role-play model (no query; None is a conversation being created)."""
    if conversation is None:
        return False
    return access.conversation_character(conversation) is not None


def _settle(
    current: dict[str, Any], values: Mapping[str, Any], *, new: bool = False
) -> dict[str, Any]:
    settled = {**current, **{k: v for k, v in values.items() if k in FIELDS}}
    settled["system_prompt"] = settled["system_prompt"] or ""
    # validate_settings refuses an explicit true; this turns a flag off when the
    # model changes to one without it (a request with it would fail or be ignored).
    model = catalog.describe(settled["model"])
    if "thinking" not in values and (
        new or "model" in values and settled["model"] != current["model"]
    ):
        # Models that can think do so unless told not to (zhipu-api.md §2.1): a new
        # conversation, or one switched to such a model, starts with the toggle as
        # the platform would act, not off. An explicit choice always wins.
        settled["thinking"] = model.supports("thinking")
    for flag in FLAGS:
        if settled[flag] and not model.supports(flag):
            settled[flag] = False
    return settled


def initial_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return a new conversation's settings: defaults() with validated `values` over
    them."""
    return _settle(defaults(), values, new=True)


def apply_settings(
    conversation: Conversation, values: Mapping[str, Any], *, activity: bool = False
) -> list[str]:
    """Write validated settings `values` on `conversation` (one UPDATE at most) and
    return the names of those that changed.

    With `activity` (a sent message) `updated_at` moves too, so the conversation goes
    up the sidebar, and the row is written even when no setting changed; otherwise
    `updated_at` stays and nothing is written when nothing changed.
    """
    current = {name: getattr(conversation, name) for name in FIELDS}
    settled = _settle(current, values)
    changed = [name for name in FIELDS if settled[name] != current[name]]
    for name in changed:
        setattr(conversation, name, settled[name])
    if activity and not changed:
        # Every sent message comes here: its UPDATE written once (chat.accept_sql).
        accept_sql.touch(conversation, timezone.now())
    elif activity:
        conversation.save(update_fields=[*changed, "updated_at"])
    elif changed:
        # A queryset update leaves updated_at alone: a settings change is not
        # activity and must not move the conversation up the "most recent" order.
        Conversation.objects.filter(pk=conversation.pk).update(
            **{name: settled[name] for name in changed}
        )
    return changed
