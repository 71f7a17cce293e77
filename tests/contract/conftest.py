"""Throwaway virtualenvs for the official SDKs, one per SDK, under var/sdk-venvs/.

zhipuai pins PyJWT<2.9 and zai-sdk needs PyJWT>=2.9, so neither can share a virtualenv
with the other or with the project. A venv is built once and reused while its marker
file records the same pins. A file lock per venv lets one process build it while
another (a second xdist worker, another checkout's run) waits and then reuses it.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BASE_DIR

# Each venv installs exactly its requirements file: the SDK and everything under it
# pinned (zhipuai also needs sniffio, which it imports without declaring).
REQUIREMENTS = Path(__file__).parent
VENV_ROOT = BASE_DIR / "var" / "sdk-venvs"
MARKER = "glmweb-pins.json"


def sdk_python(name: str) -> Path:
    """Return the interpreter of the SDK's venv, building the venv if it is stale."""
    VENV_ROOT.mkdir(parents=True, exist_ok=True)
    with open(VENV_ROOT / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _built_venv(name)


def _built_venv(name: str) -> Path:
    venv = VENV_ROOT / name
    python = venv / "bin" / "python"
    requirements = REQUIREMENTS / f"requirements-{name}.txt"
    wanted = {
        "requirements": requirements.read_text(),
        "python": sys.version.split()[0],
    }
    marker = venv / MARKER
    if python.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    # pip may warn about the unreachable extra index under /opt/pypi-more: harmless.
    installed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
        capture_output=True,
        text=True,
    )
    if installed.returncode != 0:
        pytest.fail(
            f"pip could not install {requirements.name}:\n{installed.stderr[-3000:]}"
        )
    marker.write_text(json.dumps(wanted))
    return python


@pytest.fixture(scope="session")
def seed_image(tmp_path_factory) -> Path:
    """The seed's vision example reads a JPEG from disk: a 40x30 red one."""
    from PIL import Image

    path = tmp_path_factory.mktemp("contract") / "image.jpg"
    Image.new("RGB", (40, 30), "#ff0000").save(path, format="JPEG", quality=95)
    return path
