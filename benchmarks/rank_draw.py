"""What one MPI rank of the NEST backend spends drawing a large projection's synapses.

``python -m benchmarks.rank_draw [--synapses N] [--ranks R ...] [--repeats K] [--values constant|normal|both]``
realises a fixed_total_number projection (N synapses among 20,000 current-based LIF neurons)
and, for rank 0 of R ranks (neurons placed round-robin, as NEST places them on its virtual
processes), draws that rank's synapses two ways: rank-local (only its targets' streams:
spikecore.ir.SynapseStream.onto) and drawn whole and filtered (what every rank does for the
connectors and values that cannot be split by target). Two projections:

* ``constant``: a constant weight and delay (rank-local with the default stream);
* ``normal``: the cortical microcircuit's kind, truncated-normal weight and delay, with
  ``streams: per_target`` (rank-local: each synapse's values from its target's stream); its
  table adds the same projection with the default stream (``streams: projection``: values
  taken in the order of the whole list, so drawn whole and filtered on every rank), which is
  what every rank did for such a projection before.

It prints, per R, the SplitMix64 numbers each way draws (counted where the connector and the
per-target value streams draw them: sources, weights, delays and the values' redraws) and the
median seconds of K repeats. The machine is shared: seconds are noisy, the ratio in one run is
what to read (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

N_NEURONS = 20_000


def projection(n_synapses: int, values: str = "constant", streams: str = "projection"):
    from spikecore import ir as _ir
    from spikecore.network import FixedTotalNumber, Network, Normal
    _ir.LAZY_SYNAPSES = min(_ir.LAZY_SYNAPSES, n_synapses)      # a stream whatever its size
    net = Network("rank_draw", seed=7, dt="0.1 ms")
    net.population("e", N_NEURONS, "lif_cuba", {
        "tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", "t_refrac": "2 ms",
        "tau_syn": {"exc": "5 ms"}})
    if values == "constant":
        weight, delay = "0.1 mV", "1.5 ms"
    else:     # the microcircuit's excitatory synapses: 10 % spread kept >= 0, 50 % spread redrawn below 0.05 ms
        weight, delay = Normal("0.1 mV", "0.01 mV", low="0 mV"), Normal("1.5 ms", "0.75 ms", low="0.05 ms")
    net.project("e", "e", FixedTotalNumber(n_synapses), weight=weight, delay=delay, receptor="exc", name="ee",
                streams=streams)
    edge = net.to_ir().projections["ee"]
    assert edge.is_lazy and edge.stream.rank_local == (values == "constant" or streams == "per_target")
    return edge


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synapses", type=int, default=2 ** 23)
    ap.add_argument("--ranks", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--values", choices=("constant", "normal", "both"), default="both")
    args = ap.parse_args(argv)
    from spikecore import connectors, distributions
    counted = []
    real = {m: m.poisson_uniforms for m in (connectors, distributions)}

    def counting(real_draw):
        def draw_counted(key, k):
            counted.append(np.size(k))
            return real_draw(key, k)
        return draw_counted
    for m, f in real.items():
        m.poisson_uniforms = counting(f)
    try:
        for values in (("constant", "normal") if args.values == "both" else (args.values,)):
            edge = projection(args.synapses, values, "projection" if values == "constant" else "per_target")
            default = projection(args.synapses, values) if values == "normal" else None
            what = ("constant weight and delay" if values == "constant" else
                    "truncated-normal weight and delay, streams: per_target")
            print(f"\nfixed_total_number, {args.synapses} synapses onto {N_NEURONS} neurons, {what}; rank 0 of R, "
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
                    assert before[0] == local[0]
                    row += f" {before[2]:.3f} | {before[2] / local[2]:.1f}× |"
                print(row, flush=True)
    finally:
        for m, f in real.items():
            m.poisson_uniforms = f


if __name__ == "__main__":
    main()
