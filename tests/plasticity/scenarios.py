"""Deterministic plastic networks shared by the plasticity tests: spike-time inputs that make
pre/post pairs coincide in one step, drive weights to both bounds, and reach the synapses
with delays of 1 to 20 steps."""
import numpy as np

import spikecore as sc

LIF = {"tau_mem": "10 ms", "v_leak": "-70 mV", "v_threshold": "-55 mV", "v_reset": "-70 mV", "t_refrac": "2 ms"}
CUBA = {**LIF, "tau_syn": {"exc": "5 ms"}}
DT = 1e-4


def stdp(unit="mV", scale=1.0, **change):
    """Pair STDP strong enough to reach both bounds within the scenarios (weights in ``unit``)."""
    q = lambda x: f"{x * scale} {unit}"    # noqa: E731
    return {"rule": "stdp_pair", "tau_plus": "16.8 ms", "tau_minus": "33.7 ms", "A_plus": q(0.6),
            "A_minus": q(0.5), "w_min": q(0.2), "w_max": q(3.0), **change}


def pairs_network(plasticity=None, model="lif_delta", sign=1, seed=5, modulator=None):
    """8 presynaptic spike-time neurons onto 6 targets (all to all, delays 1..20 steps, per-synapse
    initial weights); the targets are also made to spike at chosen steps by a static 'teacher'
    input, some in the steps where presynaptic spikes arrive. ``modulator``: spike steps of a
    source 'dopa' (one list per neuron) added before the plastic projection."""
    rng = np.random.default_rng(seed)
    n_pre, n_post = 8, 6
    unit, scale = "mV", 1.0 if model == "lif_delta" else 0.5
    net = sc.Network(seed=seed, dt="0.1 ms")
    pre_steps = [sorted(rng.choice(np.arange(10, 1500), 12, replace=False)) for _ in range(n_pre)]
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in st] for st in pre_steps], name="pre"))
    # teacher spikes: 40 per target, some exactly where pre spikes arrive (pre step + delay)
    delays = rng.integers(1, 21, n_pre * n_post)
    teach = []
    for j in range(n_post):
        arrive = [pre_steps[i][k] + delays[i * n_post + j] for i in range(n_pre) for k in (0, 3, 7)]
        own = list(rng.choice(np.arange(10, 1500), 30, replace=False))
        # the teacher's jump arrives one step later (delay 1) and crosses at the update after it
        teach.append(sorted({int(s) - 2 for s in arrive + own if s > 3}))
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in st] for st in teach], name="teacher"))
    params = LIF if model == "lif_delta" else CUBA
    net.population("post", n_post, model, params, initial={"v": "-70 mV"})
    big = "40 mV" if model == "lif_delta" else "300 mV"
    net.project("teacher", "post", sc.OneToOne(), weight=big, delay="0.1 ms", name="teach")
    if modulator is not None:
        net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in st] for st in modulator], name="dopa"))
    w0 = sign * rng.uniform(0.5, 2.5, n_pre * n_post) * scale
    net.project("pre", "post", sc.AllToAll(), weight=[f"{x} {unit}" for x in w0],
                delay=[f"{d * 0.1} ms" for d in delays], name="plastic", plasticity=plasticity)
    return net


def recurrent_network(plasticity, seed=2):
    """Poisson-driven lif_delta neurons with a plastic recurrent projection (delays 1..20 steps):
    neuron spikes reach plastic synapses through the thread exchange."""
    net = sc.Network(seed=seed, dt="0.1 ms")
    net.add(sc.PoissonSource(40, "30 Hz", name="drive"))
    net.population("exc", 40, "lif_delta", LIF)
    net.project("drive", "exc", sc.FixedProbability(0.2), weight="6 mV", delay="0.1 ms", name="in")
    net.project("exc", "exc", sc.FixedProbability(0.3), weight=sc.Uniform("0.5 mV", "2 mV"),
                delay=sc.Uniform("0.1 ms", "2 ms"), name="rec", plasticity=plasticity)
    return net


def three_factor(unit="mV", scale=1.0, **change):
    """Three-factor learning with short traces, so that a 0.2 s scenario reaches both bounds."""
    q = lambda x: f"{x * scale} {unit}"    # noqa: E731
    return {"rule": "three_factor", "tau_plus": "16.8 ms", "tau_minus": "33.7 ms", "A_plus": q(0.8),
            "A_minus": q(0.4), "tau_c": "40 ms", "tau_d": "15 ms", "w_min": q(0.2), "w_max": q(3.0),
            "modulator": "dopa", **change}


#: spike steps of two dopamine neurons: some in one step together, one twice in a step's neighbourhood
DOPA = [[150, 400, 401, 900, 1300, 1700], [400, 650, 1100, 1101, 1702]]


def taught_pair(pre_steps, teach_steps, w0="1 mV", delay_steps=3, **change):
    """One presynaptic spike-time neuron onto one lif_delta target through a plastic synapse
    (``stdp(**change)``); a 'teacher' source makes the target spike 2 steps after each of
    ``teach_steps``."""
    net = sc.Network(seed=1, dt="0.1 ms")
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in pre_steps]], name="pre"))
    net.add(sc.SpikeSource(spike_times=[[f"{s * 0.1} ms" for s in teach_steps]], name="teacher"))
    net.population("post", 1, "lif_delta", LIF, initial={"v": "-70 mV"})
    net.project("teacher", "post", sc.OneToOne(), weight="40 mV", delay="0.1 ms", name="teach")
    net.project("pre", "post", sc.OneToOne(), weight=w0, delay=f"{delay_steps * 0.1} ms", name="syn",
                plasticity=stdp(**change))
    return net
