"""Benchmark of the command line's start-up (not part of the test suite).

    .venv/bin/python bench/cli_startup.py [--repeat 15]

Measures, in the same run, alternating, each a fresh process: bare `python -c pass` (the
baseline), `lianxi --help`, `lianxi plan show` and `lianxi plan show --json` on a temporary
SQLite database with the 乌拉特中旗 plan loaded, and `lianxi ledger --help`. Prints the fastest
and the median wall time of each and their ratio to bare Python; the targets are
`lianxi --help` ≤ 0.3 s and `lianxi plan show` well under a second.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIANXI = Path(sys.executable).parent / "lianxi"
TARGET_HELP_S = 0.3


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}", "DATA_DIR": str(Path(tmp) / "data")}
        subprocess.run(
            [str(LIANXI), "plan", "load", str(ROOT / "plans" / "urad-middle-banner.yaml")],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            check=True,
        )
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "lianxi --help": [str(LIANXI), "--help"],
            "lianxi ledger --help": [str(LIANXI), "ledger", "--help"],
            "lianxi plan show": [str(LIANXI), "plan", "show"],
            "lianxi plan show --json": [str(LIANXI), "plan", "show", "--json"],
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, cmd in cases.items():  # alternating, so a slow moment of the machine hits all alike
                times[name].append(_time(cmd, env))
    base = min(times["python -c pass"])
    print(f"{'command':<26}{'fastest s':>10}{'median s':>10}{'× python':>10}")
    for name, values in times.items():
        best = min(values)
        print(f"{name:<26}{best:>10.3f}{statistics.median(values):>10.3f}{best / base:>10.1f}")
    help_s = min(times["lianxi --help"])
    verdict = "meets" if help_s <= TARGET_HELP_S else "MISSES"
    print(
        f"\nlianxi --help {help_s:.3f} s: {verdict} the target of ≤ {TARGET_HELP_S} s ({help_s / base:.1f}× bare python)"
    )


if __name__ == "__main__":
    main()
