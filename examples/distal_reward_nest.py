"""examples/distal_reward.py's network in NEST 3.10, with stdp_dopamine_synapse: the reference
of the slow test tests/plasticity/test_distal_reward_nest.py.

    .venv/bin/python examples/distal_reward_nest.py --seconds 120 --seed 1

The same wiring (distal_reward.connectivity), neurons (NEST izhikevich with
consistent_integration=False: Izhikevich's two half steps, as ``integrator: izhikevich2003``),
Poisson noise, rule parameters (tau_n = tau_d; b = baseline = -0.2 Hz = -0.0002/ms; NEST adds
1/tau_n per dopamine spike, so a reward of d_increment is d_increment*tau_d dopamine spikes of
one spike_generator, as a multiplicity) and reward protocol (the same callback logic, run in
pieces of 100 ms). Differences NEST imposes: its STDP delay is dendritic (spikecore's three_factor
axonal), its tau_minus is the neuron's, and a reward delivered at a stop arrives one step after
it (a spike_generator cannot emit at the present time) plus the 1 ms delay to the volume
transmitter. The volume transmitter updates every synapse at each delivery (deliver_interval
1000 min-delays here, to keep it cheap; its integration does not depend on it but for clipping).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import distal_reward as dr  # noqa: E402


def run(seed: int = 1, seconds: float = 120.0, every_ms: float = 100.0, d_increment_hz: float = 50.0) -> dict:
    import nest
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": 1.0, "local_num_threads": 1, "rng_seed": seed + 1})
    post_e, post_i, k, n2 = dr.connectivity(seed)
    N = dr.NE + dr.NI
    cells = nest.Create("izhikevich", N, params={"consistent_integration": False, "V_th": 30.0, "c": -65.0,
                                                 "b": 0.2, "V_m": -65.0, "U_m": 0.2 * -65.0,
                                                 "tau_minus": 20.0})
    cells[:dr.NE].set({"a": 0.02, "d": 8.0})
    cells[dr.NE:].set({"a": 0.1, "d": 2.0})
    for sign in (1, -1):
        pg = nest.Create("poisson_generator", params={"rate": 1000.0})
        nest.Connect(pg, cells, syn_spec={"weight": sign * dr.NOISE_MV, "delay": 1.0})
    dopa = nest.Create("spike_generator")
    relay = nest.Create("parrot_neuron")
    vt = nest.Create("volume_transmitter", params={"deliver_interval": 1000})
    nest.Connect(dopa, relay)
    nest.Connect(relay, vt)
    tau_d_ms = 200.0
    per_reward = d_increment_hz * tau_d_ms * 1e-3         # dopamine spikes per reward (n += 1/tau_n each)
    nest.CopyModel("stdp_dopamine_synapse", "da", {
        "volume_transmitter": vt, "A_plus": 0.1, "A_minus": 0.15, "tau_plus": 20.0, "tau_c": 1000.0,
        "tau_n": tau_d_ms, "b": -0.0002, "Wmin": 0.0, "Wmax": dr.W_MAX, "delay": 1.0})
    pre = np.repeat(np.arange(dr.NE), dr.M)
    w = np.ones(dr.NE * dr.M)
    w[k] = 0.0
    nest.Connect(np.asarray(cells.tolist())[pre], np.asarray(cells.tolist())[post_e.ravel()],
                 "one_to_one", {"synapse_model": "da", "weight": w})
    nest.Connect(np.asarray(cells.tolist())[np.repeat(np.arange(dr.NE, N), dr.M)],
                 np.asarray(cells.tolist())[post_i.ravel()], "one_to_one",
                 {"weight": np.full(dr.NI * dr.M, -1.0), "delay": np.full(dr.NI * dr.M, 1.0)})
    rec = nest.Create("spike_recorder")
    nest.Connect(cells[0], rec)
    nest.Connect(cells[n2], rec)
    every_cell = nest.Create("spike_recorder")
    nest.Connect(cells, every_cell)
    syn = nest.GetConnections(cells[0], cells[n2], synapse_model="da")
    rewarder_rng = np.random.default_rng([seed, 7])
    last_n1, pending, given, seen, coincidences = -1.0, [], [], 0, 0
    t0 = time.perf_counter()
    trace = []
    steps = int(round(seconds * 1000 / every_ms))
    for s in range(steps):
        nest.Simulate(every_ms)
        ev = rec.get("events")
        times, senders = np.asarray(ev["times"]) / 1000.0, np.asarray(ev["senders"])
        new_t, new_s = times[seen:], senders[seen:]
        seen = times.size
        for tk, sk in zip(new_t, new_s):
            if sk == cells[0].global_id:
                last_n1 = tk
            elif sk == cells[n2].global_id and 0 < tk - last_n1 < dr.COINCIDENCE_S:
                coincidences += 1
                pending.append(tk + rewarder_rng.uniform(*dr.REWARD_DELAY_S))
        now = (s + 1) * every_ms / 1000.0
        due = [r for r in pending if r <= now + 1e-9]
        if due:
            pending = [r for r in pending if r > now + 1e-9]
            dopa.set({"spike_times": [now * 1000 + 1.0], "spike_multiplicities": [int(round(per_reward * len(due)))],
                      "origin": 0.0})
            given += [now] * len(due)
        if (s + 1) % int(round(1000 / every_ms)) == 0:
            trace.append(_rewarded_weight(syn, k))
    senders = np.asarray(every_cell.get("events")["senders"]) - cells[0].global_id
    return {"seed": seed, "seconds": seconds, "wall_s": time.perf_counter() - t0,
            "rate_exc": float((senders < dr.NE).sum() / dr.NE / seconds),
            "rate_inh": float((senders >= dr.NE).sum() / dr.NI / seconds),
            "final_rewarded": trace[-1] if trace else float("nan"), "w_rewarded": np.array(trace),
            "rewards": np.array(given), "coincidences": coincidences}


def _rewarded_weight(syn, k) -> float:
    """The weight of the rewarded synapse: the first 0 -> n2 'da' connection made (neuron 0's
    synapse k is its first onto n2)."""
    return float(np.atleast_1d(syn.get("weight"))[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    out = run(args.seed, args.seconds)
    print(f"NEST seed {args.seed}: {args.seconds:g} s in {out['wall_s']:.0f} s; {out['coincidences']} coincidences, "
          f"{out['rewards'].size} rewards; rates exc {out['rate_exc']:.2f} Hz, inh {out['rate_inh']:.2f} Hz; rewarded synapse {out['final_rewarded']:.3f} mV")
    return 0


if __name__ == "__main__":
    sys.exit(main())
