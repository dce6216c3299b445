"""NEST 3.10's full-scale cortical microcircuit (INM-6's PyNEST implementation, PyPI
``microcircuit`` 1.0, Poisson background) over several network seeds: the full-scale
reference of issue 20, for an idle machine.

    python -m benchmarks.microcircuit_nest_full [--seeds 1-3] [--threads 4] [--presim 0.5] [--sim 1.0]
                                                [--out benchmarks/data/microcircuit_nest_1.0.json]
                                                [--force]

Each seed is one fresh NEST process (benchmarks/microcircuit.py's ``run_nest`` at scale 1),
appended to the JSON as soon as it finishes (a stopped run keeps its finished seeds and
resumes after them); the JSON has the format of the scale-0.1 reference, so

    python -m benchmarks.microcircuit --against benchmarks/data/microcircuit_nest_1.0.json --seeds 1-3

compares native runs with it (rates within 5 %, CV of ISI within 0.05) and
benchmarks/microcircuit_full.py's single native run can be read beside it.

NEST 3.10 holds at most 134,217,726 connections of one synapse model per thread (virtual
process): a local connection id has 27 bits (``MAX_LCID`` in nestkernel/nest_types.h; beyond it
``Connect`` raises "KernelException: Too many connections"). The full-scale model's 2.99·10⁸
static synapses therefore need at least 3 threads; the default is 4 (two per core on this
2-core machine, the same work on each core), and fewer are refused before NEST starts.

NEST needs 16-17 GiB at full scale and, extrapolated from scale 0.5 (34.5 s per simulated
second, 4.4 GiB, 2 threads), over 100 s of wall time per simulated second: hours for three
seeds. It must not run beside other work on a shared machine: the script refuses to start
when less than ``NEED_GIB`` GiB are available or the 1-minute load average is above
``MAX_LOAD`` (``--force`` skips both checks).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NEED_GIB = 20.0     # NEST's 16-17 GiB plus headroom
MAX_LOAD = 0.5      # per core
#: NEST 3.10: connections of one synapse model per virtual process (27-bit local connection id)
NEST_MAX_CONNECTIONS_PER_THREAD = 134_217_726
#: the full-scale model's recurrent synapses (examples/microcircuit.yaml, seed-independent total)
FULL_SCALE_SYNAPSES = 298_958_137


def min_threads() -> int:
    """Fewest NEST threads that hold the full-scale model's connections (ceil; NEST spreads
    the targets round robin over threads, so each holds about an equal share)."""
    return -(-FULL_SCALE_SYNAPSES // NEST_MAX_CONNECTIONS_PER_THREAD)


def available_gib() -> float:
    """MemAvailable of /proc/meminfo, GiB."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def refusal(force: bool) -> str | None:
    """Why this machine should not run the reference now (None: it may)."""
    if force:
        return None
    free = available_gib()
    if free < NEED_GIB:
        return f"{free:.1f} GiB available, NEST's full-scale microcircuit needs about {NEED_GIB:g} GiB"
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    if load > MAX_LOAD:
        return f"load average {load:.2f} per core (above {MAX_LOAD}): the machine is not idle"
    return None


def main(argv=None):
    from benchmarks.microcircuit import parse_seeds, write_reference

    ap = argparse.ArgumentParser(prog="python -m benchmarks.microcircuit_nest_full", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="1-3", help="network seeds (NEST's rng_seed), default 1-3")
    ap.add_argument("--threads", type=int, default=4,
                    help=f"NEST threads, at least {min_threads()} (NEST's connections per thread), default 4")
    ap.add_argument("--presim", type=float, default=0.5, help="transient discarded, s")
    ap.add_argument("--sim", type=float, default=1.0, help="measured window, s")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "data" / "microcircuit_nest_1.0.json"))
    ap.add_argument("--force", action="store_true", help="run even if memory or load say the machine is busy")
    args = ap.parse_args(argv)
    if args.threads < min_threads():
        ap.error(f"--threads {args.threads}: NEST 3.10 holds at most {NEST_MAX_CONNECTIONS_PER_THREAD:,} "
                 f"connections of one synapse model per thread, the full-scale model has "
                 f"{FULL_SCALE_SYNAPSES:,}: use --threads {min_threads()} or more (4 on 2 cores)")
    why = refusal(args.force)
    if why:
        print(f"not running: {why} (--force runs anyway)", file=sys.stderr)
        raise SystemExit(2)
    write_reference(Path(args.out), parse_seeds(args.seeds), 1.0, args.threads, args.presim, args.sim)


if __name__ == "__main__":
    main()
