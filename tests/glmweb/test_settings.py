"""The settings module: embedded defaults, the REDIS_URL / DATABASE_URL switches, the
production flag. Settings are read once per process, so each case runs in a new one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

DUMP = """
import json, os, django
from django.conf import settings
django.setup()
print(json.dumps({
    "db_engine": settings.DATABASES["default"]["ENGINE"],
    "db_name": str(settings.DATABASES["default"]["NAME"]),
    "db_options": settings.DATABASES["default"].get("OPTIONS", {}),
    "layer": getattr(settings, "CHANNEL_LAYERS", None),
    "cache": settings.CACHES["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "base_url": settings.ZHIPUAI_BASE_URL,
    "debug": settings.DEBUG,
    "media_root": str(settings.MEDIA_ROOT),
    "idle": settings.ZHIPUAI_STREAM_IDLE_TIMEOUT,
    "retries": settings.ZHIPUAI_MAX_RETRIES,
    "web_processes": settings.GLMWEB_WEB_PROCESSES,
    "cores": len(os.sched_getaffinity(0)),
}))
"""

CONFIG_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "ZHIPUAI_API_KEY",
    "ZHIPUAI_BASE_URL",
    "GLMWEB_PRODUCTION",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DEBUG",
    "ZHIPUAI_MAX_RETRIES",
    "ZHIPUAI_STREAM_IDLE_TIMEOUT",
    "GLMWEB_VAR_DIR",
    "MEDIA_ROOT",
    "GLMWEB_WEB_PROCESSES",
)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    clean["DJANGO_SETTINGS_MODULE"] = "glmweb.settings"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def load_settings(**env: str) -> dict:
    result = run_python(DUMP, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_settings_with_nothing_set_use_embedded_services():
    values = load_settings()
    assert values["db_engine"] == "django.db.backends.sqlite3"
    assert values["db_name"].endswith("var/db.sqlite3")
    assert values["db_options"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in values["db_options"]["init_command"]
    # No channel layer (docs/websocket.md says why); the throttle's cache is local.
    assert values["layer"] is None
    assert values["cache"].endswith("LocMemCache")
    assert values["broker"] == "filesystem://"
    assert values["base_url"] == "http://127.0.0.1:8765/api/paas/v4/"
    assert values["debug"] is True
    assert values["media_root"].endswith("var/media")
    assert values["idle"] == 60.0 and values["retries"] == 3


def test_settings_redis_url_switches_the_broker_and_cache_and_configures_no_layer():
    values = load_settings(REDIS_URL="redis://127.0.0.1:6379/3")
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["layer"] is None
    # Shared by every process: the log-in throttle counts across them.
    assert values["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_settings_web_processes_are_one_per_core_with_redis_and_one_without():
    assert load_settings()["web_processes"] == 1
    with_redis = load_settings(REDIS_URL="redis://127.0.0.1:6379/3")
    assert with_redis["web_processes"] == with_redis["cores"]


def test_settings_several_web_processes_without_redis_are_refused():
    # The embedded relay lives in one process: a second would never see its replies.
    result = run_python(DUMP, GLMWEB_WEB_PROCESSES="2")
    assert result.returncode != 0
    assert "GLMWEB_WEB_PROCESSES above 1 needs REDIS_URL" in result.stderr


def test_settings_celery_broker_url_wins_over_redis_url():
    values = load_settings(
        REDIS_URL="redis://127.0.0.1:6379/3",
        CELERY_BROKER_URL="amqp://guest@127.0.0.1//",
    )
    assert values["broker"] == "amqp://guest@127.0.0.1//"


def test_settings_database_url_switches_to_postgresql():
    values = load_settings(DATABASE_URL="postgres://postgres@127.0.0.1:5432/glmweb")
    assert values["db_engine"] == "django.db.backends.postgresql"
    assert values["db_name"] == "glmweb"


def test_settings_non_postgres_database_url_is_refused():
    result = run_python(DUMP, DATABASE_URL="mysql://root@127.0.0.1/test")
    assert result.returncode != 0
    assert "DATABASE_URL must be a postgres:// URL" in result.stderr


def test_settings_api_key_defaults_to_the_bigmodel_platform():
    values = load_settings(ZHIPUAI_API_KEY="abc.def")
    assert values["base_url"] == "https://open.bigmodel.cn/api/paas/v4/"


def test_settings_international_base_url_is_accepted():
    values = load_settings(
        ZHIPUAI_API_KEY="abc.def", ZHIPUAI_BASE_URL="https://api.z.ai/api/paas/v4/"
    )
    assert values["base_url"] == "https://api.z.ai/api/paas/v4/"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("ZHIPUAI_MAX_RETRIES", "three", "ZHIPUAI_MAX_RETRIES must be an integer"),
        ("ZHIPUAI_MAX_RETRIES", "-1", "ZHIPUAI_MAX_RETRIES must be at least 0"),
        (
            "ZHIPUAI_STREAM_IDLE_TIMEOUT",
            "soon",
            "ZHIPUAI_STREAM_IDLE_TIMEOUT must be a number",
        ),
        (
            "ZHIPUAI_BASE_URL",
            "ftp://example.com/",
            "ZHIPUAI_BASE_URL must be an http(s) URL",
        ),
        (
            "GLMWEB_WEB_SERVER",
            "gunicorn",
            "GLMWEB_WEB_SERVER must be 'daphne' or 'uvicorn'",
        ),
    ],
)
def test_settings_garbage_value_names_the_variable(name, value, message):
    result = run_python(DUMP, **{name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_settings_production_without_secret_key_refuses_to_start():
    result = run_python(DUMP, GLMWEB_PRODUCTION="1", ALLOWED_HOSTS="chat.example.com")
    assert result.returncode != 0
    assert "needs SECRET_KEY" in result.stderr


def test_settings_production_without_allowed_hosts_refuses_to_start():
    result = run_python(DUMP, GLMWEB_PRODUCTION="1", SECRET_KEY="x" * 64)
    assert result.returncode != 0
    assert "needs ALLOWED_HOSTS" in result.stderr


def test_check_deploy_in_production_mode_reports_nothing(tmp_path):
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    env = {
        **clean,
        "GLMWEB_PRODUCTION": "1",
        "SECRET_KEY": "kq8Zr0-vXW3nL7pT2yB5cD9fG1hJ4mN6sQ8uE0aR3tY5wZ7xC9vB1nM3k",
        "ALLOWED_HOSTS": "chat.example.com",
        "GLMWEB_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
