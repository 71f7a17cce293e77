"""How a job reads on the page and in the status JSON: the explanation of its error,
a summary of its settings, and the times the elapsed clock counts from."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from glmweb.zhipu import wording
from media_jobs import catalog, lifecycle
from media_jobs.models import VideoJob


def explain_error(job: VideoJob) -> str:
    """Return, in the active language, what went wrong with `job` and what to do.

    For a queued job with an error (an upstream refusal it is waiting out), say that
    it will be retried. Empty when there is nothing to explain.
    """
    code = job.error_code
    if not code:
        return ""
    if job.status == VideoJob.Status.QUEUED:
        return _("The platform is busy; sending again shortly (attempt %(n)d).") % {
            "n": job.attempts + 1
        }
    if code == lifecycle.UNCONFIRMED:
        return _(
            "The request reached the platform but its answer was lost, so we cannot "
            "tell whether the video is being made (and billed). It was not sent "
            "again automatically: choose Retry to submit it again."
        )
    if code == lifecycle.DEADLINE:
        minutes = settings.VIDEO_DEADLINE_SECONDS / 60
        return _(
            "The platform did not finish this video within %(minutes)s minutes, so "
            "it was stopped. Choose Retry to try again."
        ) % {"minutes": f"{minutes:g}"}
    if code == lifecycle.UPSTREAM_FAILED:
        return _(
            "The platform could not generate this video. Try another prompt or "
            "other settings."
        )
    if code == "bad_media":
        return _(
            "The finished video could not be saved: the platform's file was not a "
            "valid MP4 or was too large."
        )
    if code == "media_unfetchable":
        # Which address was refused stays in the worker's log (glmweb.zhipu.fetchguard).
        return _(
            "The finished video could not be saved: the platform's file could not "
            "be fetched."
        )
    return wording.user_message(code, None, False, get_language() or "en")


def settings_summary(job: VideoJob) -> str:
    """Return the job's settings in one line ("CogVideoX-3 · 1920x1080 · 30 fps")."""
    model = catalog.find_model(job.model)
    parts = [model["label"] if model else job.model, job.size, f"{job.fps} fps"]
    parts.append(job.get_quality_display())
    if job.duration:
        parts.append(_("%(seconds)d s") % {"seconds": job.duration})
    if job.with_audio:
        parts.append(_("with sound"))
    if job.source_image:
        parts.append(_("from an image"))
    return " · ".join(str(part) for part in parts)


def section(job: VideoJob) -> str:
    """Return where the page lists `job`: the gallery once done, else the queue."""
    return "gallery" if job.status == VideoJob.Status.SUCCEEDED else "queue"
