"""``spikecore info MODEL``: validate a model and print its size without simulating."""
from __future__ import annotations

from .. import units as u
from .common import add_model_args, load_model, quantity_arg

# Bytes per element in the native engine's layout (float64 state, CSR synapses).
BYTES_PER_SYNAPSE = 8 + 4 + 4 + 1  # weight, target channel, delay, row share (amortised)
BYTES_PER_NEURON = 8 * 4            # v, drive, lastspike, reset index + per-channel state


def add_parser(sub):
    p = sub.add_parser("info", help="validate a model and print neurons, synapses and memory",
                       description="Validate MODEL, realise its connectivity and print its size.")
    add_model_args(p, duration=False)
    p.set_defaults(func=main)
    return p


def main(args) -> int:
    net = load_model(args.model)
    dt = quantity_arg(args.dt, u.TIME, "--dt")
    g = net.to_ir(dt=dt, seed=args.seed)
    print(f"model {g.name}: valid (IR version {g.version}, seed {g.seed}, dt {g.dt * 1e3:g} ms, "
          f"default duration {net.duration:g} s)")
    for p in g.populations.values():
        rec = ", ".join(p.receptors) if p.model != "lif_delta" else "delta"
        print(f"  population {p.name}: {p.size} x {p.model} (receptors: {rec})")
    for s in g.spike_sources.values():
        print(f"  source {s.name}: {s.size} spike-time neurons, {s.times.size} spikes")
    for s in g.poisson_sources.values():
        print(f"  source {s.name}: {s.size} Poisson neurons, mean rate {s.rates.mean():g} Hz")
    for e in g.projections.values():
        print(f"  projection {e.name}: {e.pre} -> {e.post} ({e.receptor}), {e.n_synapses} synapses")
    for fld, count in g.redrawn.items():
        print(f"  {fld}: {count} draws outside the distribution's bounds, drawn again")
    n_chan = sum(p.size * len(p.receptors) for p in g.populations.values())
    mem = g.n_synapses * BYTES_PER_SYNAPSE + g.n_neurons * BYTES_PER_NEURON + n_chan * 8
    print(f"total: {g.n_neurons} neurons, {g.n_synapses} synapses, "
          f"native engine memory ~{mem / 2**20:.1f} MiB")
    return 0
