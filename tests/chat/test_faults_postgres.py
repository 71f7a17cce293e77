"""PostgreSQL restarted under a running reply: the app reconnects, the reply that was
streaming is saved whole, the user's message is kept, and the next message works.

A private cluster (tests/private_servers.py) is restarted with `pg_ctl -m immediate`,
which cuts every session as a crash would; the app runs in a real Daphne process on it
with its production connection settings (connections kept DATABASE_CONN_MAX_AGE)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import aiohttp
import psycopg
import pytest

from tests.chat.conftest import send_frame
from tests.chat.test_two_processes import open_socket, receive, receive_until
from tests.conftest import BASE_DIR
from tests.private_servers import private_postgres  # noqa: F401

pytestmark = pytest.mark.services

# Run in the app's own settings against the private database: a user, a conversation
# and a signed-in session, printed as JSON.
SEED = """
import json
from django.contrib.auth import get_user_model, SESSION_KEY, BACKEND_SESSION_KEY
from django.contrib.auth import HASH_SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from chat.models import Conversation
user = get_user_model().objects.create_user("pat", password="pw-12345-long")
conversation = Conversation.objects.create(owner=user, model="glm-4-flash")
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({"conversation": str(conversation.pk), 
                  "session": session.session_key}))
"""


def app_database(server) -> tuple[str, dict]:
    """Create, migrate and seed a database on `server`; return its URL and seed."""
    with psycopg.connect(server.url(), autocommit=True) as admin:
        admin.execute("CREATE DATABASE glmweb_faults")
    url = server.url("glmweb_faults")
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="glmweb.settings")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=BASE_DIR, env=env, check=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return url, json.loads(seeded.stdout.strip().splitlines()[-1])


def saved_messages(url: str, conversation_id) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as db:
        return db.execute(
            "SELECT role, status, content FROM chat_message"
            " WHERE conversation_id = %s ORDER BY id",
            (conversation_id,),
        ).fetchall()


async def test_postgres_restarted_mid_reply_saves_the_whole_reply_and_reconnects(
    private_postgres,  # noqa: F811
    daphne_processes,
):
    url, seed = app_database(private_postgres)
    server = daphne_processes(
        DJANGO_SETTINGS_MODULE="glmweb.settings",
        DATABASE_URL=url,
        DATABASE_CONN_MAX_AGE="60",
        REDIS_URL="",
    )
    conversation = seed["conversation"]
    async with aiohttp.ClientSession() as http:
        ws, _ = await open_socket(http, server.port, conversation, seed["session"])
        text = "Keep me through a restart [[sim:tokens=120,rate=40]]"
        await ws.send_json(send_frame(text))
        created, _ = await receive_until(ws, "message.created")
        reply_id = created["assistant"]["id"]
        while (await receive(ws))["type"] != "reply.delta":
            pass
        # Every connection the app holds is cut while the model is still writing.
        private_postgres.restart()
        end, _ = await receive_until(ws, "reply.end", wait=20)

        assert end["message"]["id"] == reply_id
        assert end["message"]["status"] == "complete", end["message"]["error"]
        whole = end["message"]["content"]
        assert whole.count("GLM") > 0
        assert saved_messages(url, conversation) == [
            ("user", "complete", text),
            ("assistant", "complete", whole),
        ]

        # The app's kept connections died with the server; the next turn works.
        await ws.send_json(send_frame("Again"))
        again, _ = await receive_until(ws, "reply.end", wait=20)
        assert again["message"]["status"] == "complete", again["message"]["error"]
        assert [row[2] for row in saved_messages(url, conversation)][2:] == [
            "Again",
            again["message"]["content"],
        ]
        await ws.close()
