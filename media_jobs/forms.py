"""The new-video form: the seed's options (model, quality, with_audio, size, fps),
duration where the model takes one, and an optional image for image-to-video."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from glmweb import images
from media_jobs import catalog
from media_jobs.models import VideoJob
from media_jobs.services import VideoRequest

PROMPT_MAX_CHARS = 512  # the platform's limit
# The platform takes PNG/JPEG sources of at most 5 MB; larger ones are scaled down.
SOURCE_MAX_BYTES = 5 * 1024 * 1024
SOURCE_MAX_SIDE = 4096


def prefill(query: Mapping[str, str]) -> dict[str, str]:
    """Return the form's initial values from a link's query (`?prompt=`): how another
    page, such as a chat answer's "Make a video", opens the form filled in without
    importing this app. The prompt is trimmed to the platform's limit; nothing is
    queued until the user submits."""
    prompt = " ".join(str(query.get("prompt") or "").split())
    return {"prompt": prompt[:PROMPT_MAX_CHARS]} if prompt else {}


class VideoJobForm(forms.Form):
    prompt = forms.CharField(
        label=_("Prompt"),
        required=False,
        max_length=PROMPT_MAX_CHARS,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "maxlength": PROMPT_MAX_CHARS,
                "placeholder": _("A paper boat drifting down a rainy street"),
            }
        ),
        help_text=_("Up to 512 characters. Optional when you add an image."),
    )
    image = forms.FileField(
        label=_("Start from an image (optional)"),
        required=False,
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/png,image/jpeg,image/webp"}
        ),
        help_text=_("PNG, JPEG or WebP; metadata is removed and large images are "
                    "scaled down."),
    )  # fmt: skip
    model = forms.ChoiceField(label=_("Model"))
    quality = forms.ChoiceField(
        label=_("Quality or speed"),
        choices=VideoJob.Quality.choices,
        initial=VideoJob.Quality.SPEED,
        help_text=_("Speed is faster; Quality takes longer and looks better."),
    )
    size = forms.ChoiceField(label=_("Size"))
    fps = forms.TypedChoiceField(
        label=_("Frame rate"),
        coerce=int,
        choices=[(fps, f"{fps} fps") for fps in catalog.FPS_CHOICES],
        initial=30,
    )
    duration = forms.TypedChoiceField(
        label=_("Length"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    with_audio = forms.BooleanField(label=_("Generate sound"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choice = cast("dict[str, forms.ChoiceField]", self.fields)
        choice["model"].choices = [
            (m["code"], m["label"]) for m in catalog.video_models()
        ]
        self.fields["model"].initial = catalog.default_model()
        choice["size"].choices = [(s, s) for s in catalog.all_sizes()]
        self.fields["size"].initial = catalog.DEFAULT_SIZE
        choice["duration"].choices = [("", _("Model default"))] + [
            (d, _("%(seconds)d seconds") % {"seconds": d})
            for d in catalog.all_durations()
        ]

    def clean_image(self) -> images.NormalisedImage | None:
        upload = self.cleaned_data.get("image")
        if not upload:
            return None
        try:
            return images.normalise_image(
                upload,
                formats=frozenset({"PNG", "JPEG", "WEBP"}),
                max_side=SOURCE_MAX_SIDE,
                max_output_bytes=SOURCE_MAX_BYTES,
            )
        except images.ImageRejectedError as exc:
            raise forms.ValidationError(
                exc.user_message(get_language() or "en"), code=exc.code
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("prompt") or "").strip() and not data.get("image"):
            if not self.has_error("image"):
                self.add_error(
                    "prompt", _("Describe the video, or add an image to start from.")
                )
        model = catalog.find_model(data.get("model") or "")
        if model is not None:
            size = data.get("size")
            if size and size not in model["sizes"]:
                self.add_error(
                    "size",
                    _("%(model)s cannot make %(size)s videos. Choose one of: "
                      "%(sizes)s.")
                    % {"model": model["label"], "size": size,
                       "sizes": ", ".join(model["sizes"])},
                )  # fmt: skip
            if data.get("duration") and data["duration"] not in model.get(
                "durations", []
            ):
                if model.get("durations"):
                    self.add_error(
                        "duration",
                        _("%(model)s makes videos of %(choices)s seconds.")
                        % {"model": model["label"],
                           "choices": ", ".join(map(str, model["durations"]))},
                    )  # fmt: skip
                else:
                    data["duration"] = None  # this model takes no duration
        return data

    def video_request(self) -> VideoRequest:
        """Return the validated request (call after is_valid())."""
        data = self.cleaned_data
        return VideoRequest(
            prompt=(data.get("prompt") or "").strip(),
            model=data["model"],
            quality=data["quality"],
            with_audio=bool(data.get("with_audio")),
            size=data["size"],
            fps=data["fps"],
            duration=data.get("duration"),
            image=data.get("image"),
        )
