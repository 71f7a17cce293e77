"""One of every object a user can own, for the access-control and fuzzing suites, a
snapshot of every row so a test can prove that nothing changed, and every URL of the
URLconf with the keywords it captures."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from chat import attachments
from chat.characters import services as character_services
from chat.models import (
    Attachment,
    Character,
    Conversation,
    Message,
    Persona,
    PromptPreset,
    Summary,
)
from media_jobs.models import VideoJob

# The apps whose rows a request could change (users too: an id in a body must never
# touch another account).
SNAPSHOT_APPS = ("chat", "media_jobs", "auth")


def png(colour: tuple[int, int, int] = (10, 200, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, format="PNG")
    return out.getvalue()


@dataclass
class World:
    """A user's objects, by the URL keyword (or frame field) that names them."""

    owner: Any
    conversation: Conversation
    agent_conversation: Conversation
    deleted_conversation: Conversation
    messages: list[Message]
    attachment: Attachment
    sent_attachment: Attachment
    preset: PromptPreset
    persona: Persona
    character: Character
    job: VideoJob
    ids: dict[str, list[object]] = field(default_factory=dict)


def build_world(owner: Any, secret: str = "alice's secret") -> World:
    """Create one of each object for `owner`: a role-play conversation with two
    versions of its answer, a summary and an attachment on a message, an agent
    conversation, a deleted one, an unsent attachment, a preset, a persona, a private
    character with an avatar and a finished video job with all three files."""
    character = character_services.create_character(
        owner,
        {"name": f"{secret} character", "default_model": "charglm-4"},
        character_services.normalise_avatar(png()),
    )
    persona = Persona.objects.create(owner=owner, name="Al", description=secret)
    conversation = Conversation.objects.create(
        owner=owner,
        title=secret,
        model="charglm-4",
        character=character,
        persona=persona,
    )
    question = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, content=secret
    )
    first = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content="first answer",
        status=Message.Status.COMPLETE,
        model="charglm-4",
        reply_to=question,
        superseded=True,
    )
    second = Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        content="second answer",
        status=Message.Status.COMPLETE,
        model="charglm-4",
        reply_to=question,
    )
    Summary.objects.create(
        conversation=conversation, content=secret, covers_until=question
    )
    sent = attachments.store_upload(
        owner, SimpleUploadedFile("sent.png", png((1, 2, 3))), "sent.png"
    )
    Attachment.objects.filter(pk=sent.pk).update(message=question)
    unsent = attachments.store_upload(
        owner, SimpleUploadedFile("unsent.png", png((200, 2, 3))), "unsent.png"
    )
    agent = Conversation.objects.create(
        owner=owner, title=f"{secret} agent", model="glm-4-assistant"
    )
    agent.assistant_id = "65940acff94777010aa6b796"
    agent.save()
    deleted = Conversation.objects.create(
        owner=owner, title=f"{secret} deleted", model="glm-4-flash"
    )
    deleted.deleted_at = timezone.now()
    deleted.save()
    preset = PromptPreset.objects.create(owner=owner, name=secret, system_prompt="p")
    job = VideoJob.objects.create(
        owner=owner,
        prompt=secret,
        model="cogvideox-3",
        size="1280x720",
        status=VideoJob.Status.SUCCEEDED,
        succeeded_at=timezone.now(),
    )
    job.video.save("v.mp4", ContentFile(b"\x00\x00\x00\x18ftypmp42"), save=False)
    job.cover.save("c.png", ContentFile(png()), save=False)
    job.source_image.save("s.png", ContentFile(png()), save=False)
    job.save()
    failed = VideoJob.objects.create(
        owner=owner,
        prompt=secret,
        model="cogvideox-3",
        size="1280x720",
        status=VideoJob.Status.FAILED,
        failed_at=timezone.now(),
    )
    world = World(
        owner=owner,
        conversation=conversation,
        agent_conversation=agent,
        deleted_conversation=deleted,
        messages=[question, first, second],
        attachment=unsent,
        sent_attachment=sent,
        preset=preset,
        persona=persona,
        character=character,
        job=job,
    )
    world.ids = {
        "conversation_id": [conversation.pk, agent.pk, deleted.pk],
        "preset_id": [preset.pk],
        "attachment_id": [unsent.pk, sent.pk],
        "persona_id": [persona.pk],
        "character_id": [character.pk],
        "job_id": [job.pk, failed.pk],
        "message_id": [m.pk for m in world.messages],
    }
    return world


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Return every row of every model of SNAPSHOT_APPS (a new model is included
    without being named here)."""
    rows: dict[str, list[dict[str, Any]]] = {}
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def all_urls(
    resolver: URLResolver, namespace: str = ""
) -> Iterator[tuple[str, set[str]]]:
    """Yield (namespaced name, the keywords its route captures) for every URL."""
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = (
                    f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                )
            captured = _captured(entry)
            for name, keywords in all_urls(entry, inner):
                yield name, keywords | captured
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace else str(entry.name)
            yield name, _captured(entry)


def _captured(entry: URLPattern | URLResolver) -> set[str]:
    pattern: Any = entry.pattern
    if hasattr(pattern, "converters"):
        return set(pattern.converters)
    return set(pattern.regex.groupindex)


def urls_with_arguments() -> dict[str, set[str]]:
    """Return {namespaced name: captured keywords} of every URL that takes any."""
    return {name: kw for name, kw in all_urls(get_resolver()) if kw}
