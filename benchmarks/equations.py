"""Equation-defined models: CUBA with its model written as equations against the built-in one.

Both networks are Brian2's examples/CUBA.py (4000 neurons, 1 s): ``examples/cuba.yaml``
(model lif_cuba, the engine's vectorised C update) and ``examples/equations_lif.yaml`` (the
same equations in Brian2's syntax, compiled by numba from Brian2's exact state updater:
spikecore/engine/equations.py). Measured in the same run, median of ``--repeats``:
simulation seconds per simulated second of each and their ratio, and the equation model's
compile time (Brian2's analysis and numba, in a fresh process: nothing cached).

    python -m benchmarks.equations [--repeats 3] [--duration 1]

Rates are printed beside the times, so a fast wrong run is caught.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"lif_cuba (built-in)": ROOT / "examples" / "cuba.yaml",
          "equations (numba)": ROOT / "examples" / "equations_lif.yaml"}

_RUN = """
import json, sys, time
from backends import get_backend
from spikecore.io import load_network
g = load_network(sys.argv[1]).to_ir()
t0 = time.perf_counter()
exe = get_backend("native").compile(g)
build = time.perf_counter() - t0
res = exe.run(float(sys.argv[2]))
print(json.dumps({"sim_s": res.wall_s, "build_s": build, "spikes": int(sum(t.size for t, _ in res.spikes.values())),
                  "n": g.n_neurons}))
"""


def native(model: Path, duration: float) -> dict:
    p = subprocess.run([sys.executable, "-c", _RUN, str(model), str(duration)], capture_output=True, text=True,
                       cwd=ROOT)
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    args = ap.parse_args(argv)
    runs = {name: [] for name in MODELS}
    for _ in range(args.repeats):
        for name, model in MODELS.items():     # interleaved: load changes hit both alike
            runs[name].append(native(model, args.duration))
    base = median([r["sim_s"] for r in runs["lif_cuba (built-in)"]]) / args.duration
    print(f"{'model':22s} {'sim s / bio s':>14s} {'build s':>8s} {'rate Hz':>8s} {'vs built-in':>12s}")
    for name, rs in runs.items():
        sim = median([r["sim_s"] for r in rs]) / args.duration
        rate = rs[0]["spikes"] / rs[0]["n"] / args.duration
        print(f"{name:22s} {sim:14.4f} {median([r['build_s'] for r in rs]):8.2f} {rate:8.2f} {sim / base:11.2f}x")


if __name__ == "__main__":
    main()
