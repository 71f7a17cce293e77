"""The only settings module.

Every tunable comes from an environment variable of the same name; with nothing set the
app runs on one machine with nothing installed (SQLite, the in-memory channel layer, a
filesystem Celery broker, the GLM simulator). The README's table lists every variable.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(
        f"{name} must be a boolean (1/0, true/false), not {raw!r}"
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_float(name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_json(name: str, default: Any) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be JSON: {exc}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


# --- Mode
# ------------------------------------------------------------------------------

# GLMWEB_PRODUCTION=1 turns on every hardening `manage.py check --deploy` asks for and
# refuses to start without a real SECRET_KEY and ALLOWED_HOSTS, or with DEBUG on. The
# refusals are raised here, at settings import, because that is the one step every
# process (Daphne, runserver, Celery, manage.py) takes before serving anything; a
# system check would stop only the commands that run checks.
PRODUCTION = env_bool("GLMWEB_PRODUCTION", False)
DEBUG = env_bool("DEBUG", not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured(
        "GLMWEB_PRODUCTION=1 refuses DEBUG=1: debug pages show settings and source "
        "to anyone. Unset DEBUG."
    )

VAR_DIR = Path(env_str("GLMWEB_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

_DEV_SECRET_KEY = "django-insecure-dev-only-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
# Django's startproject keys start "django-insecure-": one pasted from a tutorial or a
# repository is as public as our own dev key.
if PRODUCTION and (
    len(SECRET_KEY) < 50
    or SECRET_KEY == _DEV_SECRET_KEY
    or SECRET_KEY.startswith("django-insecure")
):
    raise ImproperlyConfigured(
        "GLMWEB_PRODUCTION=1 needs SECRET_KEY: at least 50 random characters, e.g. "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS",
    [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "GLMWEB_PRODUCTION=1 needs ALLOWED_HOSTS (comma-separated)"
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# --- Applications
# ------------------------------------------------------------------------

INSTALLED_APPS = [
    "daphne",  # first, so runserver serves ASGI (websockets) too
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "glmweb",  # management commands: runsimulator, runapp
    "chat",
    "media_jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "glmweb.accounts.preferences.PreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "glmweb.csp_reports.ReportingEndpointsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "glmweb.urls"
ASGI_APPLICATION = "glmweb.asgi.application"
WSGI_APPLICATION = "glmweb.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "glmweb.context_processors.site",
            ],
        },
    },
]

# --- Database
# ------------------------------------------------------------------------------

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    import dj_database_url

    # Under ASGI every request runs its ORM work in a thread of its own, so connections
    # kept per thread (CONN_MAX_AGE) pile up until PostgreSQL refuses more (99 of 100
    # at 50 users in benchmarks/load_test.py). Django's own answer is psycopg's pool:
    # DATABASE_POOL_MAX_SIZE connections per process, shared by the request threads and
    # the reply engine's, each checked before it is handed out (after a PostgreSQL
    # restart every pooled one is dead: tests/chat/test_faults_postgres.py). A request
    # that finds the pool empty waits for a connection instead of failing.
    # DATABASE_POOL=0 keeps the per-thread connections instead (DATABASE_CONN_MAX_AGE
    # seconds, checked before reuse with DATABASE_CONN_HEALTH_CHECKS).
    DATABASE_POOL = env_bool("DATABASE_POOL", True)
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=(
                0 if DATABASE_POOL else env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
            ),
            conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
        )
    }
    if DATABASE_POOL:
        # Django hands the pool its health check (ConnectionPool.check_connection)
        # when DATABASE_CONN_HEALTH_CHECKS is on.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", 20, minimum=1),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 30, minimum=1),
        }
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// URL")
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at
            # BEGIN so two writers queue on the busy timeout instead of failing with
            # 'database is locked' halfway through a transaction.
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
            # A file, not :memory:, so async tests (other threads) see the same data.
            "TEST": {"NAME": str(VAR_DIR / "test-db.sqlite3")},
            # Keep connections: channels' database_sync_to_async closes "old"
            # connections around every call, and with the default 0 each call opened
            # the file again and re-ran the PRAGMAs (a third of the ORM thread's time
            # in a 200-reply burst, profiled).
            "CONN_MAX_AGE": None,
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis
# ----------------------------------------------------------------------------------

# REDIS_URL carries the chat relay between web processes (chat/replies/relay.py,
# redis-py pub/sub), the cache and, unless CELERY_BROKER_URL says otherwise, the Celery
# broker. No channel layer is configured: the chat consumer gets its frames straight
# from the reply engine (docs/websocket.md). The cache holds the log-in and sign-up
# throttle's counts (glmweb/accounts/throttle.py): per process without Redis, shared
# by every process with it.
REDIS_URL = env_str("REDIS_URL")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Celery
# ----------------------------------------------------------------------------------

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL or "filesystem://"


def filesystem_broker_options(var_dir: Path) -> dict[str, Any]:
    """Return kombu's filesystem transport options for a broker under `var_dir`,
    creating its folders (tests point their own workers at a folder of their own)."""
    folder = var_dir / "celery" / "broker"
    for sub in ("processed", "control"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(folder),
        "data_folder_out": str(folder),
        "processed_folder": str(folder / "processed"),
        # kombu's default is ./control, relative to whatever directory a process runs
        # in.
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = filesystem_broker_options(VAR_DIR)
    # The filesystem transport has no fanout exchange, which remote control needs.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_TASK_IGNORE_RESULT = True  # results live in the database rows the tasks update
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# A task is acknowledged only after it ran, so a killed worker's task is delivered
# again;
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- ZhipuAI platform
# ---------------------------------------------------------------------

ZHIPUAI_API_KEY = env_str("ZHIPUAI_API_KEY")
# Without a key the app talks to the bundled simulator (`manage.py runsimulator`), which
# the run command starts on this port.
GLMWEB_SIMULATOR_PORT = env_int("GLMWEB_SIMULATOR_PORT", 8765, minimum=1)
ZHIPUAI_DEFAULT_BASE_URL = "https://open.bigmodel.cn/api/paas/v4/"
ZHIPUAI_BASE_URL = env_str(
    "ZHIPUAI_BASE_URL",
    ZHIPUAI_DEFAULT_BASE_URL
    if ZHIPUAI_API_KEY
    else f"http://127.0.0.1:{GLMWEB_SIMULATOR_PORT}/api/paas/v4/",
)
if urlsplit(ZHIPUAI_BASE_URL).scheme not in {"http", "https"}:
    raise ImproperlyConfigured("ZHIPUAI_BASE_URL must be an http(s) URL")
# Timeouts default to the platform SDK's (300 s read, 8 s connect); a stream that goes
# silent for ZHIPUAI_STREAM_IDLE_TIMEOUT seconds fails instead of hanging for five
# minutes.
ZHIPUAI_TIMEOUT = env_float("ZHIPUAI_TIMEOUT", 300.0, minimum=0.1)
ZHIPUAI_CONNECT_TIMEOUT = env_float("ZHIPUAI_CONNECT_TIMEOUT", 8.0, minimum=0.1)
ZHIPUAI_STREAM_IDLE_TIMEOUT = env_float(
    "ZHIPUAI_STREAM_IDLE_TIMEOUT", 60.0, minimum=0.1
)
ZHIPUAI_MAX_RETRIES = env_int("ZHIPUAI_MAX_RETRIES", 3, minimum=0)
# aiohttp (through httpx-aiohttp) or httpx's own transport for the async client; see
# docs/performance.md for the measurement behind the default.
# Models used when a caller names none (the chat page passes the conversation's own).
ZHIPUAI_CHAT_MODEL = env_str("ZHIPUAI_CHAT_MODEL", "glm-4-flash")
ZHIPUAI_VIDEO_MODEL = env_str("ZHIPUAI_VIDEO_MODEL", "cogvideox-3")
ZHIPUAI_ASYNC_TRANSPORT = env_str("ZHIPUAI_ASYNC_TRANSPORT", "aiohttp")
if ZHIPUAI_ASYNC_TRANSPORT not in {"aiohttp", "httpx"}:
    raise ImproperlyConfigured("ZHIPUAI_ASYNC_TRANSPORT must be 'aiohttp' or 'httpx'")

# --- Auth, i18n, files
# -------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation."
        "UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Daphne serves no static files itself: WhiteNoise does, straight from the source
# folders in development and from collectstatic's output (hashed names) in production.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "chat:index"
LOGOUT_REDIRECT_URL = "accounts:login"
# Anyone who can reach the site may create an account unless this is off; the first
# administrator comes from `manage.py createsuperuser` (README).
GLMWEB_ALLOW_SIGNUP = env_bool("GLMWEB_ALLOW_SIGNUP", True)

# --- Chat (chat app)
# --------------------------------------------------------------------------

# The model picker's catalog: code, label, capabilities (text, vision, roleplay,
# web_search, thinking), context length and longest reply (max_output, default 4095)
# in tokens. GLMWEB_CHAT_MODELS (a JSON list of
# the same objects) replaces it, e.g. to offer only the models a key may use.
_DEFAULT_CHAT_MODELS = [
    {"code": "glm-4-flash", "label": "GLM-4-Flash", "context": 128000,
     "max_output": 4095, "capabilities": ["text", "web_search"]},
    {"code": "glm-4-air", "label": "GLM-4-Air", "context": 128000,
     "max_output": 4095, "capabilities": ["text", "web_search"]},
    {"code": "glm-4-plus", "label": "GLM-4-Plus", "context": 128000,
     "max_output": 4095, "capabilities": ["text", "web_search"]},
    {"code": "glm-4-long", "label": "GLM-4-Long", "context": 1000000,
     "max_output": 4095, "capabilities": ["text"]},
    {"code": "glm-4.5-flash", "label": "GLM-4.5-Flash", "context": 128000,
     "max_output": 96000, "capabilities": ["text", "web_search", "thinking"]},
    {"code": "glm-4.6", "label": "GLM-4.6", "context": 200000,
     "max_output": 128000, "capabilities": ["text", "web_search", "thinking"]},
    # vision: images per request, whether base64 is taken (else URLs only: needs
    # GLMWEB_PUBLIC_MEDIA_BASE_URL), whether a short video is (zhipu-api.md §2.2, §8).
    {"code": "glm-4v-flash", "label": "GLM-4V-Flash", "context": 8000,
     "max_output": 1024, "capabilities": ["text", "vision"],
     "vision": {"images": 1, "base64": False, "video": False}},
    {"code": "glm-4v-plus", "label": "GLM-4V-Plus", "context": 16000,
     "max_output": 1024, "capabilities": ["text", "vision"],
     "vision": {"images": 5, "base64": True, "video": True}},
    {"code": "glm-4.6v", "label": "GLM-4.6V", "context": 128000,
     "max_output": 32000, "capabilities": ["text", "vision", "thinking"],
     "vision": {"images": 5, "base64": True, "video": True}},
    {"code": "glm-4.5v", "label": "GLM-4.5V", "context": 64000,
     "max_output": 16000, "capabilities": ["text", "vision", "thinking"],
     "vision": {"images": 5, "base64": True, "video": True}},
    {"code": "glm-4.1v-thinking-flash", "label": "GLM-4.1V-Thinking-Flash",
     "context": 64000, "max_output": 16000,
     "capabilities": ["text", "vision", "thinking"],
     "vision": {"images": 5, "base64": True, "video": False}},
    {"code": "glm-5v-turbo", "label": "GLM-5V-Turbo", "context": 200000,
     "max_output": 128000, "capabilities": ["text", "vision", "thinking"],
     "vision": {"images": 5, "base64": True, "video": True}},
    {"code": "charglm-4", "label": "CharGLM-4", "context": 8000,
     "max_output": 4095, "capabilities": ["text", "roleplay"]},
]  # fmt: skip
CHAT_MODELS = env_json("GLMWEB_CHAT_MODELS", _DEFAULT_CHAT_MODELS)

# The longest message a user may send, in characters (after trimming).
GLMWEB_MAX_MESSAGE_CHARS = env_int("GLMWEB_MAX_MESSAGE_CHARS", 32000, minimum=1)
# The longest system prompt (a conversation's or a preset's), in characters.
GLMWEB_MAX_SYSTEM_PROMPT_CHARS = env_int(
    "GLMWEB_MAX_SYSTEM_PROMPT_CHARS", 8000, minimum=1
)
# History sent with each reply: at most the model's context (catalog) minus the reply's
# room, and at most GLMWEB_CONTEXT_MAX_TOKENS when that is above 0 (a cost cap).
# GLMWEB_REPLY_RESERVE_TOKENS is the room kept for the reply when max_tokens is unset.
GLMWEB_CONTEXT_MAX_TOKENS = env_int("GLMWEB_CONTEXT_MAX_TOKENS", 0, minimum=0)
GLMWEB_REPLY_RESERVE_TOKENS = env_int("GLMWEB_REPLY_RESERVE_TOKENS", 4096, minimum=0)
# Older turns are summarised by a model call when they no longer fit, and (the seed
# advises every 3-5 rounds) every GLMWEB_SUMMARY_EVERY_ROUNDS rounds (0: only when they
# no longer fit); the last GLMWEB_SUMMARY_KEEP_ROUNDS rounds are always sent verbatim.
GLMWEB_SUMMARY_EVERY_ROUNDS = env_int("GLMWEB_SUMMARY_EVERY_ROUNDS", 4, minimum=0)
GLMWEB_SUMMARY_KEEP_ROUNDS = env_int("GLMWEB_SUMMARY_KEEP_ROUNDS", 2, minimum=0)
GLMWEB_SUMMARY_MODEL = env_str("GLMWEB_SUMMARY_MODEL", "glm-4-flash")
GLMWEB_SUMMARY_MAX_TOKENS = env_int("GLMWEB_SUMMARY_MAX_TOKENS", 1024, minimum=64)
# A summary that takes longer is abandoned (the reply goes ahead with truncation).
GLMWEB_SUMMARY_TIMEOUT = env_float("GLMWEB_SUMMARY_TIMEOUT", 30.0, minimum=0.1)
# Automatic titles after the first exchange: "model" (a short model-made title, the
# first line of the message if that call fails), "text" (that first line) or "off".
GLMWEB_AUTO_TITLE = env_str("GLMWEB_AUTO_TITLE", "model").lower()
if GLMWEB_AUTO_TITLE not in {"model", "text", "off"}:
    raise ImproperlyConfigured("GLMWEB_AUTO_TITLE must be 'model', 'text' or 'off'")
GLMWEB_TITLE_MODEL = env_str("GLMWEB_TITLE_MODEL", "glm-4-flash")
GLMWEB_TITLE_TIMEOUT = env_float("GLMWEB_TITLE_TIMEOUT", 15.0, minimum=0.1)
# Deleted conversations can be restored (undo) until they are purged after this many
# days by chat.conversations.purge_deleted_conversations().
GLMWEB_DELETED_RETENTION_DAYS = env_int("GLMWEB_DELETED_RETENTION_DAYS", 30, minimum=0)
# A failed CSRF check on the JSON API answers JSON (403, code csrf_failed); other pages
# keep Django's own page.
CSRF_FAILURE_VIEW = "chat.views.csrf_failure"

# The reply engine (chat.replies). Streamed text reaches sockets in frames coalesced
# over GLMWEB_REPLY_FRAME_MS milliseconds. Every GLMWEB_REPLY_CHECKPOINT_SECONDS each
# process writes its heartbeat and its replies' partial text (a file under
# VAR_DIR/replies, or Redis with REDIS_URL); a reply whose process has not beaten for
# GLMWEB_REPLY_STALE_SECONDS is marked interrupted (server_restarted). A socket joining
# a reply owned by another process waits GLMWEB_REPLY_SNAPSHOT_TIMEOUT seconds for its
# snapshot before looking the reply up again.
GLMWEB_REPLY_FRAME_MS = env_int("GLMWEB_REPLY_FRAME_MS", 35, minimum=1)
# While the event loop lags (more streams than the core carries) frames go further
# apart, up to this many ms (chat.replies.pacing), so new messages are not kept waiting.
GLMWEB_REPLY_FRAME_MAX_MS = env_int("GLMWEB_REPLY_FRAME_MAX_MS", 100, minimum=1)
GLMWEB_REPLY_CHECKPOINT_SECONDS = env_float(
    "GLMWEB_REPLY_CHECKPOINT_SECONDS", 3.0, minimum=0.05
)
GLMWEB_REPLY_STALE_SECONDS = env_float("GLMWEB_REPLY_STALE_SECONDS", 15.0, minimum=0.1)
GLMWEB_REPLY_SNAPSHOT_TIMEOUT = env_float(
    "GLMWEB_REPLY_SNAPSHOT_TIMEOUT", 2.0, minimum=0.05
)

# Web processes `manage.py runapp` starts behind one port (SO_REUSEPORT): one per core
# with REDIS_URL (replies reach viewers on other processes through Redis), and exactly
# one without it, since the embedded relay lives inside its one process.
# Cores: those this process may use (taskset's or a cpuset's share) where the system
# says (Linux), else the machine's.
_CORES = (
    len(os.sched_getaffinity(0))
    if hasattr(os, "sched_getaffinity")
    else (os.cpu_count() or 1)
)
GLMWEB_WEB_PROCESSES = env_int(
    "GLMWEB_WEB_PROCESSES", _CORES if REDIS_URL else 1, minimum=1
)
if GLMWEB_WEB_PROCESSES > 1 and not REDIS_URL:
    raise ImproperlyConfigured(
        "GLMWEB_WEB_PROCESSES above 1 needs REDIS_URL: without Redis the reply relay "
        "lives in one process"
    )
# A web process whose event loop wakes this many milliseconds late (median of about
# 2 s) is saturated: it logs a warning once a minute and /healthz says so
# (glmweb/saturation.py).
GLMWEB_SATURATION_LAG_MS = env_float("GLMWEB_SATURATION_LAG_MS", 50.0, minimum=1.0)
# The ASGI server `python -m glmweb.serve` (and so runapp) runs each web process on:
# "daphne" or "uvicorn" (glmweb/serve_uvicorn.py: the same shutdown, body limits and
# websocket settings; docs/performance.md, "Daphne or uvicorn", compares them).
GLMWEB_WEB_SERVER = env_str("GLMWEB_WEB_SERVER", "daphne").lower()
if GLMWEB_WEB_SERVER not in {"daphne", "uvicorn"}:
    raise ImproperlyConfigured("GLMWEB_WEB_SERVER must be 'daphne' or 'uvicorn'")

# Attachments (chat.attachments, docs/chat.md "Images and videos"). One upload's
# request body is refused above GLMWEB_MAX_UPLOAD_BYTES (below, with the other body
# limits) before it is read. Images are
# normalised to the platform's limits: at most GLMWEB_VISION_MAX_SIDE px a side and
# GLMWEB_VISION_MAX_IMAGE_BYTES. Videos (MP4/MOV) are kept within the strictest
# platform limit (glm-4v-plus: 20 MB, 30 s). Models that take no base64 (glm-4v-flash)
# get URLs under GLMWEB_PUBLIC_MEDIA_BASE_URL (where the platform can reach this site,
# e.g. https://chat.example.com), signed and valid for GLMWEB_PUBLIC_MEDIA_URL_SECONDS;
# unset, the page does not offer attaching to them. Attachments not sent within
# GLMWEB_UNSENT_ATTACHMENT_HOURS are deleted (celery beat, hourly).
GLMWEB_VISION_MAX_SIDE = env_int("GLMWEB_VISION_MAX_SIDE", 6000, minimum=256)
GLMWEB_VISION_MAX_IMAGE_BYTES = env_int(
    "GLMWEB_VISION_MAX_IMAGE_BYTES", 5 * 1024 * 1024, minimum=64 * 1024
)
GLMWEB_VIDEO_MAX_BYTES = env_int("GLMWEB_VIDEO_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
GLMWEB_VIDEO_MAX_SECONDS = env_float("GLMWEB_VIDEO_MAX_SECONDS", 30.0, minimum=1.0)
GLMWEB_MAX_ATTACHMENTS_PER_MESSAGE = env_int(
    "GLMWEB_MAX_ATTACHMENTS_PER_MESSAGE", 10, minimum=1
)
GLMWEB_PUBLIC_MEDIA_BASE_URL = env_str("GLMWEB_PUBLIC_MEDIA_BASE_URL", "").rstrip("/")
GLMWEB_PUBLIC_MEDIA_URL_SECONDS = env_int(
    "GLMWEB_PUBLIC_MEDIA_URL_SECONDS", 3600, minimum=60
)
GLMWEB_UNSENT_ATTACHMENT_HOURS = env_float(
    "GLMWEB_UNSENT_ATTACHMENT_HOURS", 24.0, minimum=0.0
)

# --- Video jobs (media_jobs app)
# --------------------------------------------------------------

# The shared image normaliser (glmweb/images.py: video sources, chat's glm-4v uploads):
# the largest upload read at all, and the most pixels decoded (checked from the header
# before decoding, so a decompression bomb costs nothing).
IMAGE_MAX_UPLOAD_BYTES = env_int("IMAGE_MAX_UPLOAD_BYTES", 20 * 1024 * 1024, minimum=1)
IMAGE_MAX_PIXELS = env_int("IMAGE_MAX_PIXELS", 40_000_000, minimum=1)

# The video form's catalog: code, label, the sizes the model takes, and the durations
# (empty: the model takes none). GLMWEB_VIDEO_MODELS (a JSON list of the same objects)
# replaces it.
_V3_SIZES = "1920x1080 1080x1920 1280x720 720x1280 1024x1024 2048x1080 3840x2160"
_V2_SIZES = (
    "1920x1080 1080x1920 720x480 1024x1024 1280x960 960x1280 2048x1080 3840x2160"
)
_DEFAULT_VIDEO_MODELS = [
    {"code": "cogvideox-3", "label": "CogVideoX-3", "sizes": _V3_SIZES.split(),
     "durations": [5, 10]},
    {"code": "cogvideox-2", "label": "CogVideoX-2", "sizes": _V2_SIZES.split(),
     "durations": [5, 10]},
    {"code": "cogvideox-flash", "label": "CogVideoX-Flash",
     "sizes": _V2_SIZES.split(), "durations": [5, 10]},
    {"code": "cogvideox", "label": "CogVideoX", "sizes": _V2_SIZES.split(),
     "durations": []},
]  # fmt: skip
VIDEO_MODELS = env_json("GLMWEB_VIDEO_MODELS", _DEFAULT_VIDEO_MODELS)
# Jobs one user may have queued, submitted or processing at once.
VIDEO_MAX_IN_FLIGHT = env_int("VIDEO_MAX_IN_FLIGHT", 3, minimum=1)
# ... and at most this many started (created) in any hour.
VIDEO_MAX_PER_HOUR = env_int("VIDEO_MAX_PER_HOUR", 30, minimum=1)
# Polls of a processing job wait FIRST, 2xFIRST, 4xFIRST ... seconds, capped at MAX.
VIDEO_POLL_FIRST_SECONDS = env_float("VIDEO_POLL_FIRST_SECONDS", 5.0, minimum=0.05)
VIDEO_POLL_MAX_SECONDS = env_float("VIDEO_POLL_MAX_SECONDS", 60.0, minimum=0.05)
# A job still processing this long after the platform accepted it fails.
VIDEO_DEADLINE_SECONDS = env_float("VIDEO_DEADLINE_SECONDS", 1800.0, minimum=1.0)
# Upstream 429/503/5xx on submission: wait FIRST, 2xFIRST ... (or the server's
# Retry-After when longer), capped at MAX; give up after ATTEMPTS submissions.
VIDEO_SUBMIT_BACKOFF_SECONDS = env_float(
    "VIDEO_SUBMIT_BACKOFF_SECONDS", 10.0, minimum=0.05
)
VIDEO_SUBMIT_BACKOFF_MAX_SECONDS = env_float(
    "VIDEO_SUBMIT_BACKOFF_MAX_SECONDS", 300.0, minimum=0.05
)
VIDEO_SUBMIT_MAX_ATTEMPTS = env_int("VIDEO_SUBMIT_MAX_ATTEMPTS", 8, minimum=1)
# The sweep (celery beat) runs this often and re-enqueues any job whose next task is
# more than VIDEO_SWEEP_GRACE_SECONDS overdue (its worker died, or its message was
# lost).
VIDEO_SWEEP_SECONDS = env_float("VIDEO_SWEEP_SECONDS", 60.0, minimum=0.1)
VIDEO_SWEEP_GRACE_SECONDS = env_float("VIDEO_SWEEP_GRACE_SECONDS", 60.0, minimum=0.0)
# Downloads of the finished video and its cover: size caps and the read timeout.
VIDEO_MAX_BYTES = env_int("VIDEO_MAX_BYTES", 512 * 1024 * 1024, minimum=1)
VIDEO_COVER_MAX_BYTES = env_int("VIDEO_COVER_MAX_BYTES", 20 * 1024 * 1024, minimum=1)
VIDEO_DOWNLOAD_TIMEOUT = env_float("VIDEO_DOWNLOAD_TIMEOUT", 120.0, minimum=0.1)
# How often the videos page asks the status view for changes while jobs are running.
VIDEO_STATUS_POLL_SECONDS = env_float("VIDEO_STATUS_POLL_SECONDS", 2.0, minimum=0.2)
CELERY_BEAT_SCHEDULE = {
    "sweep-video-jobs": {
        "task": "media_jobs.tasks.sweep_video_jobs",
        "schedule": VIDEO_SWEEP_SECONDS,
    },
    # Deleted conversations stay restorable (undo) until this purge, once an hour.
    "purge-deleted-conversations": {
        "task": "chat.tasks.purge_deleted_conversations",
        "schedule": 3600.0,
    },
    # Attachments uploaded but never sent, once an hour.
    "purge-unsent-attachments": {
        "task": "chat.tasks.purge_unsent_attachments",
        "schedule": 3600.0,
    },
}

# --- Hardening (production)
# ---------------------------------------------------------------

# Defence in depth behind the Markdown sanitiser: even if model output slipped an inline
# script, handler or style through, the browser would refuse to run or apply it.
# Templates therefore carry no inline code or style; page data travels in json_script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        # Violations are counted (glmweb/csp_reports.py): report-uri for browsers
        # without the Reporting API, report-to (its Reporting-Endpoints header is set
        # by glmweb.csp_reports.ReportingEndpointsMiddleware) for the rest.
        "report-uri": ["/csp-report/"],
        "report-to": "csp-endpoint",
    }
}
# A CSP report is a small JSON object; larger bodies are refused (413) unread.
GLMWEB_CSP_REPORT_MAX_BYTES = env_int(
    "GLMWEB_CSP_REPORT_MAX_BYTES", 16 * 1024, minimum=1
)
# The reports' count is logged at most once per this many seconds.
GLMWEB_CSP_REPORT_LOG_SECONDS = env_int("GLMWEB_CSP_REPORT_LOG_SECONDS", 60, minimum=1)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# The session cookie is never readable by script. SameSite=Lax rather than Strict: a
# cross-site POST, fetch or iframe gets no cookie (the CSRF check is the second wall),
# while following a link to a conversation from mail or another site still arrives
# logged in (Strict would show the log-in page then). The CSRF cookie stays readable:
# the pages' scripts send it back in X-CSRFToken (static/chat/api.js); it is no secret
# to a script on this origin, which could read the page's token anyway.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    # Behind a TLS-terminating proxy that sets X-Forwarded-Proto.
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Hardening (docs/security.md)
# ---------------------------------------------------------------------------

# Replies (sends, regenerations, edits) one user may start per minute, per server
# process (chat/message_limits.py); more get an error frame, code rate_limited.
GLMWEB_MESSAGES_PER_MINUTE = env_int("GLMWEB_MESSAGES_PER_MINUTE", 20, minimum=1)
# Log-in and sign-up throttling (glmweb/accounts/throttle.py): failed log-ins per
# account (username) and per address within GLMWEB_LOGIN_WINDOW_SECONDS, sign-up
# attempts per address within GLMWEB_SIGNUP_WINDOW_SECONDS. Counted in the cache.
GLMWEB_LOGIN_FAILURES_PER_ACCOUNT = env_int(
    "GLMWEB_LOGIN_FAILURES_PER_ACCOUNT", 5, minimum=1
)
GLMWEB_LOGIN_FAILURES_PER_ADDRESS = env_int(
    "GLMWEB_LOGIN_FAILURES_PER_ADDRESS", 20, minimum=1
)
GLMWEB_LOGIN_WINDOW_SECONDS = env_float(
    "GLMWEB_LOGIN_WINDOW_SECONDS", 900.0, minimum=1.0
)
GLMWEB_SIGNUPS_PER_ADDRESS = env_int("GLMWEB_SIGNUPS_PER_ADDRESS", 20, minimum=1)
GLMWEB_SIGNUP_WINDOW_SECONDS = env_float(
    "GLMWEB_SIGNUP_WINDOW_SECONDS", 3600.0, minimum=1.0
)

# Request bodies over these sizes are refused with 413 before they are read
# (glmweb/bodylimits.py): uploads (multipart, image/video/audio/octet-stream), JSON,
# and everything else (url-encoded forms). Upload views check their own files against
# GLMWEB_MAX_UPLOAD_BYTES too.
GLMWEB_MAX_UPLOAD_BYTES = env_int(
    "GLMWEB_MAX_UPLOAD_BYTES", 25 * 1024 * 1024, minimum=1
)
GLMWEB_MAX_JSON_BODY_BYTES = env_int(
    "GLMWEB_MAX_JSON_BODY_BYTES", 1024 * 1024, minimum=1
)
GLMWEB_MAX_FORM_BODY_BYTES = env_int(
    "GLMWEB_MAX_FORM_BODY_BYTES", 1024 * 1024, minimum=1
)

# The video downloader fetches only from these hosts ("*.domain": the domain and its
# subdomains), on public addresses, at every redirect hop (glmweb/zhipu/fetchguard.py);
# ZHIPUAI_BASE_URL's own origin (the simulator, a proxy) is trusted as well.
GLMWEB_MEDIA_HOSTS = env_list(
    "GLMWEB_MEDIA_HOSTS",
    ["sfile.chatglm.cn", "*.chatglm.cn", "*.bigmodel.cn", "*.z.ai"],
)
# An open chat socket checks that its session still signs its user in before acting on
# each frame, at log-out/password change/deactivation, and every
# GLMWEB_SOCKET_SESSION_CHECK_SECONDS (sessions that simply expired).
GLMWEB_SOCKET_SESSION_CHECK_SECONDS = env_float(
    "GLMWEB_SOCKET_SESSION_CHECK_SECONDS", 60.0, minimum=0.05
)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The embedded broker (filesystem transport) has no host name, which kombu
        # warns about at every connection.
        "kombu.connection": {"level": "ERROR"},
    },
}
