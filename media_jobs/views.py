"""Video pages: the form with the user's queue and gallery, a JSON status view the
page polls, cancel / retry / delete, and the owner-only file view.

Every view loads jobs through `_own_job` / `_own_jobs`: someone else's job is a 404,
exactly like a job that does not exist.
"""

from __future__ import annotations

from datetime import UTC, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from glmweb.accounts.requests import AuthenticatedRequest
from media_jobs import catalog, display, files, forms, services
from media_jobs.forms import VideoJobForm
from media_jobs.models import VideoJob

PAGE_JOBS = 60
# The status view re-sends cards changed within this margin before `since`, so a
# change committed just after an earlier answer was computed is never missed.
SINCE_MARGIN = timedelta(seconds=30)


def _own_jobs(request: AuthenticatedRequest) -> QuerySet[VideoJob]:
    return VideoJob.objects.filter(owner=request.user)


def _own_job(request: AuthenticatedRequest, job_id: int) -> VideoJob:
    return get_object_or_404(_own_jobs(request), pk=job_id)


def _card(request: AuthenticatedRequest, job: VideoJob) -> str:
    return render_to_string("media_jobs/_job.html", _card_context(job), request)


def _card_context(job: VideoJob) -> dict[str, object]:
    return {
        "job": job,
        "version": job.updated_at.isoformat(),
        "started": job.queued_at.isoformat(),
        "ended": job.finished_at.isoformat() if job.finished_at else "",
        "summary": display.settings_summary(job),
        "problem": display.explain_error(job),
    }


def _page_config() -> dict[str, object]:
    return {
        "status_url": reverse("media_jobs:status"),
        "poll_ms": int(settings.VIDEO_STATUS_POLL_SECONDS * 1000),
        "models": {
            m["code"]: {"sizes": m["sizes"], "durations": m.get("durations", [])}
            for m in catalog.video_models()
        },
    }


@login_required
def index(request: AuthenticatedRequest) -> HttpResponse:
    """Show the form, the queue and the gallery; POST queues a new job."""
    if request.method == "POST":
        form = VideoJobForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.create_video_job(request.user, form.video_request())
            except services.JobLimitError as exc:
                form.add_error(None, exc.user_message())
            else:
                messages.success(request, _("Your video is queued."))
                return redirect("media_jobs:index")
    else:
        form = VideoJobForm(initial=forms.prefill(request.GET))
    jobs = list(_own_jobs(request)[:PAGE_JOBS])
    cards = [(job, _card_context(job)) for job in jobs]
    return render(
        request,
        "media_jobs/index.html",
        {
            "form": form,
            "queue": [c for job, c in cards if display.section(job) == "queue"],
            "gallery": [c for job, c in cards if display.section(job) == "gallery"],
            "page_config": _page_config(),
            "image_kept_note": form.is_bound and bool(request.FILES.get("image")),
        },
        status=200 if not form.is_bound or form.is_valid() else 400,
    )


@login_required
@require_GET
def status(request: AuthenticatedRequest) -> JsonResponse:
    """Return the user's jobs for the live page.

    `{"now", "active", "ids", "jobs": [{"id", "status", "section", "version",
    "html"}]}`: `ids` lists every job the page should show (so a job deleted in
    another tab disappears); `jobs` carries the cards changed since `?since=` (all
    when absent) with their rendered HTML. `active` says whether any job is still in
    flight, so the page can slow its polling when none is.
    """
    now = timezone.now()
    jobs = _own_jobs(request)[:PAGE_JOBS]
    try:
        since = parse_datetime(request.GET.get("since", "") or "")
    except ValueError:
        since = None
    if since is not None and timezone.is_naive(since):
        since = timezone.make_aware(since, UTC)
    changed = [
        job for job in jobs if since is None or job.updated_at >= since - SINCE_MARGIN
    ]
    return JsonResponse(
        {
            "now": now.isoformat(),
            "active": any(job.in_flight for job in jobs),
            "ids": [job.pk for job in jobs],
            "jobs": [
                {
                    "id": job.pk,
                    "status": job.status,
                    "section": display.section(job),
                    "version": job.updated_at.isoformat(),
                    "html": _card(request, job),
                }
                for job in changed
            ],
        }
    )


@login_required
@require_POST
def cancel(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    """Cancel a job that has not finished."""
    job = _own_job(request, job_id)
    if not services.cancel_video_job(job):
        messages.info(request, _("That video had already finished."))
    return redirect("media_jobs:index")


@login_required
@require_POST
def retry(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    """Queue a failed or cancelled job again."""
    job = _own_job(request, job_id)
    try:
        if not services.retry_video_job(job):
            messages.info(request, _("Only failed or cancelled videos can be retried."))
    except services.JobLimitError as exc:
        messages.error(request, exc.user_message())
    return redirect("media_jobs:index")


@login_required
@require_POST
def delete(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    """Delete a job and its files."""
    services.delete_video_job(_own_job(request, job_id))
    messages.success(request, _("The video was deleted."))
    return redirect("media_jobs:index")


FILE_KINDS = {"video": "video", "cover": "cover", "source": "source_image"}


@login_required
@require_GET
def job_file(request: AuthenticatedRequest, job_id: int, kind: str) -> HttpResponseBase:
    """Send the job's video, cover or source image to its owner only.

    `?download=1` asks the browser to save it instead of showing it.
    """
    job = _own_job(request, job_id)
    field = getattr(job, FILE_KINDS.get(kind, ""), None)
    if not field:
        raise Http404("no such file")
    extension = field.name.rpartition(".")[2]
    return files.serve_file(
        request,
        field,
        download_name=f"glm-video-{job.pk}-{kind}.{extension}",
        attachment=request.GET.get("download") == "1",
    )
