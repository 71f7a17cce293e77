"""The machine's speed, to record beside every figure: a fixed pure-Python loop.

Figures from different machines (or from one machine whose speed drifts, as these VMs'
does within an hour) compare only through such a yardstick: the same code measured
0.068 and 0.23 CPU-s per 1,000 tokens on two 2-core VMs whose loops took about 0.5 and
1.46 s. Run it before and after a measurement and report both.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

ADDITIONS = 10_000_000


def loop_seconds() -> float:
    """Return the wall time of 10 million additions in a plain Python loop."""
    started = time.perf_counter()
    total = 0
    for i in range(ADDITIONS):
        total += i
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    times = [loop_seconds() for _ in range(args.runs)]
    print(
        json.dumps(
            {
                "loop_10m_additions_s": round(statistics.median(times), 3),
                "runs": [round(t, 3) for t in times],
            }
        )
    )


if __name__ == "__main__":
    main()
