"""Lava's time per step on a 4000-neuron recurrent network, both formats, beside the native engine.

The network is Brian2's CUBA (examples/cuba.yaml: 3200 + 800 LIF, p = 0.02, ~320k
synapses, delay 0.1 ms) made Loihi-representable so every engine runs the *same*
IR: one synaptic time constant (5 ms for both receptors) and no refractory period
(Loihi's fixed-point LIF has none). Measured in the same run, median of
``--repeats`` (default 3):

* native engine: simulation phase per step;
* Lava floating_pt and bit-accurate fixed_pt (Loihi2SimCfg): per step of the run
  loop (Lava's compile and process start-up reported separately);
* once, for reference, Lava's own DelaySparse model (it rebuilds its delay-stacked
  weight matrix every step) over ``--upstream-steps`` steps, against the cached
  model backends/lava.py uses (same arithmetic, tests/backends/test_lava.py).

    python -m benchmarks.lava_backend [--repeats 3] [--steps 1000] [--upstream-steps 20]

Prints ms per step, the ratio to the native engine (> 1: Lava is slower) and the
firing rate beside each time, so a fast wrong run is caught.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "examples" / "cuba.yaml"


def network():
    from spikecore.io import load_network

    net = load_network(MODEL)
    for pop in net.populations.values():
        pop.params["tau_syn"] = {"exc": "5 ms", "inh": "5 ms"}
        pop.params["t_refrac"] = "0 ms"
        pop.__post_init__()          # re-validate the edited parameters
    return net.to_ir()


def rate(res) -> float:
    n = sum(res.sizes.values())
    return sum(t.size for t, _ in res.spikes.values()) / (n * res.duration)


def run_native(g, steps):
    from backends import get_backend
    res = get_backend("native").compile(g).run(steps * g.dt)
    return {"step_ms": 1e3 * res.wall_s / steps, "rate": rate(res)}


def run_lava(g, steps, fmt):
    from backends import get_backend
    res = get_backend("lava").compile(g, format=fmt).run(steps * g.dt)
    lv = res.extra["lava"]
    return {"step_ms": lv["step_ms"], "rate": rate(res), "startup_s": lv["compile_s"] + lv["startup_s"],
            "processes": lv["processes"]}


def run_upstream_delays(g, steps, fmt, cached):
    """The plan's process graph with Lava's own (uncached) or our cached DelaySparse model."""
    from lava.magma.core.run_configs import Loihi2SimCfg

    from backends import lava as bl
    models = bl.import_lava()
    p = bl.plan(g, fmt)
    with tempfile.TemporaryDirectory() as wd:
        graph = bl.build(p, steps, wd)
        rt = bl._Runtime(graph)
        try:
            exe = graph.anchor.compile(Loihi2SimCfg(
                exception_proc_model_map=models.model_map(graph.processes, p.fixed, cached)))
            graph.anchor.create_runtime(executable=exe)
            rt.runtime = graph.anchor.runtime
            rt.step(1)                       # the first step builds the cache: keep it out of the timing
            t0 = time.perf_counter()
            rt.step(steps - 1)
            return 1e3 * (time.perf_counter() - t0) / (steps - 1)
        finally:
            rt.stop()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--upstream-steps", type=int, default=20)
    args = ap.parse_args(argv)
    g = network()
    print(f"network: {g.n_neurons} neurons, {g.n_synapses} synapses, dt {g.dt * 1e3:g} ms, "
          f"{args.steps} steps, median of {args.repeats}", flush=True)
    rows = {}
    for name, fn in (("native", lambda: run_native(g, args.steps)),
                     ("lava float", lambda: run_lava(g, args.steps, "float")),
                     ("lava fixed", lambda: run_lava(g, args.steps, "fixed"))):
        runs = [fn() for _ in range(args.repeats)]
        rows[name] = {k: statistics.median(r[k] for r in runs) for k in ("step_ms", "rate")}
        if "startup_s" in runs[0]:
            rows[name]["startup_s"] = statistics.median(r["startup_s"] for r in runs)
            rows[name]["processes"] = runs[0]["processes"]
        print(f"  {name}: {rows[name]['step_ms']:.3f} ms/step", flush=True)
    base = rows["native"]["step_ms"]
    lines = ["| engine | ms per step | x native | rate (Hz) | start-up (s) | Lava processes |",
             "|---|---|---|---|---|---|"]
    for name, r in rows.items():
        procs = ", ".join(f"{n} {k}" for k, n in r.get("processes", {}).items()) or "-"
        start = f"{r['startup_s']:.2f}" if "startup_s" in r else "-"
        lines.append(f"| {name} | {r['step_ms']:.3f} | {r['step_ms'] / base:.0f} | {r['rate']:.2f} | {start} "
                     f"| {procs} |")
    if args.upstream_steps > 1:
        for fmt in ("float", "fixed"):
            up = run_upstream_delays(g, args.upstream_steps, fmt, cached=False)
            ours = run_upstream_delays(g, args.upstream_steps, fmt, cached=True)
            lines.append(f"| lava {fmt}, Lava's own DelaySparse ({args.upstream_steps} steps, 1 run) | {up:.1f} | "
                         f"{up / base:.0f} | - | - | cached model on the same steps: {ours:.2f} ms/step |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
