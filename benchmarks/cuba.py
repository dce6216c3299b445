"""CUBA (Brian2's examples/CUBA.py, 4000 neurons, 1 s): the native engine against Brian2.

Measured in the same run, median of ``--repeats`` (default 3):

* simulation phase per simulated second: native vs Brian2 cpp_standalone (its own
  run-time measurement, build reported separately) and Brian2 runtime cython;
* end to end, process start to results on disk: ``spikecore run examples/cuba.yaml``
  vs the Brian2 cpp_standalone script including code generation and compilation
  into a fresh build directory.

    python -m benchmarks.cuba [--repeats 3] [--duration 1]

Prints a table of ratios (> 1 means spikecore is faster) and firing rates beside
the times, so a fast wrong run is caught.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.brian2_reference import median, run_brian2

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "cuba.yaml"


def native_sim(duration: float) -> dict:
    from backends import get_backend
    from spikecore.io import load_network

    g = load_network(MODEL).to_ir()
    exe = get_backend("native").compile(g)
    res = exe.run(duration)
    spikes = sum(t.size for t, _ in res.spikes.values())
    return {"sim_s": res.wall_s, "build_s": exe.build_s, "spikes": spikes, "n": g.n_neurons}


def native_end_to_end(duration: float) -> dict:
    out = tempfile.mkdtemp(prefix="cuba-native-")
    cmd = [sys.executable, "-m", "spikecore", "run", str(MODEL), "--duration", f"{duration}s", "--out", out,
           "--no-plot"]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(p.stderr)
    summary = json.loads((Path(out) / "summary.json").read_text())
    return {"wall_s": wall, "spikes": sum(v["spikes"] for v in summary["populations"].values())}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--json", help="also write the raw measurements to this file")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    d, k = args.duration, args.repeats
    rows = {}
    print(f"CUBA 4000 neurons, {d:g} s simulated, median of {k}", flush=True)
    rows["native"] = [native_sim(d) for _ in range(k)]
    rows["brian2 cpp_standalone"] = [run_brian2("cuba", "cpp_standalone", d) for _ in range(k)]
    rows["brian2 cython"] = [run_brian2("cuba", "cython", d, fresh_build=False) for _ in range(k)]
    e2e_native = [native_end_to_end(d) for _ in range(k)]
    nat = median(rows["native"], "sim_s")
    print(f"\n{'system':<24}{'sim s/bio s':>12}{'build s':>10}{'rate Hz':>9}{'native faster by':>18}")
    for name, runs in rows.items():
        sim = median(runs, "sim_s") / d
        rate = median(runs, "spikes") / (runs[0]["n"] * d)
        print(f"{name:<24}{sim:>12.4f}{median(runs, 'build_s'):>10.3f}{rate:>9.2f}"
              f"{median(runs, 'sim_s') / nat:>17.2f}x")
    b2_e2e = median(rows["brian2 cpp_standalone"], "wall_s")
    nat_e2e = median(e2e_native, "wall_s")
    print(f"\nend to end (process start to results on disk): spikecore run {nat_e2e:.2f} s, "
          f"Brian2 cpp_standalone incl. build {b2_e2e:.2f} s -> spikecore {b2_e2e / nat_e2e:.1f}x faster")
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "e2e_native": e2e_native}, indent=2))


if __name__ == "__main__":
    main()
