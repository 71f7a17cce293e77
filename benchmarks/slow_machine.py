"""Emulate issue 14's slower machine kind: the web processes under a CPU quota.

Issue 14's targets are for a 2-core VM whose calibration loop
(benchmarks/calibration.py) takes about 1.5 s; this project's machines take 0.3 to
0.6 s. `--server-cpu-share F` (chat_relay.py) puts every web process of a measurement
in a cgroup allowed F of one core (cgroup v1 `cpu.cfs_quota_us`, or v2 `cpu.max`),
and runs the calibration loop in that cgroup too, so the JSON says how slow the
servers' "machine" was (`server_calibration_s`). The simulator, the clients and the
floor readers keep full speed, as the platform and the browsers are not on the slow
machine.

The emulation is pessimistic for latency: a quota runs the process at full speed and
then stops it until the next period, so a 10 ms period with F = 0.3 adds stalls of up
to 7 ms that a uniformly slower core would not have. Targets met under it hold on the
slower kind. It needs root and a writable cgroup file system (these machines have both).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PERIOD_US = 10_000
_V1 = Path("/sys/fs/cgroup/cpu")
_V2 = Path("/sys/fs/cgroup/unified")
PREFIX = "glmweb-bench-slow"

_share: float | None = None


def enable(share: float) -> None:
    """Give every web process started from now on `share` of one core."""
    global _share
    _share = share


def _group(name: str) -> Path:
    """Create (or reset) the cgroup `name` allowing the share; return its folder.
    One per process: on the slower kind each process has a slow core of its own."""
    assert _share is not None
    quota = max(1000, round(_share * PERIOD_US))
    if (_V1 / "cgroup.procs").exists():
        group = _V1 / f"{PREFIX}-{name}"
        group.mkdir(exist_ok=True)
        (group / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
    else:
        root = _V2 if (_V2 / "cgroup.procs").exists() else Path("/sys/fs/cgroup")
        group = root / f"{PREFIX}-{name}"
        group.mkdir(exist_ok=True)
        (group / "cpu.max").write_text(f"{quota} {PERIOD_US}")
    return group


def wrap(argv: list[str], name: str) -> list[str]:
    """Return argv started inside cgroup `name` (same pid: the shell execs it), or
    argv unchanged when no share is set."""
    if _share is None:
        return argv
    procs = _group(name) / "cgroup.procs"
    return ["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh", *argv]


def calibration_seconds() -> float | None:
    """Return the calibration loop's time under the share (None without one)."""
    if _share is None:
        return None
    script = Path(__file__).with_name("calibration.py")
    out = subprocess.run(
        wrap([sys.executable, str(script), "--runs", "1"], "calibration"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(json.loads(out)["loop_10m_additions_s"])
