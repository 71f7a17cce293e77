"""`manage.py runsimulator`: serve the GLM simulator (a local stand-in for the ZhipuAI
platform's HTTP API). See docs/simulator.md."""

from __future__ import annotations

import argparse
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def non_negative(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {raw}")
    return value


class Command(BaseCommand):
    help = "Serve the GLM simulator: the ZhipuAI HTTP API, offline and deterministic."
    # The simulator touches no models; skipping checks keeps start-up fast.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--port", type=int, default=None, help="default: GLMWEB_SIMULATOR_PORT"
        )
        parser.add_argument(
            "--token-rate",
            type=non_negative,
            default=50.0,
            help="streamed tokens per second (0: no delay); default 50",
        )
        parser.add_argument(
            "--video-seconds",
            type=non_negative,
            default=10.0,
            help="seconds a video job stays PROCESSING; default 10",
        )
        parser.add_argument(
            "--api-key",
            action="append",
            default=[],
            metavar="ID.SECRET",
            help="a key whose secret JWTs are checked against (repeatable); "
            "test-id.test-secret is always known",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from glmweb.zhipu.simulator import config, server

        port = options["port"] or settings.GLMWEB_SIMULATOR_PORT
        simulator_config = config.SimulatorConfig(
            token_rate=options["token_rate"],
            video_seconds=options["video_seconds"],
            api_keys=(*config.DEFAULT_API_KEYS, *options["api_key"]),
        )

        def ready(base_url: str) -> None:
            self.stdout.write(f"GLM simulator on {base_url}")
            self.stdout.flush()

        try:
            server.serve(simulator_config, options["host"], port, ready)
        except KeyboardInterrupt:
            # A second Ctrl-C makes uvicorn give up its graceful stop; that is still a
            # stop.
            pass
