"""``spikecore info MODEL``: validate a model and print its size and memory without simulating.

The memory figures are spikecore.engine.memory's estimate from the description, so they are
printed even for a network too large to draw; the connectivity is then not drawn (it would fail
with MemoryError) unless --ignore-memory-check asks for it.
"""
from __future__ import annotations

from .. import units as u
from ..engine import memory
from .common import IGNORE_MEMORY_FLAG, add_memory_arg, add_model_args, load_model, quantity_arg

#: the backends and modes whose peak info prints: (label, backend, options)
MODES = (("native", "native", {}), ("native precise", "native", {"timing": "precise"}),
         ("native loihi", "native", {"format": "loihi"}), ("brian2", "brian2", {}), ("lava", "lava", {}))


def add_parser(sub):
    p = sub.add_parser("info", help="validate a model and print neurons, synapses and memory",
                       description="Validate MODEL, realise its connectivity and print its size and the "
                                   "estimated peak memory of running it on each backend.")
    add_model_args(p)
    add_memory_arg(p)
    p.set_defaults(func=main)
    return p


COUNT_LAZY_UP_TO = 10**8


def main(args) -> int:
    net = load_model(args.model)
    dt = quantity_arg(args.dt, u.TIME, "--dt")
    duration = quantity_arg(args.duration, u.TIME, "--duration")
    duration = net.duration if duration is None else duration.value
    step = net.dt if dt is None else dt.value
    est = memory.estimate(net, duration, "native", {}, step)
    avail, source = memory.available_memory()
    # lazy projections are drawn when compiled: drawing them here (to count them) needs the run's peak
    realise = est.total if est.lazy else est.stage("realise").total
    drawn = args.ignore_memory_check or avail is None or realise <= avail
    g = net.to_ir(dt=dt, seed=args.seed) if drawn else None
    print(f"model {net.name}: valid (IR version {g.version if g else '-'}, seed "
          f"{net.seed if args.seed is None else args.seed}, dt {step * 1e3:g} ms, "
          f"default duration {net.duration:g} s)" if drawn else
          f"model {net.name}: description valid; connectivity not drawn: it needs "
          f"~{memory.format_bytes(realise)}, {memory.format_bytes(avail)} available ({source}; "
          f"{IGNORE_MEMORY_FLAG} draws it anyway)")
    for p in net.populations.values():
        rec = "delta" if p.spec.synapse == "delta" else ", ".join(p.receptors)
        model = p.model if isinstance(p.model, str) else "equations"
        print(f"  population {p.name}: {p.size} x {model} (" + ("targets" if p.spec.synapse == "variable"
                                                                  else "receptors") + f": {rec})")
    if g is not None:
        for s in g.spike_sources.values():
            print(f"  source {s.name}: {s.size} spike-time neurons, {s.times.size} spikes")
        for s in g.poisson_sources.values():
            print(f"  source {s.name}: {s.size} Poisson neurons, mean rate {s.rates.mean():g} Hz")
        n_syn = 0
        # a lazy projection (spikecore.ir.SynapseStream) is counted by drawing it piece by piece:
        # done up to COUNT_LAZY_UP_TO expected synapses, beyond that the expected count is shown
        lazy = sum(e.stream.expected for e in g.projections.values() if e.is_lazy)
        for e in g.projections.values():
            if e.is_lazy and lazy > COUNT_LAZY_UP_TO:
                n_syn += e.stream.expected
                print(f"  projection {e.name}: {e.pre} -> {e.post} ({e.receptor}), ~{e.stream.expected} synapses "
                      "expected (drawn piece by piece when compiled)")
            else:
                n_syn += e.n_synapses
                print(f"  projection {e.name}: {e.pre} -> {e.post} ({e.receptor}), {e.n_synapses} synapses")
        for fld, count in g.redrawn.items():
            print(f"  {fld}: {count} draws outside the distribution's bounds, drawn again")
    else:
        for name, pr in net.projections.items():
            print(f"  projection {name}: {pr.pre_name} -> {pr.post_name}, ~{est.synapses[name]} synapses expected")
        n_syn = sum(est.synapses.values())
    print(f"total: {est.neurons} neurons, {n_syn} synapses")
    peaks = ", ".join(f"{label} ~{memory.format_bytes(memory.estimate(net, duration, b, o, step).total)}"
                      for label, b, o in MODES)
    print(f"memory (estimated peak of a {duration:g} s run): {peaks}; available "
          + (f"{memory.format_bytes(avail)} ({source})" if avail is not None else "unknown"))
    print(f"  native: {est.describe(4)}")
    warning = memory.recording_warning(est)
    if warning:
        print(f"  warning: {warning}")
    return 0
