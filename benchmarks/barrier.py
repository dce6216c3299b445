"""What one meeting of the grid engine's two threads costs, measured alone.

    python -m benchmarks.barrier [--meetings 200000]

Compiles benchmarks/native/barrier.c (the engine's barrier protocol: each thread's count of
meetings in a cache line of its own, release/acquire, pause rounds then sched_yield) with the
C compiler Python was built with and -fopenmp, and runs it in three settings: no work between
meetings; about 1 µs of work and 2 spikes exchanged in a line of their own (the engine's
layout); the same with the spikes in the count's line. Per thread it prints the medians and
10th percentiles of the wait, of reading the partner's spikes and of the whole
meeting-to-meeting interval, and the load average before and after: the 10th percentile is
what a meeting costs when both threads hold a core; under load the median shows how often
one of them does not (benchmarks/RESULTS.md, "Thread scaling, round 4").
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

SOURCE = Path(__file__).parent / "native" / "barrier.c"
SETTINGS = (("no work between meetings", 0, 0, 0),
            ("~1 us of work, 2 spikes in a line of their own", 1000, 2, 0),
            ("~1 us of work, 2 spikes in the count's line", 1000, 2, 1))


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.barrier", description=__doc__.split("\n\n")[0])
    ap.add_argument("--meetings", type=int, default=200000, help="meetings per setting")
    args = ap.parse_args(argv)
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")[0]
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "barrier"
        built = subprocess.run([cc, "-O2", "-fopenmp", "-o", str(exe), str(SOURCE)], capture_output=True, text=True)
        if built.returncode != 0:
            print(f"could not compile {SOURCE} with {cc} -fopenmp: {built.stderr.strip().splitlines()[-1:]}",
                  file=sys.stderr)
            return 2
        print(f"load average at start: {load()} ({os.cpu_count()} CPUs)")
        for what, work, spikes, inline in SETTINGS:
            out = subprocess.run([str(exe), str(args.meetings), str(work), str(spikes), str(inline)],
                                 capture_output=True, text=True, check=True,
                                 env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
            print(f"-- {what} (load {load()})")
            print(out.stdout.rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
