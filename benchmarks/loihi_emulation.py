"""Bit-accurate Loihi emulation: the native engine's Loihi mode against Lava's fixed_pt simulator.

    python -m benchmarks.loihi_emulation [--repeats 3] [--steps 1000] [--sweep 100] [--big-steps 300]

Three parts, all in one run:

1. A 4000-neuron recurrent network (80 synapses into every neuron, 80 % excitatory
   weights 1..4 or 1..6, 20 % inhibitory -40..-1, random biases), ``--steps`` steps, ``--repeats``
   consecutive blocks, in Lava fixed_pt (the recurrent connection as Lava's Sparse and
   as Dense, two activity levels) and in the native Loihi mode. Every block's raster
   and the final u and v must be identical; the ratio of median wall time per step
   (Lava's ``run`` alone, its compilation and process start-up reported apart) is printed.
2. The native mode alone at 100k neurons and 10**7 synapses (delays 1..20 steps, an
   excitatory projection with weight_exp 0 and an inhibitory one with weight_exp -1):
   time per step, synaptic events and neuron updates per second.
3. ``--sweep N`` random Loihi-representable networks (benchmarks.lava_fixed_reference.
   random_knobs: up to 3 groups of up to 40 neurons, up to 6 connections of all four
   kinds, every decay/exponent/sign-mode/delay edge), 150 steps each, in both: the
   count that matched bit for bit (spikes, final u and v) must be all of them.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks.lava_fixed_reference import Conn, FixedNet, LifGroup, build_net, random_knobs, run_lava, to_ir
from spikecore import ir as _ir
from spikecore.engine.loihi import LoihiSimulator

# excitatory weights (1 .. max) of the two activity levels of part 1: about 1 % and 5.5 %
# of the neurons spike per step (10 and 55 Hz at 1 ms steps)
REGIMES = {"low": 4, "high": 6}


def recurrent_net(regime: str, kind: str, n: int = 4000, k: int = 80, seed: int = 1) -> FixedNet:
    rng = np.random.default_rng(seed)
    g = LifGroup("net", n, du=1024, dv=256, vth=100, bias_mant=rng.integers(250, 450, n),
                 bias_exp=np.zeros(n, np.int64), u=np.zeros(n, np.int64), v=rng.integers(0, 100 << 6, n))
    i = np.concatenate([rng.choice(n, k, replace=False) for _ in range(n)])
    j = np.repeat(np.arange(n), k)
    exc = rng.random(i.size) < 0.8
    w = np.where(exc, rng.integers(1, REGIMES[regime] + 1, i.size), rng.integers(-40, 0, i.size))
    return FixedNet([g], [], [Conn("rec", "net", "net", i, j, w, np.zeros(i.size, np.int64), kind=kind)])


def compare_recurrent(regime: str, kind: str, steps: int, repeats: int) -> dict:
    """Native first (so Lava's exiting processes do not share its CPU), then Lava; both run
    ``repeats`` consecutive blocks of ``steps`` from one start."""
    net = recurrent_net(regime, kind)
    t0 = time.perf_counter()
    sim = LoihiSimulator(to_ir(net))
    build = time.perf_counter() - t0
    native_s, native_cpu, rasters = [], [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        r = sim.run_steps(steps)
        native_s.append(time.perf_counter() - t0)
        native_cpu.append(time.process_time() - c0)
        rasters.append(sim.raster(r, "net"))
    raster = np.concatenate(rasters)
    st = sim.state()["net"]
    t0 = time.perf_counter()
    ref = run_lava(net, steps, timing=True, blocks=repeats)
    lava_total = time.perf_counter() - t0
    same = (np.array_equal(raster, ref["spikes"]["net"]) and np.array_equal(st["u"], ref["u"]["net"])
            and np.array_equal(st["v"], ref["v"]["net"]))
    lava_step = statistics.median(ref["run_s"]) / steps
    native_step = statistics.median(native_s) / steps
    return {"regime": regime, "kind": kind, "same": same, "lava_step": lava_step, "native_step": native_step,
            "native_cpu_step": statistics.median(native_cpu) / steps,
            "ratio": lava_step / native_step, "lava_setup": lava_total - sum(ref["run_s"]), "build": build,
            "activity": raster.mean(), "spikes": int(raster.sum()), "synapses": sim.n_synapses}


def big_network(n: int = 100_000, per_neuron: int = 100, seed: int = 2) -> _ir.IRGraph:
    """100k loihi_lif neurons (80 % excitatory), 10**7 synapses, delays 1..20 steps."""
    rng = np.random.default_rng(seed)
    dt = 1e-3
    g = _ir.IRGraph("loihi_big", dt, seed)
    ne = n * 4 // 5
    for name, size in (("exc", ne), ("inh", n - ne)):
        g.populations[name] = _ir.PopulationNode(
            name, size, "loihi_lif", {"du": 1024, "dv": 256, "vth": 100}, {"default": {}},
            {"u": np.zeros(size), "v": rng.integers(0, 100 << 6, size).astype(float)},
            {"bias_mant": rng.integers(250, 450, size), "bias_exp": np.zeros(size, np.int64)})
    for pre, size, weights, wexp in (("exc", ne, (1, 5), 0), ("inh", n - ne, (-80, 0), -1)):
        m = per_neuron * size
        # distinct (pre, post) pairs: a pair holds one delay in Lava's delay matrix
        keys = np.unique(rng.integers(0, size * n, m + m // 50))
        keys = rng.permutation(keys)[:m]
        pre_i, post = keys // n, keys % n
        for target, sel in (("exc", post < ne), ("inh", post >= ne)):
            cnt = int(sel.sum())
            g.projections[f"{pre}_{target}"] = _ir.ProjectionEdge(
                f"{pre}_{target}", pre, target, "default", "loihi", pre_i[sel],
                post[sel] - (0 if target == "exc" else ne), rng.integers(*weights, cnt).astype(float),
                rng.integers(1, 21, cnt) * dt, {"weight_exp": wexp, "num_weight_bits": 8})
    return g


def time_big(steps: int, repeats: int) -> dict:
    g = big_network()
    t0 = time.perf_counter()
    sim = LoihiSimulator(g)
    build = time.perf_counter() - t0
    sim.run_steps(50)                       # past the start transient
    times, cpu, spikes = [], [], 0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        r = sim.run_steps(steps)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        spikes += sum(s.size for s in r.spike_steps.values())
    per_step = statistics.median(times) / steps
    rate = spikes / (repeats * steps)
    events = rate * g.n_synapses / g.n_neurons
    return {"n": g.n_neurons, "synapses": sim.n_synapses, "per_step": per_step, "build": build,
            "cpu_per_step": statistics.median(cpu) / steps,
            "spikes_per_step": rate, "events_per_s": events / per_step, "updates_per_s": g.n_neurons / per_step}


def sweep(n_nets: int, seed: int = 2024, steps: int = 150) -> dict:
    rng = np.random.default_rng(seed)
    same, failures, spikes = 0, [], 0
    t0 = time.perf_counter()
    for _ in range(n_nets):
        knobs = random_knobs(rng, max_groups=3, max_size=40, max_conns=6)
        net = build_net(knobs, steps)
        ref = run_lava(net, steps)
        sim = LoihiSimulator(to_ir(net))
        r = sim.run_steps(steps)
        st = sim.state()
        ok = all(np.array_equal(sim.raster(r, g.name), ref["spikes"][g.name])
                 and np.array_equal(st[g.name]["u"], ref["u"][g.name])
                 and np.array_equal(st[g.name]["v"], ref["v"][g.name]) for g in net.groups)
        spikes += sum(int(ref["spikes"][g.name].sum()) for g in net.groups)
        same += ok
        if not ok:
            failures.append(knobs)
    return {"n": n_nets, "same": same, "failures": failures, "spikes": spikes, "wall": time.perf_counter() - t0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--sweep", type=int, default=100, help="random networks compared bit for bit (0: skip)")
    ap.add_argument("--big-steps", type=int, default=300, help="steps per timed block at 100k neurons (0: skip)")
    ap.add_argument("--kinds", default="sparse,dense", help="Lava connection processes for part 1")
    ap.add_argument("--regimes", default="low,high")
    args = ap.parse_args(argv)

    ok = True
    print(f"## part 1: 4000-neuron recurrent network, {args.steps} steps x {args.repeats} blocks\n")
    print("| Lava process | activity (spikes/neuron/step) | identical | Lava ms/step | native us/step "
          "(CPU us/step) | native faster by | Lava setup s (compile, start, read back) | native build s |")
    print("|---|---|---|---|---|---|---|---|")
    for regime in args.regimes.split(","):
        for kind in args.kinds.split(","):
            r = compare_recurrent(regime, kind, args.steps, args.repeats)
            ok &= r["same"]
            print(f"| {kind} | {r['activity']:.4f} ({regime}) | {'yes' if r['same'] else 'NO'} | "
                  f"{r['lava_step'] * 1e3:.3f} | {r['native_step'] * 1e6:.1f} ({r['native_cpu_step'] * 1e6:.1f}) | "
                  f"{r['ratio']:.0f}x | "
                  f"{r['lava_setup']:.1f} | {r['build']:.3f} |", flush=True)
    if args.big_steps:
        b = time_big(args.big_steps, args.repeats)
        print(f"\n## part 2: native Loihi mode, {b['n']} neurons, {b['synapses']} synapses\n")
        print(f"time per step {b['per_step'] * 1e3:.3f} ms (CPU {b['cpu_per_step'] * 1e3:.3f} ms; median of "
              f"{args.repeats} blocks of {args.big_steps}), "
              f"{b['spikes_per_step']:.0f} spikes/step, {b['events_per_s']:.3g} synaptic events/s, "
              f"{b['updates_per_s']:.3g} neuron updates/s, build {b['build']:.1f} s", flush=True)
    if args.sweep:
        s = sweep(args.sweep)
        ok &= s["same"] == s["n"]
        print(f"\n## part 3: sweep\n\n{s['same']}/{s['n']} random networks identical in Lava fixed_pt and native "
              f"({s['spikes']} spikes in all, {s['wall']:.0f} s)")
        for k in s["failures"]:
            print("MISMATCH", k)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
