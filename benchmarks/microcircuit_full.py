"""The full-scale cortical microcircuit (Potjans & Diesmann 2014, 77,169 neurons, 3·10⁸
synapses) on the native engine: build cost, and a short run's rates, real-time factor and
event throughput against NEST's published full-scale rates.

    python -m benchmarks.microcircuit_full [--build-only] [--threads 2] [--seed 55]
                                           [--presim 0.2] [--sim 0.3] [--drive poisson]
                                           [--delivery auto]
                                           [--out results/microcircuit_full]

One fresh process (examples/microcircuit.py's model file at scale 1, float32 weights):
``Network.to_ir`` plus the native backend's compile (the build: wall and CPU seconds, the
process's peak RSS (VmHWM), the engine's bytes per synapse), then, unless ``--build-only``,
``presim + sim`` seconds of model time (wall and CPU seconds of the run). Rates per
population are read over [presim, presim + sim) and compared with NEST's microcircuit
example's ``full_mean_rates`` (``FULL_MEAN_RATES``; ``RATE_TOLERANCE``, 10 %). Work per
simulated second: recurrent synaptic events (each population's spikes times its mean
out-degree), Poisson input events (the sources' expected spikes), neuron updates and Poisson
draws (one per neuron and step each). The full-scale NEST reference
(benchmarks/microcircuit_nest_full.py) needs 16–17 GiB and an idle machine.

Needs about 3 GB of memory (2.4 GB of synapse table); the build takes about a minute of CPU
time, the run several CPU seconds per simulated second: on a loaded machine the wall times
are the machine's, not the engine's (the CPU times are the comparable numbers).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"]
#: NEST's microcircuit example (pynest/examples/Potjans_2014, helpers / the successor's README):
#: mean rates at full scale, Poisson drive, Hz
FULL_MEAN_RATES = {"L23e": 0.903, "L23i": 2.965, "L4e": 4.414, "L4i": 5.876,
                   "L5e": 7.569, "L5i": 8.633, "L6e": 1.105, "L6i": 7.829}
RATE_TOLERANCE = 0.10      # relative, the bar

CHILD = r'''
import json, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from spikecore.io import load_network
from backends import get_backend
from benchmarks.memory_estimate import _hwm
path, threads, presim, sim, build_only, delivery = {path!r}, {threads}, {presim}, {sim}, {build_only}, {delivery!r}
base = _hwm()
t0, c0 = time.perf_counter(), time.process_time()
g = load_network(path).to_ir()
exe = get_backend("native").compile(g, threads=threads, delivery=delivery)
out = {{"build_s": time.perf_counter() - t0, "build_cpu_s": time.process_time() - c0,
       "build_peak_mb": _hwm() / 2**20, "import_peak_mb": base / 2**20,
       "n_synapses": int(exe.sim.n_synapses), "bytes_per_synapse": float(exe.sim.bytes_per_synapse),
       "n": int(g.n_neurons), "threads": threads, "delivery": exe.sim.delivery}}
sizes = {{k: p.size for k, p in g.populations.items()}}
out["sizes"] = sizes
out["out_synapses"] = {{k: 0 for k in sizes}}
for e in g.projections.values():
    if e.pre in sizes:
        out["out_synapses"][e.pre] += int(e.n_synapses)
out["poisson_rate_hz"] = {{k: float(np.sum(s.rates)) for k, s in g.poisson_sources.items()}}
if not build_only:
    t0, c0 = time.perf_counter(), time.process_time()
    res = exe.run(presim + sim)
    out.update(run_s=time.perf_counter() - t0, run_cpu_s=time.process_time() - c0, peak_mb=_hwm() / 2**20)
    out["spikes"] = {{k: int(np.count_nonzero(np.asarray(t) >= presim - 1e-9)) for k, (t, i) in res.spikes.items()}}
    out["spikes_total"] = {{k: int(np.asarray(t).size) for k, (t, i) in res.spikes.items()}}
print("RESULT " + json.dumps(out))
'''


def run(threads: int, seed: int, presim: float, sim: float, drive: str, build_only: bool,
        timeout: float = 7200, delivery: str = "auto") -> dict:
    """The child's measurements (module docstring) of one fresh process."""
    from benchmarks.microcircuit import _run, generator
    text = generator().model_file(scale=1.0, drive=drive, seed=seed, duration_ms=(presim + sim) * 1e3)
    with tempfile.TemporaryDirectory(prefix="microcircuit-full-") as tmp:
        path = os.path.join(tmp, "microcircuit.yaml")
        Path(path).write_text(text)
        src = CHILD.format(root=str(ROOT), path=path, threads=threads, presim=presim, sim=sim, build_only=build_only,
                           delivery=delivery)
        return _run(src, threads, timeout)


def summary(r: dict, presim: float, sim: float, dt: float = 1e-4) -> dict:
    """Rates against FULL_MEAN_RATES, real-time factors and work per simulated second."""
    out = {"rates": {}, "bad": []}
    for name in NAMES:
        rate = r["spikes"][name] / r["sizes"][name] / sim
        ref = FULL_MEAN_RATES[name]
        out["rates"][name] = (rate, rate / ref - 1)
        if abs(rate / ref - 1) > RATE_TOLERANCE:
            out["bad"].append(f"{name} {rate:.3f} Hz vs {ref} Hz ({(rate / ref - 1) * 100:+.1f} %)")
    T = presim + sim
    recurrent = sum(r["spikes_total"][k] * r["out_synapses"][k] / r["sizes"][k] for k in NAMES) / T
    poisson = sum(r["poisson_rate_hz"].values())
    steps = round(1.0 / dt)
    out.update(rtf_wall=r["run_s"] / T, rtf_cpu=r["run_cpu_s"] / T, recurrent_events_per_bio_s=recurrent,
               poisson_events_per_bio_s=poisson, neuron_updates_per_bio_s=r["n"] * steps,
               poisson_draws_per_bio_s=r["n"] * steps,
               events_per_wall_s=(recurrent + poisson) * T / r["run_s"],
               events_per_cpu_s=(recurrent + poisson) * T / r["run_cpu_s"])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.microcircuit_full", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-only", action="store_true", help="build, measure, stop (no run)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=55, help="network seed (default 55, the package's)")
    ap.add_argument("--presim", type=float, default=0.2, help="transient discarded, s (default 0.2)")
    ap.add_argument("--sim", type=float, default=0.3, help="measured window, s (default 0.3)")
    ap.add_argument("--drive", choices=("poisson", "dc"), default="poisson")
    ap.add_argument("--delivery", choices=("auto", "ring", "bucket"), default="auto",
                    help="the engine's delivery (spikecore.engine.delivery; auto: buckets at full scale)")
    ap.add_argument("--out", default="results/microcircuit_full", help="directory for microcircuit_full.json")
    args = ap.parse_args(argv)
    load = os.getloadavg()
    r = run(args.threads, args.seed, args.presim, args.sim, args.drive, args.build_only, delivery=args.delivery)
    r["load_before"] = load
    r["load_after"] = os.getloadavg()
    print(f"full scale, {args.drive} drive, seed {args.seed}, {args.threads} thread(s), {r['delivery']} delivery; "
          f"load average before "
          f"{load[0]:.1f}, after {r['load_after'][0]:.1f} (2 cores)")
    print(f"build: {r['build_s']:.1f} s wall, {r['build_cpu_s']:.1f} s CPU, peak RSS {r['build_peak_mb']:.0f} MiB "
          f"(imports {r['import_peak_mb']:.0f}), {r['n_synapses']} synapses, "
          f"{r['bytes_per_synapse']:.2f} B/synapse in the engine")
    if not args.build_only:
        s = summary(r, args.presim, args.sim)
        r["summary"] = s
        print(f"run: {args.presim + args.sim:g} s of model time in {r['run_s']:.1f} s wall, {r['run_cpu_s']:.1f} s CPU "
              f"(real-time factor {s['rtf_wall']:.2f} wall, {s['rtf_cpu']:.2f} CPU), peak RSS {r['peak_mb']:.0f} MiB")
        print(f"per simulated s: {s['recurrent_events_per_bio_s']:.3g} recurrent events, "
              f"{s['poisson_events_per_bio_s']:.3g} Poisson input events, {s['neuron_updates_per_bio_s']:.3g} neuron "
              f"updates and Poisson draws; {s['events_per_wall_s']:.3g} events per wall s, "
              f"{s['events_per_cpu_s']:.3g} per CPU s")
        print(f"rates over [{args.presim:g}, {args.presim + args.sim:g}) s against NEST's full_mean_rates:")
        print("| population | rate (Hz) | NEST (Hz) | diff |\n|---|---|---|---|")
        for name in NAMES:
            rate, diff = s["rates"][name]
            print(f"| {name} | {rate:.3f} | {FULL_MEAN_RATES[name]} | {diff * 100:+.1f} % |")
        print("verdict:", "every population within 10 %" if not s["bad"] else "; ".join(s["bad"]))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "microcircuit_full.json").write_text(json.dumps({"args": vars(args), "result": r}, indent=1))


if __name__ == "__main__":
    main()
