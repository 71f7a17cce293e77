"""Fill an app's database with long histories (benchmarks/long_histories.py and the
browser test of older pages use it).

Runs against the database of GLMWEB_VAR_DIR (migrated first): gives user `--username`
(made with `--password` when missing) one conversation of `--messages` messages, and
`--conversations` more of `--per-conversation` messages each. Prints JSON: the long
conversation's id and the counts made.

    GLMWEB_VAR_DIR=/tmp/x .venv/bin/python benchmarks/long_histories_data.py \\
        --username bench --messages 2000 --conversations 5000 --per-conversation 50
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# Words the messages are made of: some common, some rare, so a search can be timed
# for both (the rare `quokka` is in one message of 5,000).
WORDS = (
    "the model answers questions about rust python django sqlite postgres search "
    "index page scroll history message reply stream token 数据 模型 搜索 历史"
).split()


def _text(n: int) -> str:
    words = [WORDS[(n * 7 + i * 13) % len(WORDS)] for i in range(24)]
    if n % 5000 == 4999:
        words.append("quokka")
    return f"message {n}: " + " ".join(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", default="bench-password-1234")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--conversations", type=int, default=0)
    parser.add_argument("--per-conversation", type=int, default=50)
    args = parser.parse_args()

    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glmweb.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from chat.models import Conversation, Message

    call_command("migrate", verbosity=0)
    users = get_user_model()
    user = users.objects.filter(username=args.username).first()
    if user is None:
        user = users.objects.create_user(args.username, password=args.password)

    def fill(conversation: Conversation, count: int, start: int) -> None:
        Message.objects.bulk_create(
            (
                Message(
                    conversation=conversation,
                    role=Message.Role.USER if i % 2 == 0 else Message.Role.ASSISTANT,
                    status=Message.Status.COMPLETE,
                    content=_text(start + i),
                    model=conversation.model,
                )
                for i in range(count)
            ),
            batch_size=1000,
        )

    made = 0
    with transaction.atomic():
        for index in range(args.conversations):
            conversation = Conversation.objects.create(
                owner=user, title=f"Conversation {index}", model="glm-4-flash"
            )
            fill(conversation, args.per_conversation, made)
            made += args.per_conversation
        long = Conversation.objects.create(
            owner=user, title="A long conversation", model="glm-4-flash"
        )
        fill(long, args.messages, made)
    print(
        json.dumps(
            {
                "conversation_id": str(long.pk),
                "messages": args.messages,
                "conversations": args.conversations + 1,
                "other_messages": made,
            }
        )
    )


if __name__ == "__main__":
    main()
