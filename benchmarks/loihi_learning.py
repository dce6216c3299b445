"""Loihi learning emulation: spikecore.engine.loihi_learning against Lava 0.10's fixed-point learning.

    python -m benchmarks.loihi_learning [--repeats 3] [--steps 2000] [--size 100] [--regimes high,low]
                                        [--sweep 60] [--sparse-sweep 20] [--patched-sparse-sweep 12]
                                        [--graded-sweep 20] [--sweep-steps 300]
                                        [--recurrent-sweep 20] [--recurrent-steps 2000]

Two parts, in one run:

1. Timing on a network with ``size**2`` plastic synapses (default 100 x 100 = 10,000): an input
   of ``size`` Bernoulli spike trains drives ``size`` pre LIF neurons (Dense 250), which
   project through a LearningDense with pair STDP (impulses 16, taus 10, t_epoch 2) onto
   ``size`` post LIF neurons, themselves also driven by a second input of random spike trains;
   two activity regimes (REGIMES). Lava runs it under Loihi1SimCfg(select_tag="fixed_pt") (its ``run``
   call alone is timed; compilation and process start-up are reported apart), the emulator's
   compiled kernel whole (set-up included). Every repeat must give identical results; the
   ratio of the medians is printed, and the ratio of CPU times (Lava's summed over its
   processes), which a loaded machine distorts less.
2. ``--sweep N`` random networks and rule strings inside Lava's grammar
   (benchmarks.lava_learning_reference.random_learning_net: 1-3 LIF groups, reward neurons,
   two- and three-factor rules on dw, dd, dt with signs, scaling exponents, sgn(), constants,
   u_k, decays 0..2**16-1, fractional impulses, t_epoch 1..19, sign modes, weight exponents and
   bits, initial tags), ``--sweep-steps`` steps each: prints how many runs were identical.
   ``--sparse-sweep M`` more with ``random_learning_net(sparse=True)``: LearningSparse connections
   (random synapses, what Lava's stock LearningSparse model runs: sign mode mixed, rules over
   traces), graded plastic connections (each with a random GradedSpikeCfg), the Lava backend's
   RewardLIF reward neurons. ``--graded-sweep G`` more of those draws (from seed 4000 on), only
   networks with a graded plastic connection: every GradedSpikeCfg mode, on LearningDense and
   LearningSparse.
   ``--patched-sparse-sweep K`` more with ``sparse_model="patched"``: every plastic connection a
   LearningSparse, mostly sign modes excitatory and inhibitory, rules over every factor (w, d, t
   and constants), against the Lava backend's patched model (Lava's own crashes on them).
   ``--recurrent-sweep K`` random recurrent networks (benchmarks.lava_learning_reference.
   random_recurrent_net: static E->E, E->I, I->E with synaptic delays as DelayDense or
   DelaySparse, beside plastic LearningDense connections), ``--recurrent-steps`` steps each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from benchmarks.lava_learning_reference import differences, random_learning_net, random_recurrent_net, run_lava
from spikecore.engine.loihi_learning import (DenseConn, LearningDenseConn, LearningEmulator, LearningNet,
                                             LearningRuleSpec, LearningSparseConn, LifGroup, SpikeInput)


# (pre input rate, post input rate, initial weights 0..w_max, dw): "high" potentiates until the
# post neurons fire at ~25 % of steps; "low" is depression-dominated pair STDP (Lava's STDPLoihi
# form) at tutorial08's rates, post neurons at ~2 %
REGIMES = {
    "high": (0.05, 0.03, 60, "2^-2 * x0 * y1 - 2^-2 * y0 * x1"),
    "low": (0.03, 0.02, 30, "2^-2 * y0 * x1 - 2^-1 * x0 * y1"),
}


def stdp_net(size: int, n_steps: int, seed: int = 1, regime: str = "high") -> LearningNet:
    rng = np.random.default_rng(seed)
    p_pre, p_post, w_max, dw = REGIMES[regime]
    rule = LearningRuleSpec(dw=dw, x1_impulse=16, x1_tau=10, y1_impulse=16, y1_tau=10, t_epoch=2, rng_seed=seed)
    lif = dict(size=size, du=4095, dv=4095, vth=240)
    return LearningNet(
        groups=[LifGroup("pre", **lif), LifGroup("post", **lif)],
        inputs=[SpikeInput("in_pre", (rng.random((size, n_steps)) < p_pre).astype(int)),
                SpikeInput("in_post", (rng.random((size, n_steps)) < p_post).astype(int))],
        conns=[DenseConn("drive_pre", "in_pre", "pre", np.eye(size) * 250),
               DenseConn("drive_post", "in_post", "post", np.eye(size) * 250),
               LearningDenseConn("plastic", "pre", "post", rng.integers(0, w_max + 1, (size, size)), rule)])


def timing(size: int, n_steps: int, repeats: int, regime: str) -> float:
    net = stdp_net(size, n_steps, regime=regime)
    lava_s, emu_s, setup_s, same, emu_cpu, lava_cpu = [], [], [], [], [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        ours = LearningEmulator(net).run(n_steps)
        emu_s.append(time.perf_counter() - t0)
        emu_cpu.append(time.process_time() - c0)
        t0 = time.perf_counter()
        c0 = _cpu_with_children()
        ref = run_lava(net, n_steps, timing=True)
        lava_cpu.append(_cpu_with_children() - c0)
        setup_s.append(time.perf_counter() - t0 - ref.run_s)
        lava_s.append(ref.run_s)
        same.append(differences(ours, ref) == [])
    spikes = {g: int(s.sum()) for g, s in ours.spikes.items()}
    changed = int((ours.conns["plastic"]["weights"] != net.conns[-1].weights).sum())
    lm, em = statistics.median(lava_s), statistics.median(emu_s)
    print(f"part 1 ({regime}): {size}x{size} = {size * size} plastic synapses, {n_steps} steps, {repeats} repeats; "
          f"spikes {spikes}, weights changed {changed}")
    print(f"  identical (spikes, u, v, weights, tags, traces): {sum(same)}/{repeats}")
    print(f"  Lava run: {lm:.3f} s median ({1e3 * lm / n_steps:.3f} ms/step; runs {[round(x, 3) for x in lava_s]}), "
          f"set-up and read-back {statistics.median(setup_s):.1f} s")
    print(f"  emulator: {em:.4f} s median ({1e6 * em / n_steps:.1f} us/step; runs {[round(x, 4) for x in emu_s]})")
    print(f"  emulator faster by {lm / em:.0f}x (wall, same run, medians)")
    lc, ec = statistics.median(lava_cpu), statistics.median(emu_cpu)
    print(f"  CPU time: Lava {lc:.2f} s (all its processes, set-up included), emulator {ec:.4f} s: {lc / ec:.0f}x")
    return lm / em if all(same) else 0.0


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished children (Lava's runtime forks one OS
    process per Lava process; they have exited once ``run_lava`` returns)."""
    import resource
    me, ch = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + ch.ru_utime + ch.ru_stime


def _graded(net: LearningNet) -> list:
    """The plastic connections of ``net`` that receive graded spikes."""
    return [c for c in net.conns if isinstance(c, LearningDenseConn) and c.num_message_bits]


def _nets(count: int, n_steps: int, seed0: int, sparse: bool, sparse_model: str, recurrent: bool,
          graded_only: bool):
    """(seed, net) for ``count`` random networks from ``seed0`` on (``graded_only``: skipping
    those without a graded plastic connection)."""
    seed, n = seed0, 0
    while n < count:
        rng = np.random.default_rng(seed)
        net = (random_recurrent_net(rng, n_steps) if recurrent
               else random_learning_net(rng, n_steps, sparse=sparse, sparse_model=sparse_model))
        if not graded_only or _graded(net):
            n += 1
            yield seed, net
        seed += 1


def sweep(count: int, n_steps: int, seed0: int = 1000, sparse: bool = False, sparse_model: str = "stock",
          recurrent: bool = False, graded_only: bool = False) -> int:
    t0 = time.perf_counter()
    same, spikes, learned, modes, cfgs = 0, 0, 0, {}, {}
    for seed, net in _nets(count, n_steps, seed0, sparse, sparse_model, recurrent, graded_only):
        for c in net.conns:
            if isinstance(c, LearningSparseConn):
                modes[c.sign_mode or "default"] = modes.get(c.sign_mode or "default", 0) + 1
        for c in _graded(net):
            cfgs[c.graded_spike_cfg] = cfgs.get(c.graded_spike_cfg, 0) + 1
        ours = LearningEmulator(net).run(n_steps)
        d = differences(ours, run_lava(net, n_steps, sparse_model=sparse_model))
        if d:
            print(f"  seed {seed}: differs in {d}", flush=True)
        else:
            same += 1
        spikes += sum(int(s.sum()) for s in ours.spikes.values())
        learned += sum(int(c.weights is not None and not np.array_equal(ours.conns[c.name]["weights"], c.weights))
                       for c in net.conns if isinstance(c, LearningDenseConn))
    n_sparse = sum(modes.values())
    kind = (f"sparse/graded, {sparse_model} LearningSparse model ({n_sparse} LearningSparse connections, sign modes "
            + ", ".join(f"{k} {v}" for k, v in sorted(modes.items())) + "; graded plastic connections "
            + (", ".join(f"{k} {v}" for k, v in sorted(cfgs.items())) or "none") + ")") if sparse else "dense"
    if graded_only:
        kind = "graded only, " + kind
    if recurrent:
        kind = "recurrent, static connections with delays"
    print(f"part 2 ({kind}): {same}/{count} random networks and rules identical ({n_steps} steps each, {spikes} "
          f"spikes, {learned} plastic connections whose weights changed), {time.perf_counter() - t0:.0f} s")
    return same


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--size", type=int, default=100, help="pre and post neurons: size**2 plastic synapses")
    ap.add_argument("--regimes", default="high,low", help="activity regimes of part 1: " + ", ".join(REGIMES))
    ap.add_argument("--sweep", type=int, default=60, help="random networks compared bit for bit (0: skip)")
    ap.add_argument("--sparse-sweep", type=int, default=20,
                    help="random networks with LearningSparse, graded and RewardLIF (seeds 2000...; 0: skip)")
    ap.add_argument("--patched-sparse-sweep", type=int, default=12,
                    help="random networks with LearningSparse of every sign mode and factor, against the Lava "
                         "backend's patched model (seeds 3000...; 0: skip)")
    ap.add_argument("--graded-sweep", type=int, default=20,
                    help="random networks with graded plastic connections, every GradedSpikeCfg "
                         "(sparse=True draws from seed 4000 on; 0: skip)")
    ap.add_argument("--sweep-steps", type=int, default=300)
    ap.add_argument("--recurrent-sweep", type=int, default=20,
                    help="random recurrent networks with delayed static connections (seeds 3000...; 0: skip)")
    ap.add_argument("--recurrent-steps", type=int, default=2000)
    args = ap.parse_args(argv)
    ok = True
    if args.repeats > 0:
        for regime in args.regimes.split(","):
            ok &= timing(args.size, args.steps, args.repeats, regime) > 0
    if args.sweep > 0:
        ok &= sweep(args.sweep, args.sweep_steps) == args.sweep
    if args.sparse_sweep > 0:
        ok &= sweep(args.sparse_sweep, args.sweep_steps, seed0=2000, sparse=True) == args.sparse_sweep
    if args.patched_sparse_sweep > 0:
        ok &= sweep(args.patched_sparse_sweep, args.sweep_steps, seed0=3000, sparse=True,
                    sparse_model="patched") == args.patched_sparse_sweep
    if args.graded_sweep > 0:
        ok &= sweep(args.graded_sweep, args.sweep_steps, seed0=4000, sparse=True,
                    graded_only=True) == args.graded_sweep
    if args.recurrent_sweep > 0:
        ok &= sweep(args.recurrent_sweep, args.recurrent_steps, seed0=3000, recurrent=True) == args.recurrent_sweep
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
