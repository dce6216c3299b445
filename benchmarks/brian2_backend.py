"""CUBA through spikecore's Brian2 backend vs the same network written by hand in Brian2.

What the backend costs on top of Brian2 itself, per device, measured in the same
run (median of ``--repeats``, default 3), each run in a fresh interpreter so
Brian2's process-wide state never carries over:

* runtime (Cython target): time of ``run(duration)`` after a 1 ms warm-up run
  (the warm-up generates and compiles the code; both sides' caches are warm);
* cpp_standalone: the simulation loop as Brian2's generated program measures it
  (warm project directories: make has nothing to recompile);
* both: the whole process, start to results: import, network construction,
  code generation (and for standalone compilation and launch) and simulation.

The hand-written side is benchmarks/brian2_reference.py (Brian2's examples/CUBA.py
verbatim: one NeuronGroup with exc/inh subgroups, two Synapses); spikecore's side
is examples/cuba.yaml (two populations, four projections, per-population spike
monitors), same sizes, parameters and connection probability but its own draws,
so rates are printed beside the times.

    python -m benchmarks.brian2_backend [--repeats 3] [--duration 1] [--devices runtime,cpp_standalone]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.brian2_reference import median, run_brian2

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "cuba.yaml"

_OURS = r'''
import json, sys, time
t_start = time.perf_counter()
sys.path.insert(0, {root!r})
from backends import get_backend
from spikecore.io import load_network
g = load_network({model!r}).to_ir()
options = {options!r}
exe = get_backend("brian2").compile(g, **options)
if options.get("device") == "cpp_standalone":
    res = exe.run({duration})
    sim, build = res.wall_s, res.build_s
else:
    exe.run(0.001)
    t0 = time.perf_counter()
    res = exe.run({duration})
    sim, build = time.perf_counter() - t0, 0.0
spikes = int(sum(t.size for t, _ in res.spikes.values()))
print("RESULT " + json.dumps({{"sim_s": sim, "build_s": build, "spikes": spikes, "n": int(g.n_neurons),
                               "process_s": time.perf_counter() - t_start}}))
'''


def run_ours(device: str, duration: float) -> dict:
    options = {"device": device} if device == "cpp_standalone" else {}
    src = _OURS.format(root=str(ROOT), model=str(MODEL), options=options, duration=duration)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, cwd=ROOT, timeout=1800,
                         env=dict(os.environ, OMP_NUM_THREADS="1"))
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"spikecore brian2 {device} run failed:\n{out.stderr[-2000:]}")
    res = json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")][-1][len("RESULT "):])
    res["wall_s"] = wall
    return res


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--duration", type=float, default=1.0, help="simulated seconds")
    ap.add_argument("--devices", default="runtime,cpp_standalone")
    ap.add_argument("--json", help="also write the raw measurements to this file")
    args = ap.parse_args(argv)
    d, k = args.duration, args.repeats
    devices = [x.strip() for x in args.devices.split(",") if x.strip()]
    print(f"CUBA 4000 neurons, {d:g} s simulated, median of {k} (after one warm-up run each)", flush=True)
    raw = {}
    for dev in devices:
        hand_dev = "cython" if dev == "runtime" else dev
        run_ours(dev, min(d, 0.01))                                 # warm the caches
        run_brian2("cuba", hand_dev, min(d, 0.01), fresh_build=False)
        ours, hand = [], []
        for _ in range(k):                                           # interleaved: same machine load
            ours.append(run_ours(dev, d))
            hand.append(run_brian2("cuba", hand_dev, d, fresh_build=False))
        raw[dev] = {"spikecore": ours, "hand-written": hand}
    print(f"\n{'device':<16}{'side':<14}{'sim s':>9}{'process s':>11}{'rate Hz':>9}")
    for dev, sides in raw.items():
        for side, runs in sides.items():
            rate = median(runs, "spikes") / (runs[0]["n"] * d)
            print(f"{dev:<16}{side:<14}{median(runs, 'sim_s'):>9.3f}{median(runs, 'wall_s'):>11.2f}{rate:>9.2f}")
        o, h = sides["spikecore"], sides["hand-written"]
        print(f"{'':<16}overhead: simulation x{median(o, 'sim_s') / median(h, 'sim_s'):.2f} "
              f"({median(o, 'sim_s') - median(h, 'sim_s'):+.3f} s), whole process "
              f"{median(o, 'wall_s') - median(h, 'wall_s'):+.2f} s (x{median(o, 'wall_s') / median(h, 'wall_s'):.2f})")
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=2))


if __name__ == "__main__":
    main()
