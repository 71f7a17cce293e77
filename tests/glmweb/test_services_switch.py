"""REDIS_URL and DATABASE_URL switch the app onto real Redis and PostgreSQL servers: the
broker built from settings works against Redis (the chat relay's own Redis tests are in
tests/chat/test_two_processes.py), and the migrations run on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.services

BROKER = """
import json, django
django.setup()
from glmweb.celery import app

with app.connection_for_write() as conn:
    conn.ensure_connection(max_retries=1)
    print(json.dumps({"transport": conn.transport_cls}))
"""


def run_with(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_redis_url_gives_a_broker_connected_to_redis(redis_url):
    result = run_with({"REDIS_URL": redis_url}, "-c", BROKER)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"transport": "redis"}


def test_database_url_runs_migrations_and_stores_rows_in_postgresql(postgres_url):
    import psycopg

    name = f"glmweb_switch_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate = run_with(
            {"DATABASE_URL": database_url}, "manage.py", "migrate", "-v0"
        )
        assert migrate.returncode == 0, migrate.stderr
        create = run_with(
            {"DATABASE_URL": database_url},
            "manage.py",
            "shell",
            "-v",
            "0",
            "-c",
            "from django.contrib.auth.models import User;"
            "from django.db import connection;"
            "User.objects.create_user('ada', password='pw-123456-long');"
            "print(connection.vendor, User.objects.count())",
        )
        assert create.returncode == 0, create.stderr
        assert create.stdout.split() == ["postgresql", "1"]
        with psycopg.connect(database_url) as conn:
            row = conn.execute("SELECT username FROM auth_user").fetchone()
        assert row == ("ada",)
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
