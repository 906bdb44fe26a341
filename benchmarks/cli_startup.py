"""Start-up time of `tao --help` against `python -c pass`, as a ratio measured in one run.

Usage: python benchmarks/cli_startup.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _time(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    tao = str(Path(sys.executable).with_name("tao"))
    baseline = _time([sys.executable, "-c", "pass"], args.runs)
    help_s = _time([tao, "--help"], args.runs)
    train_help_s = _time([tao, "model", "detectnet_v2", "train", "--help"], args.runs)
    print(f"python -c pass                    : {baseline * 1000:7.1f} ms (median of {args.runs})")
    print(f"tao --help                        : {help_s * 1000:7.1f} ms  ({help_s / baseline:.1f}x python)")
    print(f"tao model detectnet_v2 train --help: {train_help_s * 1000:6.1f} ms  ({train_help_s / baseline:.1f}x python)")


if __name__ == "__main__":
    main()
