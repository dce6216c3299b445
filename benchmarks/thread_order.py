"""Does a thread setting's speed follow the setting or its place in the turn? (issue 20)

    python -m benchmarks.thread_order [--only cuba] [--repeats 6]

benchmarks/threads.py runs 1 thread, 2 threads and ``threads="all"`` in turn in one process.
On CUBA, "all" (which runs one thread there) came out 0.89x one thread on an idle machine.
This script compiles four executables of one network -- ``1a`` (1 thread), ``2``, ``all``
and ``1b`` (another 1-thread executable, compiled last) -- and runs them in four orders,
reporting each one's busiest-thread CPU time (median over repeats, and per order). If the
difference follows the executable through every order, it is not the order of the turn but
something of that executable: with the engine before round 4, the 1-thread executables
differed by up to 1.5x depending on where numpy had placed their state arrays (64-byte
alignment, benchmarks/RESULTS.md "Thread scaling, round 4"). CPU time, not wall time, so
the load of a shared machine matters less; the load is printed.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

from .suite import BENCHMARKS, build_network

NAMES = {"1a": 1, "2": 2, "all": "all", "1b": 1}
ORDERS = (("1a", "2", "all", "1b"), ("all", "1a", "2", "1b"), ("1b", "all", "2", "1a"), ("2", "1b", "1a", "all"))


def main(argv=None) -> int:
    from backends import get_backend

    ap = argparse.ArgumentParser(prog="python -m benchmarks.thread_order", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default="cuba", help="one network of the suite (default cuba)")
    ap.add_argument("--repeats", type=int, default=6, help="rounds of the four orders")
    args = ap.parse_args(argv)
    if args.only not in BENCHMARKS:
        print(f"--only: unknown network {args.only}; expected one of {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    net, duration, _ = BENCHMARKS[args.only]
    g = build_network(net).to_ir()
    exes = {k: get_backend("native").compile(g, threads=v) for k, v in NAMES.items()}
    for e in exes.values():
        e.run(0.01)
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    cpu = {(o, k): [] for o in range(len(ORDERS)) for k in NAMES}
    for _ in range(args.repeats):
        for o, order in enumerate(ORDERS):
            for k in order:
                c0 = exes[k].sim.kernel.thread_cpu
                exes[k].run(duration)
                cpu[(o, k)].append(float((exes[k].sim.kernel.thread_cpu - c0).max()))
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{args.only}, {duration} s per run, busiest thread's CPU s (median of {args.repeats}):")
    for k in NAMES:
        allk = [x for o in range(len(ORDERS)) for x in cpu[(o, k)]]
        print(f"  {k:>3} ({exes[k].sim.threads} thread(s)): {statistics.median(allk):.4f}")
    for o, order in enumerate(ORDERS):
        print("  order " + ", ".join(f"{k} {statistics.median(cpu[(o, k)]):.4f}" for k in order))
    return 0


if __name__ == "__main__":
    sys.exit(main())
