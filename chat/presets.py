"""System-prompt presets: the built-in ones (the seed's) and each user's own.

The built-in prompts are the seed's `system_prompts` (coding, writing, analysis). Their
names and prompts go through gettext: msgids are English, and the zh-Hans catalogue
holds the seed's Chinese text verbatim, so a Chinese-speaking user gets exactly the
seed's prompt and an English-speaking one its translation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chat.models import PromptPreset


@dataclass(frozen=True)
class BuiltinPreset:
    key: str
    name: Promise
    system_prompt: Promise


BUILTIN_PRESETS: tuple[BuiltinPreset, ...] = (
    BuiltinPreset(
        "coding",
        _("Coding assistant"),
        _(
            "You are a professional programming assistant, proficient in Python, "
            "JavaScript and Go."
        ),
    ),
    BuiltinPreset(
        "writing",
        _("Writing assistant"),
        _(
            "You are a creative writing assistant, good at writing stories and "
            "articles."
        ),
    ),
    BuiltinPreset(
        "analysis",
        _("Data analyst"),
        _("You are a data analysis expert, good at drawing insights from data."),
    ),
)


class PresetDict(TypedDict):
    id: str | int
    key: str | None
    name: str
    system_prompt: str
    builtin: bool


class PresetNameTakenError(Exception):
    """The user already has a preset with this name."""


def builtin_presets() -> list[PresetDict]:
    """Return the built-in presets in the active language."""
    return [
        {
            "id": f"builtin:{preset.key}",
            "key": preset.key,
            "name": str(preset.name),
            "system_prompt": str(preset.system_prompt),
            "builtin": True,
        }
        for preset in BUILTIN_PRESETS
    ]


def preset_dict(preset: PromptPreset) -> PresetDict:
    """Return a user's preset as the API sends it."""
    return {
        "id": preset.pk,
        "key": None,
        "name": preset.name,
        "system_prompt": preset.system_prompt,
        "builtin": False,
    }


def own_presets(user: User) -> list[PromptPreset]:
    """Return `user`'s own presets, by name."""
    return list(PromptPreset.objects.filter(owner=user).order_by("name", "pk"))


def all_presets(user: User) -> dict[str, list[PresetDict]]:
    """Return `{"builtin": [...], "own": [...]}` for the page and the API."""
    return {
        "builtin": builtin_presets(),
        "own": [preset_dict(preset) for preset in own_presets(user)],
    }


def get_own_preset(user: User, preset_id: int) -> PromptPreset:
    """Return `user`'s preset `preset_id`; Http404 if missing or someone else's."""
    return get_object_or_404(PromptPreset, pk=preset_id, owner=user)


def create_preset(user: User, *, name: str, system_prompt: str) -> PromptPreset:
    """Save a new preset for `user`. Raises PresetNameTakenError on a duplicate
    name."""
    try:
        with transaction.atomic():
            return PromptPreset.objects.create(
                owner=user, name=name, system_prompt=system_prompt
            )
    except IntegrityError:
        raise PresetNameTakenError(name) from None


def update_preset(
    preset: PromptPreset,
    *,
    name: str | None = None,
    system_prompt: str | None = None,
) -> PromptPreset:
    """Change a preset's name and/or prompt. Raises PresetNameTakenError."""
    if name is not None:
        preset.name = name
    if system_prompt is not None:
        preset.system_prompt = system_prompt
    try:
        with transaction.atomic():
            preset.save(update_fields=["name", "system_prompt", "updated_at"])
    except IntegrityError:
        raise PresetNameTakenError(preset.name) from None
    return preset


def delete_preset(preset: PromptPreset) -> None:
    """Delete a user's preset (conversations keep the prompt text they copied)."""
    preset.delete()
