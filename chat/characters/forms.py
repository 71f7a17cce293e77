"""The character, persona, card import and start-chat forms.

Lengths and counts are the limits in chat.characters.models, the same ones the card
importer holds cards to.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from chat.characters import cards, models, services
from chat.characters.models import Character, Persona
from glmweb import images

# Alternate greetings are typed in one box, separated by a line holding only this.
GREETING_SEPARATOR = "---"


def _language() -> str:
    return get_language() or "en"


def split_greetings(text: str) -> list[str]:
    """Return the greetings typed in one box, split at separator lines."""
    greetings: list[str] = []
    current: list[str] = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if line.strip() == GREETING_SEPARATOR:
            greetings.append("\n".join(current).strip())
            current = []
        else:
            current.append(line)
    greetings.append("\n".join(current).strip())
    return [g for g in greetings if g]


def join_greetings(greetings: list[str]) -> str:
    """Return greetings as the box shows them."""
    return f"\n{GREETING_SEPARATOR}\n".join(greetings)


def _text_field(label: Any, rows: int = 4, **kwargs: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=models.TEXT_MAX_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": rows}),
        **kwargs,
    )


class CharacterForm(forms.ModelForm):
    avatar_upload = forms.FileField(
        label=_("Avatar"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp,image/gif"}
        ),
        help_text=_("PNG, JPEG, WebP or GIF; metadata is removed."),
    )
    remove_avatar = forms.BooleanField(label=_("Remove the avatar"), required=False)
    description = _text_field(
        _("Description"), 6, help_text=_("Who the character is: sent as bot_info.")
    )
    personality = _text_field(_("Personality"), 3)
    scenario = _text_field(_("Scenario"), 3)
    user_info = forms.CharField(
        label=_("Your role in the story"),
        required=False,
        max_length=models.USER_INFO_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Used when you chat without a persona."),
    )
    greeting = _text_field(
        _("Greeting"), 4, help_text=_("The character's first message.")
    )
    alternate_greetings_text = forms.CharField(
        label=_("Alternate greetings"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One after another, separated by a line holding only ---."),
    )
    example_dialogue = _text_field(_("Example dialogue"), 4)
    tags_text = forms.CharField(
        label=_("Tags"),
        required=False,
        help_text=_("Separated by commas."),
    )
    default_model = forms.ChoiceField(label=_("Model"))

    class Meta:
        model = Character
        fields = [
            "name",
            "description",
            "personality",
            "scenario",
            "user_name",
            "user_info",
            "greeting",
            "example_dialogue",
            "default_model",
            "visibility",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice = self.fields["default_model"]
        assert isinstance(choice, forms.ChoiceField)
        choice.choices = [(m.code, m.label) for m in services.character_model_choices()]
        if not self.instance.pk:
            self.initial.setdefault("default_model", services.default_character_model())
        else:
            self.initial["alternate_greetings_text"] = join_greetings(
                list(self.instance.alternate_greetings or [])
            )
            self.initial["tags_text"] = ", ".join(self.instance.tags or [])
        self.avatar: images.NormalisedImage | None = None
        self.order_fields(
            ["name", "avatar_upload", "remove_avatar", "description", "personality",
             "scenario", "greeting", "alternate_greetings_text", "example_dialogue",
             "user_name", "user_info", "tags_text", "default_model", "visibility"]
        )  # fmt: skip
        if not self.instance.avatar:
            del self.fields["remove_avatar"]

    def clean_avatar_upload(self) -> Any:
        upload = self.cleaned_data.get("avatar_upload")
        if upload:
            try:
                self.avatar = services.normalise_avatar(upload)
            except images.ImageRejectedError as exc:
                raise ValidationError(
                    exc.user_message(_language()), code=exc.code
                ) from None
        return upload

    def clean_alternate_greetings_text(self) -> list[str]:
        greetings = split_greetings(
            self.cleaned_data.get("alternate_greetings_text", "")
        )
        if len(greetings) > models.MAX_ALTERNATE_GREETINGS:
            raise ValidationError(
                _("At most %(limit)d alternate greetings."),
                code="too_many",
                params={"limit": models.MAX_ALTERNATE_GREETINGS},
            )
        for greeting in greetings:
            if len(greeting) > models.TEXT_MAX_CHARS:
                raise ValidationError(
                    _("Each greeting may have at most %(limit)d characters."),
                    code="too_long",
                    params={"limit": models.TEXT_MAX_CHARS},
                )
        return greetings

    def clean_tags_text(self) -> list[str]:
        tags: list[str] = []
        for tag in (self.cleaned_data.get("tags_text") or "").split(","):
            tag = tag.strip()
            if tag and tag not in tags:
                tags.append(tag)
        if len(tags) > models.MAX_TAGS:
            raise ValidationError(
                _("At most %(limit)d tags."),
                code="too_many",
                params={"limit": models.MAX_TAGS},
            )
        if any(len(tag) > models.TAG_MAX_CHARS for tag in tags):
            raise ValidationError(
                _("Each tag may have at most %(limit)d characters."),
                code="too_long",
                params={"limit": models.TAG_MAX_CHARS},
            )
        return tags

    def character_fields(self) -> dict[str, Any]:
        """Return the validated values as Character fields (call after is_valid())."""
        data = self.cleaned_data
        fields = {name: data[name] for name in self.Meta.fields}
        fields["alternate_greetings"] = data["alternate_greetings_text"]
        fields["tags"] = data["tags_text"]
        return fields


class PersonaForm(forms.ModelForm):
    class Meta:
        model = Persona
        fields = ["name", "description", "is_default"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class CardImportForm(forms.Form):
    card = forms.FileField(
        label=_("Character card"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".json,.png,application/json,image/png"}
        ),
        help_text=_("A Character Card V2 or V3: a .json file or a .png card."),
    )

    def clean_card(self) -> bytes:
        upload = self.cleaned_data["card"]
        if upload.size > cards.MAX_CARD_BYTES:
            raise ValidationError(
                cards.CardRejectedError(
                    "too_large",
                    size=images.human_size(upload.size),
                    limit=images.human_size(cards.MAX_CARD_BYTES),
                ).user_message(_language()),
                code="too_large",
            )
        upload.seek(0)
        return bytes(upload.read(cards.MAX_CARD_BYTES + 1))


class StartChatForm(forms.Form):
    persona = forms.ModelChoiceField(
        label=_("Play as"),
        queryset=Persona.objects.none(),
        required=False,
        empty_label=_("(the character's default role)"),
    )

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["persona"]
        assert isinstance(field, forms.ModelChoiceField)
        # Only the user's own personas: another user's id is simply not a choice.
        field.queryset = Persona.objects.filter(owner=owner)
        default = services.default_persona(owner)
        if default is not None:
            self.initial.setdefault("persona", default.pk)
