"""Izhikevich (2007), "Solving the distal reward problem through linkage of STDP and dopamine
signaling" (Cerebral Cortex 17:2443), Fig. 1: temporal credit assignment by eligibility traces.

    .venv/bin/python examples/distal_reward.py --seconds 3600 --seed 1 --png examples/distal_reward.png

1000 Izhikevich neurons (800 regular-spiking excitatory, 200 fast-spiking inhibitory; the
paper's code dastdp.m: its two half-step integrator at dt = 1 ms, ``integrator:
izhikevich2003``), 100 synapses per neuron (excitatory onto any neuron, inhibitory onto
excitatory ones), delays 1 ms, excitatory weights 1 mV, inhibitory -1 mV. Every excitatory
synapse learns by ``three_factor`` (spikecore/plasticity/three_factor.py) with dastdp.m's
numbers: STDP amplitudes 0.1 and 0.15 (mV), tau_plus = tau_minus = 20 ms, eligibility
tau_c = 1 s, dopamine tau_d = 200 ms, tonic dopamine 0.002 per 10 ms (``baseline: -0.2 Hz``)
and 0.5 per reward (``d_increment: 50 Hz``: dastdp.m adds (0.002 + DA)*sd to the weights
every 10 ms), weights in [0, 4] mV. The random input (dastdp.m: a uniform current in
[-6.5, 6.5] mV per ms) is two Poisson trains per neuron, 1 kHz each, of +-2.3 mV jumps (mean
0): Poisson counts have heavier tails than dastdp.m's uniform current, so the jump is set for
rates of about 1 Hz (excitatory) rather than for dastdp.m's standard deviation (3.75 mV per
ms, +-2.65 mV here, gives 2.6 Hz and a chance coincidence every 7 s instead of every minute
or so).

The rewarded synapse (neuron 0 onto an excitatory target, weight 0 at the start): each time
its target fires less than 20 ms after neuron 0, a reward (a dopamine spike) is scheduled at
a uniform random 1-3 s later. The reward depends on the network's own spikes, so it is given
through run control: ``exe.run(T, every="100 ms", callback=...)`` runs the kernel 100 ms at a
time with no Python per step; the callback reads the piece's spikes (``exe.last_result``),
schedules rewards, and delivers those that are due with ``exe.modulate("exc")`` (a dopamine
spike at every synapse, now): rewards land on the 100 ms grid of the stops, up to 100 ms
after their drawn time (dastdp.m's delays are on its 1 ms grid).

Result (as the paper's Fig. 1): the rewarded synapse grows towards w_max while the other
excitatory weights stay near their start. examples/distal_reward.png is ``--seconds 900 --seed
1`` (15 minutes; the hour did not fit the loaded machine this was made on): 30 coincidences,
30 rewards; the rewarded synapse rose in steps at the rewards from 0 to 3.10 mV (w_max 4),
the other 79,999 ended at a mean of 0.73 mV (from 1), 99th percentile 2.64 mV, 56 at w_max;
rates 1.13 Hz (excitatory) and 0.99 Hz (inhibitory); 1033 s of wall time. ``run`` returns the weights over time and the
rewards; ``distal_reward_nest.py`` is the same network in NEST (stdp_dopamine_synapse).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import spikecore as sc  # noqa: E402
from backends import get_backend  # noqa: E402

NE, NI, M = 800, 200, 100           # excitatory, inhibitory neurons; synapses per neuron
W_MAX = 4.0                         # mV
NOISE_MV, NOISE_RATE = 2.3, "1 kHz"
COINCIDENCE_S = 0.020               # the target fires less than 20 ms after neuron 0
REWARD_DELAY_S = (1.0, 3.0)
RULE = {"rule": "three_factor", "tau_plus": "20 ms", "tau_minus": "20 ms", "A_plus": "0.1 mV",
        "A_minus": "0.15 mV", "tau_c": "1 s", "tau_d": "200 ms", "baseline": "-0.2 Hz",
        "d_increment": "50 Hz", "modulator": "dopamine", "modulator_delay": "1 ms",
        "w_min": "0 mV", "w_max": f"{W_MAX} mV"}


def connectivity(seed: int):
    """dastdp.m's wiring: each excitatory neuron onto M random neurons (any), each inhibitory
    one onto M random excitatory neurons; and the rewarded synapse: neuron 0's first synapse
    onto an excitatory neuron other than itself. Returns (exc targets (NE, M), inh targets
    (NI, M), index of the rewarded synapse in the excitatory projection, its target)."""
    rng = np.random.default_rng([seed, 2007])
    post_e = rng.integers(0, NE + NI, (NE, M))
    post_i = rng.integers(0, NE, (NI, M))
    k = int(np.flatnonzero((post_e[0] < NE) & (post_e[0] != 0))[0])
    return post_e, post_i, k, int(post_e[0, k])


def build(seed: int = 1) -> tuple:
    """(network, rewarded synapse index in projection 'exc', its target neuron)."""
    post_e, post_i, k, n2 = connectivity(seed)
    net = sc.Network(seed=seed, dt="1 ms", name="distal_reward")
    a = np.r_[np.full(NE, 0.02), np.full(NI, 0.1)]
    d = np.r_[np.full(NE, 8.0), np.full(NI, 2.0)]
    net.population("cortex", NE + NI, "izhikevich",
                   {"a": a, "b": 0.2, "d": d, "integrator": "izhikevich2003", "v_threshold": "30 mV",
                    "v_reset": "-65 mV", "v_leak": "-65 mV"})
    net.add(sc.SpikeSource(spike_times=[[]], name="dopamine"))   # rewards: exe.modulate
    for sign, name in ((1, "noise_up"), (-1, "noise_down")):
        net.add(sc.PoissonSource(NE + NI, NOISE_RATE, name=name))
        net.project(name, "cortex", sc.OneToOne(), weight=f"{sign * NOISE_MV} mV", delay="1 ms", name=f"{name}_in")
    w = np.ones(NE * M)
    w[k] = 0.0                                           # dastdp.m: s(n1, syn) = 0
    net.project("cortex", "cortex", sc.FromIndices(np.repeat(np.arange(NE), M), post_e.ravel()),
                weight=[f"{x} mV" for x in w], delay="1 ms", name="exc", plasticity=RULE)
    net.project("cortex", "cortex", sc.FromIndices(np.repeat(np.arange(NE, NE + NI), M), post_i.ravel()),
                weight="-1 mV", delay="1 ms", name="inh")
    net.add(sc.WeightMonitor("exc", synapses=[k], interval="1 s", name="rewarded"))
    return net, k, n2


class Rewarder:
    """The callback: a reward 1-3 s after each time neuron n2 fires less than 20 ms after
    neuron 0 (dastdp.m), delivered at the first stop at or after it."""

    def __init__(self, n2: int, seed: int):
        self.n2, self.rng = n2, np.random.default_rng([seed, 7])
        self.last_n1, self.pending, self.given, self.coincidences = -1.0, [], [], 0

    def __call__(self, exe):
        t, i = exe.last_result.spikes["cortex"]
        for tk, ik in zip(t, i):                         # time order (then neuron order)
            if ik == 0:
                self.last_n1 = tk
            elif ik == self.n2 and 0 < tk - self.last_n1 < COINCIDENCE_S:
                self.coincidences += 1
                self.pending.append(tk + self.rng.uniform(*REWARD_DELAY_S))
        now = exe.time
        due = [r for r in self.pending if r <= now + 1e-9]
        if due:
            self.pending = [r for r in self.pending if r > now + 1e-9]
            exe.modulate("exc", len(due))
            self.given += [now] * len(due)


def run(seed: int = 1, seconds: float = 3600.0, every: str = "100 ms", threads: int = 1) -> dict:
    net, k, n2 = build(seed)
    exe = get_backend("native").compile(net.to_ir(), threads=threads)
    rewarder = Rewarder(n2, seed)
    t0 = time.perf_counter()
    res = exe.run(seconds, every=every, callback=rewarder)
    final = res.weights["exc"]["final"] * 1e3
    others = np.delete(final, k)
    t, i = res.spikes["cortex"]
    return {"seed": seed, "seconds": seconds, "wall_s": time.perf_counter() - t0,
            "t": res.weights["exc"]["t"], "w_rewarded": res.weights["exc"]["w"][:, 0] * 1e3,
            "final_rewarded": float(final[k]), "others": others, "rewards": np.array(rewarder.given),
            "coincidences": rewarder.coincidences,
            "rate_exc": float((i < NE).sum() / NE / seconds), "rate_inh": float((i >= NE).sum() / NI / seconds)}


def plot(out: dict, png: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    minutes = out["t"] / 60
    ax1.plot(minutes, out["w_rewarded"], color="C3", label="rewarded synapse")
    ax1.plot(out["rewards"] / 60, np.full(out["rewards"].size, W_MAX * 1.04), "|", color="k", ms=6,
             label="rewards")
    ax1.axhline(np.mean(out["others"]), color="C0", ls="--", label="mean of the others (end)")
    ax1.set(xlabel="time (min)", ylabel="weight (mV)", ylim=(-0.1, W_MAX * 1.1),
            title=f"Izhikevich (2007) Fig. 1 (seed {out['seed']}, noise +-{NOISE_MV} mV)")
    ax1.legend(loc="center right", fontsize=8)
    ax2.hist(out["others"], bins=40, color="C0", label="other excitatory synapses")
    ax2.axvline(out["final_rewarded"], color="C3", label="rewarded synapse")
    ax2.set(xlabel="final weight (mV)", ylabel="synapses", yscale="log", title="weights at the end")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3600.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--png", type=Path, default=None)
    ap.add_argument("--noise-mv", type=float, default=NOISE_MV, help="the Poisson noise's jump (mV)")
    args = ap.parse_args(argv)
    globals()["NOISE_MV"] = args.noise_mv
    out = run(args.seed, args.seconds, threads=args.threads)
    print(f"noise +-{NOISE_MV} mV, seed {args.seed}, {args.seconds:g} s simulated in {out['wall_s']:.0f} s: rates exc "
          f"{out['rate_exc']:.2f} Hz, inh {out['rate_inh']:.2f} Hz; {out['coincidences']} coincidences, "
          f"{out['rewards'].size} rewards")
    print(f"rewarded synapse: {out['final_rewarded']:.3f} mV (w_max {W_MAX}); the others: mean "
          f"{out['others'].mean():.3f} mV, 99th percentile {np.percentile(out['others'], 99):.3f} mV, "
          f"{(out['others'] >= W_MAX - 1e-9).sum()} at w_max")
    if args.png:
        plot(out, args.png)
    return 0 if out["final_rewarded"] > 0.9 * W_MAX else 1


if __name__ == "__main__":
    sys.exit(main())
