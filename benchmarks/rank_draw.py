"""What one MPI rank of the NEST backend spends drawing a large projection's synapses.

``python -m benchmarks.rank_draw [--synapses N] [--ranks R ...] [--repeats K]`` realises one
fixed_total_number projection (N synapses among 20,000 current-based LIF neurons, constant
weight and delay: a rank-local stream, spikecore.ir.SynapseStream.onto) and, for rank 0 of R
ranks (neurons placed round-robin, as NEST places them on its virtual processes), draws that
rank's synapses two ways: rank-local (only its targets' source streams) and drawn whole and
filtered (what every rank did before, and still does for the connectors and drawn values that
cannot be split by target). It prints, per R, the SplitMix64 numbers each way draws (counted
where the connector draws them) and the median seconds of K repeats. The machine is shared:
seconds are noisy, the ratio in one run is what to read (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

N_NEURONS = 20_000


def projection(n_synapses: int):
    from spikecore import ir as _ir
    from spikecore.network import FixedTotalNumber, Network
    _ir.LAZY_SYNAPSES = min(_ir.LAZY_SYNAPSES, n_synapses)      # a stream whatever its size
    net = Network("rank_draw", seed=7, dt="0.1 ms")
    net.population("e", N_NEURONS, "lif_cuba", {
        "tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", "t_refrac": "2 ms",
        "tau_syn": {"exc": "5 ms"}})
    net.project("e", "e", FixedTotalNumber(n_synapses), weight="0.1 mV", delay="1.5 ms", receptor="exc", name="ee")
    edge = net.to_ir().projections["ee"]
    assert edge.is_lazy and edge.stream.rank_local, "the projection should be a rank-local stream"
    return edge


def draw(chunks) -> int:
    return sum(int(c[0].size) for c in chunks)


def whole_and_filtered(edge, hosted):
    for i, j, w, d in edge.chunks():
        keep = hosted[j]
        yield i[keep], j[keep], w[keep], d[keep]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synapses", type=int, default=2 ** 23)
    ap.add_argument("--ranks", type=int, nargs="+", default=[2, 4, 8])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    from spikecore import connectors
    edge = projection(args.synapses)
    counted = []
    real = connectors.poisson_uniforms

    def counting(key, k):
        counted.append(np.size(k))
        return real(key, k)
    connectors.poisson_uniforms = counting
    print(f"fixed_total_number, {args.synapses} synapses onto {N_NEURONS} neurons; rank 0 of R, "
          f"median of {args.repeats}")
    print("| R | rank's synapses | numbers drawn: rank-local | whole, filtered | s: rank-local | whole, filtered "
          "| faster by |")
    print("|---|---|---|---|---|---|---|")
    for n_ranks in args.ranks:
        hosted = np.arange(N_NEURONS) % n_ranks == 0
        row = {}
        for way, chunks in (("local", lambda: edge.stream.onto(hosted)),
                            ("whole", lambda: whole_and_filtered(edge, hosted))):
            times = []
            for _ in range(args.repeats):
                counted.clear()
                t0 = time.perf_counter()
                kept = draw(chunks())
                times.append(time.perf_counter() - t0)
            row[way] = (kept, sum(counted), statistics.median(times))
        assert row["local"][0] == row["whole"][0]
        print(f"| {n_ranks} | {row['local'][0]} | {row['local'][1]} | {row['whole'][1]} | {row['local'][2]:.3f} "
              f"| {row['whole'][2]:.3f} | {row['whole'][2] / row['local'][2]:.1f}× |")
    connectors.poisson_uniforms = real


if __name__ == "__main__":
    main()
