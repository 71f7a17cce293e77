"""`manage.py runapp`: run the whole app on this machine, and stop it all together.

That is the web server (Daphne, or uvicorn with GLMWEB_WEB_SERVER=uvicorn: web and
websockets), a Celery worker with its beat scheduler, and the GLM simulator when no
ZHIPUAI_API_KEY is set. With REDIS_URL there is one web process per core
(GLMWEB_WEB_PROCESSES), all on the one port (SO_REUSEPORT: the kernel spreads
connections over them; glmweb/serve.py); without it, one.

By default the processes log warnings and errors only (no access-log line per request,
no Celery banner), and the "GLM Web is running at" line is the last one printed, once
every process is up; `--verbose` gives each process its usual output.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from glmweb.celery import READY_FILE_ENV

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to SIGTERM this child when runapp dies, even by SIGKILL."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass  # not Linux: children still stop when runapp stops normally


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    """Start one of the app's processes in its own session, so a terminal's Ctrl-C
    reaches only runapp, which then stops each child exactly once."""
    return subprocess.Popen(
        argv,
        cwd=settings.BASE_DIR,
        env=env,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


def quiet_environment() -> dict[str, str]:
    """The children's environment for a quiet run: warnings and errors only (unless
    LOG_LEVEL says otherwise), and the worker's start-up notices left out."""
    env = dict(os.environ)
    env.setdefault("LOG_LEVEL", "WARNING")
    # Celery warns at every start when it runs as root (containers, this machine's
    # CI); the person running `make run` cannot act on it.
    env["PYTHONWARNINGS"] = ",".join(
        filter(
            None,
            [
                env.get("PYTHONWARNINGS", ""),
                "ignore:You're running the worker with superuser privileges",
            ],
        )
    )
    return env


def wait_for_file(path: Path, children: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise CommandError(
                "a process exited while the app was starting; see its output above"
            )
        if path.exists():
            return
        time.sleep(0.2)
    raise CommandError(f"the Celery worker was not ready within {timeout:.0f} s")


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def wait_until_healthy(
    url: str, children: list[subprocess.Popen], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise CommandError(
                "a process exited while the app was starting; see its output above"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise CommandError(f"{url} did not answer within {timeout:.0f} s")


def wait_until_all_serve(
    url: str,
    web: list[subprocess.Popen],
    children: list[subprocess.Popen],
    timeout: float,
) -> None:
    """Ask `url` (the health check, which names its pid) over new connections until
    every web process has answered once: they share the port, so a process still
    starting gets none of it yet."""
    waiting = {child.pid for child in web}
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            raise CommandError(
                "a process exited while the app was starting; see its output above"
            )
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                waiting.discard(json.loads(response.read())["pid"])
        except OSError:
            time.sleep(0.2)
    if waiting:
        raise CommandError(
            f"not every web process answered {url} within {timeout:.0f} s"
        )


def web_listen_args(host: str, port: int, processes: int) -> list[list[str]]:
    """Return each web process's listening arguments for glmweb.serve (either
    server takes them): `-b/-p` for one process, a shared SO_REUSEPORT socket for
    several."""
    if processes == 1:
        return [["-b", host, "-p", str(port)]]
    if ":" in host:
        raise CommandError(
            "several web processes share an IPv4 address only; set GLMWEB_HOST to "
            "one (0.0.0.0 for every interface) or GLMWEB_WEB_PROCESSES=1"
        )
    # SO_REUSEPORT lets any process of this user join the port, a forgotten earlier
    # run included, which would then get a share of the connections: refuse instead.
    if port_is_open(port, "127.0.0.1" if host == "0.0.0.0" else host):
        raise CommandError(f"port {port} is already in use")
    return [["--shared-port", f"{host}:{port}"] for _ in range(processes)]


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and (with no API key) the simulator."

    def progress(self, step: str) -> None:
        self.stdout.write(f"{step}…")
        self.stdout.flush()

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--host", default=os.environ.get("GLMWEB_HOST", "127.0.0.1")
        )
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("GLMWEB_PORT", "8000"))
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="do not start a Celery worker here"
        )
        parser.add_argument(
            "--verbose",
            action="store_true",
            help="every process's usual output: access log, Celery banner, INFO logs",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host, port = options["host"], options["port"]
        verbose = options["verbose"]
        self.progress("Preparing the database")
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            self.progress("Collecting the static files")
            call_command("collectstatic", interactive=False, verbosity=0)

        ready_file = settings.VAR_DIR / "worker.ready"
        ready_file.unlink(missing_ok=True)
        env = dict(os.environ) if verbose else quiet_environment()
        env[READY_FILE_ENV] = str(ready_file)
        python = sys.executable
        processes = settings.GLMWEB_WEB_PROCESSES
        listens = web_listen_args(host, port, processes)
        self.progress(
            (
                "Starting the web server"
                if processes == 1
                else f"Starting {processes} web processes on one port"
            )
            + ("" if options["no_worker"] else ", a Celery worker")
            + ("" if settings.ZHIPUAI_API_KEY else " and the GLM simulator")
        )
        children: list[subprocess.Popen] = []
        if not settings.ZHIPUAI_API_KEY:
            sim_port = settings.GLMWEB_SIMULATOR_PORT
            if port_is_open(sim_port):
                self.stdout.write(
                    f"Using the GLM simulator already on port {sim_port}."
                )
            else:
                children.append(
                    start(
                        [python, "manage.py", "runsimulator", "--port", str(sim_port)],
                        env,
                    )
                )
        if not options["no_worker"]:
            children.append(
                start(
                    [
                        python,
                        "-m",
                        "celery",
                        *([] if verbose else ["--quiet"]),  # no start-up banner
                        "-A",
                        "glmweb",
                        "worker",
                        "--beat",
                        f"--schedule={settings.VAR_DIR / 'celerybeat-schedule'}",
                        f"--loglevel={env.get('LOG_LEVEL', 'INFO')}",
                    ],
                    env,
                )
            )
        web = [
            start(
                [
                    python,
                    "-m",
                    "glmweb.serve",  # GLMWEB_WEB_SERVER on uvloop
                    *listen,
                    # Both servers write an access-log line per request from
                    # verbosity 1.
                    *([] if verbose else ["-v", "0"]),
                    "glmweb.asgi:application",
                ],
                env,
            )
            for listen in listens
        ]
        children.extend(web)

        stopping = False

        def stop(signum: int, frame: object) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            shown_host = "127.0.0.1" if host in {"0.0.0.0", "::"} else host
            # The page is no use until its upstream answers too.
            if not settings.ZHIPUAI_API_KEY:
                sim_root = f"http://127.0.0.1:{settings.GLMWEB_SIMULATOR_PORT}"
                wait_until_healthy(f"{sim_root}/_sim/health", children, timeout=60)
            wait_until_all_serve(
                f"http://{shown_host}:{port}/healthz", web, children, timeout=60
            )
            if not options["no_worker"]:
                wait_for_file(ready_file, children, timeout=60)
            upstream = (
                "the GLM simulator"
                if not settings.ZHIPUAI_API_KEY
                else "the ZhipuAI platform"
            )
            self.stdout.write(f"Replies come from {upstream}; Ctrl-C stops everything.")
            # Last and on a line of its own, so it is what the terminal shows.
            self.stdout.write(
                self.style.SUCCESS(f"GLM Web is running at http://{shown_host}:{port}/")
            )
            self.stdout.flush()
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        failed = [
            child for child in children if child.returncode not in (0, -signal.SIGTERM)
        ]
        if not stopping and failed:
            raise CommandError("a process of the app stopped; everything was shut down")
