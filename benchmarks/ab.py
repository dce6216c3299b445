"""Before/after timing of an engine change: the suite on two source trees, alternating in one run.

    python -m benchmarks.ab BASE_TREE [--rounds 5] [--only cuba,brunel] [--systems native]

runs ``python -m benchmarks --only ... --systems ... --repeats 1`` in BASE_TREE (a checkout of
the commit before the change, with its compiled engine) and in this tree, alternately, ROUNDS
times each, so that the load of a shared machine falls on both alike; then prints, per
benchmark, system, threads and precision, the median simulation time (wall and CPU seconds per
biological second) of each tree and the ratio this tree / base. Records go to
OUT/{base,this}_<round>/bench.json. The per-neuron threshold of the alif change was checked
so (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tree: Path, out: Path, only: str, systems: str) -> list:
    cmd = [sys.executable, "-m", "benchmarks", "--only", only, "--systems", systems, "--repeats", "1",
           "--out", str(out)]
    subprocess.run(cmd, cwd=tree, check=True, capture_output=True, text=True)
    return json.loads((out / "bench.json").read_text())


def _key(rec: dict) -> tuple:
    return rec["benchmark"], rec["system"], rec["threads"], rec["precision"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("base", type=Path, help="the source tree before the change (its engine built)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", default="cuba,brunel")
    ap.add_argument("--systems", default="native")
    ap.add_argument("--out", type=Path, default=Path("results/ab"))
    args = ap.parse_args(argv)
    times: dict = {}
    for r in range(args.rounds):
        for label, tree in (("base", args.base.resolve()), ("this", ROOT)):
            for rec in _run(tree, args.out.resolve() / f"{label}_{r}", args.only, args.systems):
                if "sim_s_per_bio_s" not in rec:
                    continue
                entry = times.setdefault(_key(rec), {"base": ([], []), "this": ([], [])})[label]
                entry[0].append(rec["sim_s_per_bio_s"])
                entry[1].append(rec["cpu_s"] / rec["duration_s"])
    print(f"{args.rounds} rounds, alternating base and this tree; median s / bio s")
    print("benchmark  system  threads  precision   wall base   wall this   ratio   CPU base   CPU this   ratio")
    for key, t in sorted(times.items(), key=lambda kv: tuple(map(str, kv[0]))):
        wb, wt = statistics.median(t["base"][0]), statistics.median(t["this"][0])
        cb, ct = statistics.median(t["base"][1]), statistics.median(t["this"][1])
        print(f"{key[0]:<10} {key[1]:<7} {key[2]!s:<8} {key[3]:<10} {wb:10.4f} {wt:11.4f} {wt / wb:7.3f} "
              f"{cb:10.4f} {ct:10.4f} {ct / cb:7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
