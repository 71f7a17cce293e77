"""Celery tasks of the chat app: housekeeping only (replies run in the web process)."""

from __future__ import annotations

from celery import shared_task


@shared_task
def purge_deleted_conversations() -> int:
    """Delete for good the conversations deleted longer ago than the retention."""
    from chat import conversations

    return conversations.purge_deleted_conversations()


@shared_task
def purge_unsent_attachments() -> int:
    """Delete attachments never sent within GLMWEB_UNSENT_ATTACHMENT_HOURS."""
    from chat import attachments

    return attachments.purge_unsent()
