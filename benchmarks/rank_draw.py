"""What one MPI rank of the NEST backend spends drawing a large projection's synapses.

``python -m benchmarks.rank_draw [--synapses N] [--ranks R ...] [--repeats K] [--values constant|normal|probability|all]``
realises a projection of about N synapses among 20,000 current-based LIF neurons and, for
rank 0 of R ranks (neurons placed round-robin, as NEST places them on its virtual processes),
draws that rank's synapses two ways: rank-local (only its targets' streams:
spikecore.ir.SynapseStream.onto) and drawn whole and filtered (what every rank does for the
connectors and values that cannot be split by target). Three projections:

* ``constant``: fixed_total_number, a constant weight and delay (rank-local with the default stream);
* ``normal``: fixed_total_number with the cortical microcircuit's kind of values, truncated-normal
  weight and delay, with ``streams: per_target`` (rank-local: each synapse's values from its
  target's stream); its table adds the same projection with the default stream (``streams:
  projection``: values taken in the order of the whole list, so drawn whole and filtered on
  every rank), which is what every rank did for such a projection before;
* ``probability``: fixed_probability (p = N / 20,000²) with the same values and ``streams:
  per_target`` (in-degrees, then each target's sources from its own Philox generator), against
  the default stream's fixed_probability (one generator, row by row: drawn whole and filtered).

It prints, per R, the random numbers each way draws (the SplitMix64 numbers of the sources and
of the per-target value streams, their redraws included, and the sources drawn from per-target
Philox generators; counted where they are drawn) and the median seconds of K repeats; and, for
the drawn values, what every rank reads of the projection before it connects (the grid check
and the receptors' weight signs: backends.nest.check_delays_on_grid and receptor_signs) against
what it read before (every synapse's weight and delay, backends._nest_models.value_chunks). The
machine is shared: seconds are noisy, the ratio in one run is what to read (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

N_NEURONS = 20_000


def projection(n_synapses: int, values: str = "constant", streams: str = "projection"):
    """The IR of the network (one projection "ee") for ``values`` constant, normal or probability."""
    from spikecore import ir as _ir
    from spikecore.network import FixedProbability, FixedTotalNumber, Network, Normal
    _ir.LAZY_SYNAPSES = min(_ir.LAZY_SYNAPSES, n_synapses)      # a stream whatever its size
    net = Network("rank_draw", seed=7, dt="0.1 ms")
    net.population("e", N_NEURONS, "lif_cuba", {
        "tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", "t_refrac": "2 ms",
        "tau_syn": {"exc": "5 ms"}})
    if values == "constant":
        weight, delay = "0.1 mV", "1.5 ms"
    else:     # the microcircuit's excitatory synapses: 10 % spread kept >= 0, 50 % spread redrawn below 0.05 ms
        weight, delay = Normal("0.1 mV", "0.01 mV", low="0 mV"), Normal("1.5 ms", "0.75 ms", low="0.05 ms")
    connector = (FixedProbability(n_synapses / N_NEURONS ** 2) if values == "probability"
                 else FixedTotalNumber(n_synapses))
    net.project("e", "e", connector, weight=weight, delay=delay, receptor="exc", name="ee", streams=streams)
    g = net.to_ir()
    edge = g.projections["ee"]
    assert edge.is_lazy and edge.stream.rank_local == (values == "constant" or streams == "per_target")
    return g


def draw(chunks) -> int:
    return sum(int(c[0].size) for c in chunks)


def whole_and_filtered(edge, hosted):
    for i, j, w, d in edge.chunks():
        keep = hosted[j]
        yield i[keep], j[keep], w[keep], d[keep]


def timed(chunks, repeats, counted):
    """(synapses kept, numbers counted in the last repeat, median seconds)."""
    times = []
    for _ in range(repeats):
        counted.clear()
        t0 = time.perf_counter()
        kept = draw(chunks())
        times.append(time.perf_counter() - t0)
    return kept, sum(counted), statistics.median(times)


def read_before_connecting(g, counted) -> tuple:
    """(numbers every rank reads of the projection before it connects now, what it read before)."""
    from backends import nest as nest_backend
    from backends._nest_models import receptor_signs, value_chunks
    counted.clear()
    nest_backend.check_delays_on_grid(g)
    receptor_signs(g, "e")
    now = sum(counted)
    counted.clear()
    for _ in value_chunks(g.projections["ee"]):      # the largest delay and the weights' signs, as read before
        pass
    return now, sum(counted)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synapses", type=int, default=2 ** 23)
    ap.add_argument("--ranks", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--values", choices=("constant", "normal", "probability", "all"), default="all")
    args = ap.parse_args(argv)
    from spikecore import connectors, distributions
    counted = []
    real = {m: m.poisson_uniforms for m in (connectors, distributions)}
    real_sample = connectors._sample_without

    def counting(real_draw):
        def draw_counted(key, k):
            counted.append(np.size(k))
            return real_draw(key, k)
        return draw_counted

    def sample_counted(rng, n, k, exclude):
        counted.append(int(k))
        return real_sample(rng, n, k, exclude)
    for m, f in real.items():
        m.poisson_uniforms = counting(f)
    connectors._sample_without = sample_counted
    try:
        for values in (("constant", "normal", "probability") if args.values == "all" else (args.values,)):
            g = projection(args.synapses, values, "projection" if values == "constant" else "per_target")
            edge = g.projections["ee"]
            default = projection(args.synapses, values).projections["ee"] if values != "constant" else None
            what = {"constant": "fixed_total_number, constant weight and delay",
                    "normal": "fixed_total_number, truncated-normal weight and delay, streams: per_target",
                    "probability": "fixed_probability, truncated-normal weight and delay, streams: per_target"}[values]
            print(f"\n{what}: {edge.n_synapses} synapses onto {N_NEURONS} neurons; rank 0 of R, "
                  f"median of {args.repeats}")
            print("| R | rank's synapses | numbers drawn: rank-local | whole, filtered | s: rank-local | whole, filtered "
                  "| faster by |" + (" s: default stream, whole, filtered | faster than it by |" if default else ""))
            print("|---|---|---|---|---|---|---|" + ("---|---|" if default else ""))
            for n_ranks in args.ranks:
                hosted = np.arange(N_NEURONS) % n_ranks == 0
                local = timed(lambda: edge.stream.onto(hosted), args.repeats, counted)
                whole = timed(lambda: whole_and_filtered(edge, hosted), args.repeats, counted)
                assert local[0] == whole[0]
                row = (f"| {n_ranks} | {local[0]} | {local[1]} | {whole[1]} | {local[2]:.3f} | {whole[2]:.3f} "
                       f"| {whole[2] / local[2]:.1f}× |")
                if default is not None:
                    before = timed(lambda: whole_and_filtered(default, hosted), args.repeats, counted)
                    row += f" {before[2]:.3f} | {before[2] / local[2]:.1f}× |"
                print(row, flush=True)
            if values != "constant":
                now, before = read_before_connecting(g, counted)
                print(f"read by every rank before connecting: {now} numbers (before: {before}, every synapse's "
                      "weight and delay)", flush=True)
    finally:
        for m, f in real.items():
            m.poisson_uniforms = f
        connectors._sample_without = real_sample


if __name__ == "__main__":
    main()
