"""Song, Miller & Abbott (2000) on spikecore and on Brian2's own example, several seeds.

    python -m benchmarks.song2000 [--seeds 5] [--duration 100] [--out DIR]

spikecore runs examples/stdp_song2000.yaml (1000 Poisson inputs at 15 Hz onto one
conductance-based neuron, additive all-to-all pair STDP) with the network seeds 1..K. The peer
is Brian2's documented example ``examples/synapses/STDP.py`` (Brian2 2.9.0, written out below
unchanged but for the seed, the duration and the monitors), run on Brian2's runtime device in a
fresh interpreter per seed. Both draw their own Poisson trains and initial weights, so the
comparison is statistical: per run the fraction of weights near 0 (< 0.1 g_max) and near
g_max (> 0.9 g_max), and their mean and spread over the seeds. The two neurons differ in one
documented respect (examples/stdp_song2000.yaml: exponential Euler with a 0.1 ms delay against
Brian2's forward Euler with none).

Prints a table and writes DIR/song2000.json.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "stdp_song2000.yaml"

# Brian2 2.9.0, examples/synapses/STDP.py (Song, Miller & Abbott 2000), with seed(), the
# duration from the command line and the final weights printed instead of plotted
BRIAN2_SONG = r'''
import json, sys, time
from brian2 import *
prefs.codegen.target = "cython"
seed(int(sys.argv[1]))
duration = float(sys.argv[2]) * second
N = 1000
taum = 10*ms
taupre = 20*ms
taupost = taupre
Ee = 0*mV
vt = -54*mV
vr = -60*mV
El = -74*mV
taue = 5*ms
F = 15*Hz
gmax = .01
dApre = .01
dApost = -dApre * taupre / taupost * 1.05
dApost *= gmax
dApre *= gmax
eqs_neurons = """
dv/dt = (ge * (Ee-v) + El - v) / taum : volt
dge/dt = -ge / taue : 1
"""
poisson_input = PoissonGroup(N, rates=F)
neurons = NeuronGroup(1, eqs_neurons, threshold='v>vt', reset='v = vr', method='euler')
S = Synapses(poisson_input, neurons,
             """w : 1
                dApre/dt = -Apre / taupre : 1 (event-driven)
                dApost/dt = -Apost / taupost : 1 (event-driven)""",
             on_pre="""ge += w
                    Apre += dApre
                    w = clip(w + Apost, 0, gmax)""",
             on_post="""Apost += dApost
                     w = clip(w + Apre, 0, gmax)""",
             )
S.connect()
S.w = 'rand() * gmax'
spikes = SpikeMonitor(neurons)
t0 = time.perf_counter()
run(duration)
print("RESULT " + json.dumps({"w": (S.w[:] / gmax).tolist(), "post_spikes": int(spikes.num_spikes),
                              "sim_s": time.perf_counter() - t0}))
'''


def fractions(w_rel: np.ndarray) -> dict:
    return {"near_0": float(np.mean(w_rel < 0.1)), "near_max": float(np.mean(w_rel > 0.9))}


def run_spikecore(seed: int, duration: float) -> dict:
    from spikecore.io import load_network
    net = load_network(EXAMPLE)
    net.seed = seed
    t0 = time.perf_counter()
    r = net.run(f"{duration} s")
    w_max = net.to_ir().projections["stdp"].plasticity["w_max"]
    return {"seed": seed, **fractions(r.weights["stdp"]["final"] / w_max),
            "post_spikes": int(r.spikes["neuron"][0].size), "wall_s": time.perf_counter() - t0}


def run_brian2(seed: int, duration: float) -> dict:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", BRIAN2_SONG, str(seed), str(duration)],
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    if out.returncode != 0:
        raise RuntimeError(f"Brian2's STDP example failed (seed {seed}): {out.stderr[-2000:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    return {"seed": seed, **fractions(np.asarray(res["w"])), "post_spikes": res["post_spikes"],
            "wall_s": time.perf_counter() - t0}


def summary(rows: list) -> dict:
    out = {}
    for key in ("near_0", "near_max", "post_spikes"):
        x = np.array([r[key] for r in rows], dtype=float)
        out[key] = {"mean": float(x.mean()), "std": float(x.std(ddof=1)) if x.size > 1 else 0.0}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=5, help="number of seeds (1..K), default 5")
    ap.add_argument("--duration", type=float, default=100.0, help="simulated seconds per run, default 100")
    ap.add_argument("--out", default="results/song2000", help="directory for song2000.json")
    a = ap.parse_args(argv)
    if a.seeds < 2 or a.duration <= 0:
        ap.error("--seeds must be at least 2 and --duration positive")
    rows = {"spikecore": [], "brian2": []}
    for seed in range(1, a.seeds + 1):
        for name, fn in (("spikecore", run_spikecore), ("brian2", run_brian2)):
            r = fn(seed, a.duration)
            rows[name].append(r)
            print(f"{name:9s} seed {seed}: near 0 {r['near_0']:.3f}  near g_max {r['near_max']:.3f}  "
                  f"post spikes {r['post_spikes']}  ({r['wall_s']:.1f} s)", flush=True)
    result = {"duration_s": a.duration, "runs": rows, "summary": {k: summary(v) for k, v in rows.items()}}
    print(f"\n| over {a.seeds} seeds, {a.duration:g} s | near 0 (< 0.1 g_max) | near g_max (> 0.9 g_max) |"
          " postsynaptic spikes |\n|---|---|---|---|")
    for name, s in result["summary"].items():
        print(f"| {name} | {s['near_0']['mean']:.3f} ± {s['near_0']['std']:.3f} | "
              f"{s['near_max']['mean']:.3f} ± {s['near_max']['std']:.3f} | "
              f"{s['post_spikes']['mean']:.0f} ± {s['post_spikes']['std']:.0f} |")
    Path(a.out).mkdir(parents=True, exist_ok=True)
    (Path(a.out) / "song2000.json").write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
