"""The chat relay benchmark's accounts: users, signed-in sessions, fresh conversations.

Run by benchmarks/chat_relay.py as a subprocess with the environment of the mode being
measured (so it writes to that mode's database, SQLite or PostgreSQL), never imported:

    python benchmarks/chat_relay_fixtures.py --users 200 --conversations 1

Prints one JSON object on stdout:

    {"cookie_name": "sessionid",
     "users": [{"username": "bench-0", "session_key": "...",
                "conversations": ["<uuid>", ...]}, ...]}

Users `bench-0`… are created once (unusable passwords: nobody can log in as them) and
reused; every call makes a new session per user and new, empty conversations, so each
measurement starts from the same state. Sessions are written the way
`django.contrib.auth.login` writes them (user id, backend, session auth hash), so the
websocket's session and auth middleware accept the cookie as a real log-in. This skips
the password hashing of `POST /accounts/login/`, which is not what the benchmark
measures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BACKEND = "django.contrib.auth.backends.ModelBackend"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--conversations", type=int, default=1, help="per user")
    parser.add_argument("--model", default="glm-4-flash")
    args = parser.parse_args()

    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from chat.models import Conversation

    user_model = get_user_model()
    names = [f"bench-{i}" for i in range(args.users)]
    existing = set(
        user_model.objects.filter(username__in=names).values_list("username", flat=True)
    )
    missing = []
    for name in names:
        if name not in existing:
            user = user_model(username=name)
            user.set_unusable_password()
            missing.append(user)
    user_model.objects.bulk_create(missing)
    users = {u.username: u for u in user_model.objects.filter(username__in=names)}

    expires = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    store = SessionStore()
    sessions, conversations, out = [], [], []
    for name in names:
        user = users[name]
        key = store._get_new_session_key()
        data = {
            "_auth_user_id": str(user.pk),
            "_auth_user_backend": BACKEND,
            "_auth_user_hash": user.get_session_auth_hash(),
        }
        sessions.append(
            Session(
                session_key=key, session_data=store.encode(data), expire_date=expires
            )
        )
        mine = [
            Conversation(owner=user, model=args.model, title=f"bench {name}")
            for _ in range(args.conversations)
        ]
        conversations.extend(mine)
        out.append(
            {
                "username": name,
                "session_key": key,
                "conversations": [str(c.id) for c in mine],
            }
        )
    Session.objects.bulk_create(sessions)
    Conversation.objects.bulk_create(conversations)
    json.dump({"cookie_name": settings.SESSION_COOKIE_NAME, "users": out}, sys.stdout)


if __name__ == "__main__":
    main()
