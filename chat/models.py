"""Conversations, their messages, their summaries, and users' system-prompt presets.

No network calls here: replies are produced by chat.replies and saved through
chat.services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chat.characters.models import Character, Persona

__all__ = [
    "Character",
    "Conversation",
    "Message",
    "Persona",
    "Preferences",
    "PromptPreset",
    "Summary",
]


class ConversationManager(models.Manager["Conversation"]):
    # A conversation's character and persona come with it in the same query: the
    # reply path, the sidebar and every frame read them, and a lazy load would cost
    # a query per row (or fail outright in async code).
    def get_queryset(self) -> models.QuerySet[Conversation]:
        return super().get_queryset().select_related("character", "persona")


class Conversation(models.Model):
    """One chat thread, owned by one user, with the settings its replies use."""

    # A UUID, so URLs neither reveal how many conversations exist nor can be walked.
    id = models.UUIDField(_("ID"), primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="conversations",
        verbose_name=_("owner"),
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    # Empty means "not titled yet": the first exchange names it automatically.
    title_is_auto = models.BooleanField(_("automatic title"), default=True)
    model = models.CharField(_("model"), max_length=64)
    system_prompt = models.TextField(_("system prompt"), blank=True)
    temperature = models.FloatField(_("temperature"), null=True, blank=True)
    top_p = models.FloatField(_("top_p"), null=True, blank=True)
    max_tokens = models.PositiveIntegerField(_("max tokens"), null=True, blank=True)
    web_search = models.BooleanField(_("web search"), default=False)
    thinking = models.BooleanField(_("thinking"), default=False)
    pinned = models.BooleanField(_("pinned"), default=False)
    archived = models.BooleanField(_("archived"), default=False)
    # Soft delete, so "undo" can bring a deleted conversation back.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # A role-play conversation's character and the user's persona (chat.characters).
    # Deleting either keeps the conversation and its messages.
    character = models.ForeignKey(
        Character,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("character"),
    )
    persona = models.ForeignKey(
        Persona,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("persona"),
    )
    # Which of the character's greetings opens the conversation (0: the main one).
    greeting_index = models.PositiveSmallIntegerField(_("greeting index"), default=0)
    # An agent conversation (glm-4-assistant, chat.assistants): the platform's
    # assistant, and its own conversation id, known after the first reply, so
    # follow-ups continue the same agent conversation. Empty for a chat.
    assistant_id = models.CharField(_("assistant id"), max_length=64, blank=True)
    assistant_conversation_id = models.CharField(
        _("assistant conversation id"), max_length=128, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ConversationManager()

    class Meta:
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        ordering = ["-pinned", "-updated_at"]
        indexes = [
            # The sidebar: one user's live conversations, pinned first, newest first.
            models.Index(
                fields=["owner", "deleted_at", "archived", "-pinned", "-updated_at"],
                name="conversation_sidebar",
            ),
        ]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Message(models.Model):
    """One turn: the user's text or the assistant's reply (with its outcome)."""

    class Role(models.TextChoices):
        USER = "user", _("user")
        ASSISTANT = "assistant", _("assistant")

    class Status(models.TextChoices):
        STREAMING = "streaming", _("streaming")
        COMPLETE = "complete", _("complete")
        STOPPED = "stopped", _("stopped")
        INTERRUPTED = "interrupted", _("interrupted")
        ERROR = "error", _("error")

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="messages",
        verbose_name=_("conversation"),
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    # Made by the browser; a message.send repeated after a reconnect carries the same
    # id and finds the message already there.
    client_id = models.UUIDField(_("browser id"), null=True, blank=True)
    content = models.TextField(_("content"), blank=True)
    # The platform calls it `reasoning_content`; the client (zhipu.ChatDelta) names it
    # `reasoning`, and so does everything in the app from there on.
    reasoning = models.TextField(_("reasoning"), blank=True)
    # Search results a web-search reply cites: [{"title", "link", "media", ...}].
    web_search = models.JSONField(_("web search"), default=list, blank=True)
    # An agent's tool calls, in order (chat.assistants.tool_call_dict): [{"type",
    # "input", "outputs": [{"title", "link", "content", "logs", "image", "error"}]}].
    tool_calls = models.JSONField(_("tool calls"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.COMPLETE
    )
    # The GLMError kind ("rate_limited", "content_blocked", ...) or a chat-level one
    # ("server_restarted"), and the platform's business code: users see wording in their
    # language, made from these when shown. `error_message` is the technical account
    # for the admin; `error_detail` only the platform's own explanation, cleaned to
    # plain short text (zhipu.GLMError.platform_message), which the page shows too.
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_upstream_code = models.CharField(
        _("platform error code"), max_length=16, blank=True
    )
    error_message = models.TextField(_("error message"), blank=True)
    error_detail = models.TextField(_("error detail"), blank=True)
    model = models.CharField(_("model"), max_length=64, blank=True)
    prompt_tokens = models.PositiveIntegerField(
        _("prompt tokens"), null=True, blank=True
    )
    completion_tokens = models.PositiveIntegerField(
        _("completion tokens"), null=True, blank=True
    )
    # Of the completion tokens, those spent thinking, where the platform reports them.
    reasoning_tokens = models.PositiveIntegerField(
        _("reasoning tokens"), null=True, blank=True
    )
    # Why the platform ended a reply ("stop", "length", "tool_calls", "sensitive",
    # "network_error", ...; "" when it never said): a reply cut by max_tokens is
    # complete but says so, and offers to continue (docs/chat.md, "Honest endings").
    finish_reason = models.CharField(_("finish reason"), max_length=32, blank=True)
    # A reply's: the user message it answers. Regenerated answers to the same message
    # are its versions (chat.versions); null on user messages and older replies.
    reply_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reply to"),
    )
    request_id = models.CharField(_("request id"), max_length=128, blank=True)
    # A reply's: the ids of the attachments its context carried (chat.vision), so the
    # page can show which images the model saw.
    seen_attachments = models.JSONField(_("seen attachments"), default=list, blank=True)
    # Regenerate and edit-and-resend hide the turns they replace instead of deleting
    # them: what a user typed or a model generated is never lost.
    superseded = models.BooleanField(_("superseded"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "id"]
        indexes = [
            # A conversation's history in order, without the superseded turns.
            models.Index(
                fields=["conversation", "superseded", "created_at", "id"],
                name="message_history",
            ),
            # Start-up recovery finds replies left streaming by a dead process.
            models.Index(
                fields=["status"],
                name="message_streaming",
                condition=models.Q(status="streaming"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["conversation", "client_id"],
                name="message_unique_client_id",
                condition=models.Q(client_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class Summary(models.Model):
    """A model-written summary that stands in for a conversation's older turns."""

    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.CASCADE,
        related_name="summaries",
        verbose_name=_("conversation"),
    )
    content = models.TextField(_("content"))
    # The summary covers every message up to and including this one.
    covers_until = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("covers until"),
    )
    covered_messages = models.PositiveIntegerField(_("covered messages"), default=0)
    model = models.CharField(_("model"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("summary")
        verbose_name_plural = _("summaries")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"summary of {self.conversation_id} until {self.covers_until_id}"


class PromptPreset(models.Model):
    """A user's own system-prompt preset (the built-in ones live in chat.presets)."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="presets",
        verbose_name=_("owner"),
    )
    name = models.CharField(_("name"), max_length=80)
    system_prompt = models.TextField(_("system prompt"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("prompt preset")
        verbose_name_plural = _("prompt presets")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="preset_unique_name_per_owner"
            )
        ]

    def __str__(self) -> str:
        return self.name


def _attachment_path(instance: Attachment, filename: str) -> str:
    # The name is generated (chat.attachments): never the user's file name.
    return f"chat/attachments/{instance.owner_id}/{filename}"


class Attachment(models.Model):
    """An image or short video a user uploaded to send with a message.

    Uploaded (checked and normalised) before the message is sent, so `message` is null
    until a message.send names it; unsent ones are purged after a day. The file lives
    in Django's storage under a generated name; rows with the same owner and sha256
    share one stored file (chat.attachments deletes a file with its last row).
    """

    class Kind(models.TextChoices):
        IMAGE = "image", _("image")
        VIDEO = "video", _("video")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("owner"),
    )
    message = models.ForeignKey(
        Message,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("message"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=255)
    # A small JPEG/PNG for the history's thumbnails (images only).
    thumbnail = models.FileField(
        _("thumbnail"), upload_to=_attachment_path, max_length=255, blank=True
    )
    # The user's file name, only for alt text and downloads.
    name = models.CharField(_("name"), max_length=200, blank=True)
    content_type = models.CharField(_("content type"), max_length=64)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    bytes = models.PositiveIntegerField(_("size in bytes"))
    duration = models.FloatField(
        _("duration"), null=True, blank=True
    )  # videos, in seconds
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    # Its place among its message's attachments (the order message.send named them).
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["position", "id"]
        indexes = [
            models.Index(fields=["owner", "sha256"], name="attachment_owner_sha"),
            # The purge of unsent uploads.
            models.Index(
                fields=["created_at"],
                name="attachment_unsent",
                condition=models.Q(message__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.name})"


class Preferences(models.Model):
    """A user's look and language, kept with the account so every device and browser
    shows the same (a cookie would be per browser). One row per user, made on the
    first change; no row means the defaults: the system's theme, the browser's
    language."""

    class Theme(models.TextChoices):
        SYSTEM = "system", _("System")
        LIGHT = "light", _("Light")
        DARK = "dark", _("Dark")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preferences",
        verbose_name=_("user"),
    )
    theme = models.CharField(
        _("theme"), max_length=8, choices=Theme.choices, default=Theme.SYSTEM
    )
    # A code from settings.LANGUAGES, or "" for the browser's own choice.
    language = models.CharField(_("language"), max_length=16, blank=True, default="")

    class Meta:
        verbose_name = _("preferences")
        verbose_name_plural = _("preferences")

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"
