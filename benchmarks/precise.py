"""Precise-timing mode (issue 8): its cost against grid mode and NEST's *_ps models,
and the convergence of grid mode to it.

Cost, measured in the same run, one thread each: the network is compiled once per
system, then run ``--repeats`` consecutive times for the given duration, grid and
precise mode alternating (so a busy machine slows both alike); the table gives the
median wall time and the median CPU time of the simulating thread per simulated second
of the simulation phase (CPU time is the steadier on a shared machine):

* CUBA (examples/cuba.yaml): native grid vs native precise vs NEST iaf_psc_exp_ps;
* Brunel 10k (examples/brunel.yaml, shortened to ``--brunel-duration``): native grid vs
  native precise vs NEST iaf_psc_delta_ps with poisson_generator_ps.

NEST gets the same neuron and synapse parameters but builds its own random
connectivity with its own rules (pairwise_bernoulli): the rows compare cost, with rates
printed beside them so a fast wrong run is caught.

Convergence (``--plot PATH``): on a small deterministic recurrent network, the mean
spike-time error of both modes against precise mode at the coarsest dt, for dt from
0.1 ms down; grid mode converges at first order, precise mode is dt-independent.

    python -m benchmarks.precise [--repeats 3] [--brunel-duration 0.2] [--no-nest] [--plot docs/precise_convergence.png]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MS = 1e-3


def native_times(model: Path, duration: float, repeats: int):
    """Grid and precise mode of the native engine, runs alternating (the mode that goes
    first alternates too): {timing: (walls, cpus, rate Hz, build s, slow-path fraction)}."""
    from backends import get_backend
    from spikecore.io import load_network

    net = load_network(model)
    exes, graphs = {}, {}
    for timing in ("grid", "precise"):
        graphs[timing] = net.to_ir(timing=timing)
        exes[timing] = get_backend("native").compile(graphs[timing], timing=timing)
    walls = {t: [] for t in exes}
    cpus = {t: [] for t in exes}
    spikes = {t: 0 for t in exes}
    for r in range(repeats):
        for timing in (("grid", "precise") if r % 2 == 0 else ("precise", "grid")):
            c0 = time.thread_time()
            res = exes[timing].run(duration)
            cpus[timing].append(time.thread_time() - c0)
            walls[timing].append(res.wall_s)
            spikes[timing] += sum(t.size for t, _ in res.spikes.values())
    out = {}
    for timing, exe in exes.items():
        g = graphs[timing]
        slow = None
        if timing == "precise":
            slow = exe.sim.kernel.slow_neuron_steps / (repeats * round(duration / g.dt) * g.n_neurons)
        out[timing] = (walls[timing], cpus[timing], spikes[timing] / (g.n_neurons * duration * repeats),
                       exe.build_s, slow)
    return out


def nest_times(which: str, duration: float, repeats: int):
    import nest

    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.set(resolution=0.1, local_num_threads=1, rng_seed=1)
    t0 = time.perf_counter()
    if which == "cuba":
        params = {"tau_m": 20.0, "C_m": 200.0, "E_L": -49.0, "V_th": -50.0, "V_reset": -60.0, "t_ref": 5.0,
                  "tau_syn_ex": 5.0, "tau_syn_in": 10.0}
        pop = nest.Create("iaf_psc_exp_ps", 4000, params=params)
        pop.V_m = nest.random.uniform(-60.0, -50.0)
        exc, inh = pop[:3200], pop[3200:]
        conn = {"rule": "pairwise_bernoulli", "p": 0.02}
        nest.Connect(exc, pop, conn, {"weight": 1.62e-3 / 1e8 * 1e12, "delay": 0.1})   # 1.62 mV = r * 16.2 pA
        nest.Connect(inh, pop, conn, {"weight": -9e-3 / 1e8 * 1e12, "delay": 0.1})
    else:
        params = {"tau_m": 20.0, "C_m": 200.0, "E_L": 0.0, "V_th": 20.0, "V_reset": 10.0, "t_ref": 2.0}
        pop = nest.Create("iaf_psc_delta_ps", 10000, params=params)
        pop.V_m = nest.random.uniform(0.0, 20.0)
        exc, inh = pop[:8000], pop[8000:]
        noise = nest.Create("poisson_generator_ps", params={"rate": 20000.0})
        nest.Connect(noise, pop, "all_to_all", {"weight": 0.1, "delay": 0.1})
        conn = {"rule": "pairwise_bernoulli", "p": 0.1}
        nest.Connect(exc, pop, conn, {"weight": 0.1, "delay": 1.5})
        nest.Connect(inh, pop, conn, {"weight": -0.5, "delay": 1.5})
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    build = time.perf_counter() - t0
    walls = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        nest.Simulate(duration / MS)
        walls.append(time.perf_counter() - t0)
    return walls, rec.n_events / (len(pop) * duration * repeats), build


# ----------------------------------------------------------------------------- convergence
def recurrent_network(model: str, dt, seed: int = 5, n: int = 30, delays_ms=(1.0, 1.5, 2.0), mixed_sign=False):
    """Deterministic recurrent network (also tests/engine/test_precise.py's): heterogeneous
    constant currents, fixed random synapses with delays from ``delays_ms`` (multiples of
    every dt by default); ``dt`` as Network takes it. Excitatory and inhibitory synapses in
    two projections, or (``mixed_sign``, lif_delta) in one, so that one presynaptic neuron's
    synapse group has weights of both signs."""
    from spikecore.network import CurrentSource, FromIndices, Network, Population, Projection, Uniform

    rng = np.random.default_rng(seed)
    net = Network(seed=seed, dt=dt)
    params = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV",
              "t_refrac": "2 ms", "r": "100 Mohm"}
    if model == "lif_cuba":
        params["tau_syn"] = {"exc": "2 ms", "inh": "5 ms"}
    net.add(Population(n, model, params, initial={"v": Uniform("-70 mV", "-52 mV")}, name="n"))
    amps = rng.uniform(180, 260, n)
    for k in range(n):
        net.add(CurrentSource("n", amplitude=f"{amps[k]!r} pA", neurons=[k], name=f"i{k}"))
    pre, post = np.nonzero(rng.random((n, n)) < 0.15)
    w = np.where(rng.random(pre.size) < 0.8, 1.0, -3.0) * rng.uniform(0.5, 1.0, pre.size)
    d = rng.choice(np.asarray(delays_ms), pre.size)
    exc, inh = w > 0, w < 0
    groups = (("ee", exc), ("ii", inh)) if not mixed_sign else (("ei", exc | inh),)
    for name, sel in groups:
        kw = {"receptor": "exc" if name == "ee" else "inh"} if model == "lif_cuba" else {}
        net.add(Projection("n", "n", FromIndices(pre[sel], post[sel]), weight=[f"{x!r} mV" for x in w[sel]],
                           delay=[f"{x!r} ms" for x in d[sel]], name=name, **kw))
    return net


def convergence(model: str, dts, duration: float = 0.1):
    from backends import get_backend

    be = get_backend("native")

    def spikes(dt, timing):
        g = recurrent_network(model, f"{dt!r} s").to_ir(timing=timing)
        t, i = be.compile(g, timing=timing).run(duration).spikes["n"]
        return [np.sort(t[i == k]) for k in range(30)]
    ref = spikes(dts[0], "precise")
    out = {}
    for timing in ("grid", "precise"):
        errs = []
        for dt in dts:
            trains = spikes(dt, timing)
            if any(a.size != b.size for a, b in zip(trains, ref)):
                errs.append(float("nan"))      # a spike gained or lost: no per-spike error
                continue
            errs.append(float(np.mean(np.concatenate([np.abs(a - b) for a, b in zip(trains, ref)]))))
        out[timing] = errs
    return out


def plot_convergence(path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dts = [1e-4, 5e-5, 2.5e-5, 1.25e-5, 6.25e-6]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    lines = []
    for ax, model in zip(axes, ("lif_delta", "lif_cuba")):
        err = convergence(model, dts)
        x = np.array(dts) / MS
        floor = 1e-16
        ax.loglog(x, np.maximum(np.array(err["grid"]) / MS, floor), "o-", label="grid mode")
        # (the precise reference itself, at dts[0], has error 0)
        ax.loglog(x[1:], np.maximum(np.array(err["precise"][1:]) / MS, floor), "s-", label="precise mode")
        ax.loglog(x, x / 2, "k:", lw=1, label="dt / 2 (first order)")
        slope = np.polyfit(np.log(dts), np.log(err["grid"]), 1)[0]
        ax.set_title(f"{model}: grid slope {slope:.2f}")
        ax.set_xlabel("dt (ms)")
        lines.append((model, err, slope))
    axes[0].set_ylabel("mean |spike time error| (ms)")
    axes[0].legend(fontsize="small")
    fig.suptitle("30-neuron recurrent network, 100 ms; reference: precise mode at dt = 0.1 ms", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cuba-duration", type=float, default=1.0, help="simulated seconds per run (default 1)")
    ap.add_argument("--brunel-duration", type=float, default=0.2, help="simulated seconds per run (default 0.2)")
    ap.add_argument("--no-nest", action="store_true", help="skip NEST")
    ap.add_argument("--plot", type=Path, help="write the convergence plot here (PNG)")
    args = ap.parse_args(argv)

    if args.plot:
        for model, err, slope in plot_convergence(args.plot):
            print(f"convergence {model}: grid errors (ms) {[f'{e / MS:.3g}' for e in err['grid']]}, "
                  f"slope {slope:.2f}; precise max {max(err['precise']) / MS:.2g} ms")
        print(f"plot written to {args.plot}")

    rows = []
    for name, model, dur in (("CUBA", ROOT / "examples" / "cuba.yaml", args.cuba_duration),
                             ("Brunel 10k", ROOT / "examples" / "brunel.yaml", args.brunel_duration)):
        res = {}
        for timing, (walls, cpus, rate, build, slow) in native_times(model, dur, args.repeats).items():
            res[timing] = (statistics.median(walls) / dur, statistics.median(cpus) / dur, rate, build, slow)
        if not args.no_nest:
            walls, rate, build = nest_times("cuba" if name == "CUBA" else "brunel", dur, args.repeats)
            res["NEST *_ps"] = (statistics.median(walls) / dur, None, rate, build, None)
        g_wall, g_cpu = res["grid"][0], res["grid"][1]
        for system, (per_s, cpu_s, rate, build, slow) in res.items():
            rows.append((name, dur, system, per_s, per_s / g_wall, cpu_s, None if cpu_s is None else cpu_s / g_cpu,
                         rate, build, slow))

    print(f"\nmedian of {args.repeats} runs after one build, one thread each; grid and precise alternating")
    print("| network (simulated per run) | system | wall s per simulated s | × grid (wall) | CPU s per simulated s "
          "| × grid (CPU) | rate Hz | build s | slow-path neuron-steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, dur, system, per_s, ratio, cpu_s, cpu_ratio, rate, build, slow in rows:
        sl = "" if slow is None else f"{slow:.2%}"
        cs = "" if cpu_s is None else f"{cpu_s:.3f}"
        cr = "" if cpu_ratio is None else f"{cpu_ratio:.2f}"
        print(f"| {name} ({dur:g} s) | {system} | {per_s:.3f} | {ratio:.2f} | {cs} | {cr} | {rate:.2f} | "
              f"{build:.2f} | {sl} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
