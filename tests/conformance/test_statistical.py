"""Statistical scenarios: the benchmark networks agree in their statistics on every backend.

Tolerances (spikecore.compare.Tolerances, the same that ``spikecore compare``
uses): population rate within 5% (relative), mean CV of the ISIs within 0.05
(absolute), and the per-neuron firing-rate histograms alike by the
Anderson-Darling k-sample test at alpha = 0.01 (why that test: spikecore/compare.py).

CUBA and COBA are deterministic given the IR (COBA's Poisson kick has a finite
stop, so Brian2 replays the native engine's trains): they are chaotic but
diverge only through rounding. The Brunel networks' external drive is unbounded
Poisson input, which Brian2 draws itself (poisson=draw): those runs share only
the network, not the trains, and agree only statistically.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from spikecore.compare import compare_populations
from spikecore.io import load_network
from spikecore.network import FixedProbability, Network, OneToOne, PoissonSource, Uniform

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def brunel_small() -> Network:
    """Brunel (2000) at a quarter of the size: N_E 2000, N_I 500, p 0.1, J 0.4 mV (so J*C_E is the
    10k network's 80 mV), g 5, D 1.5 ms, 20 kHz of 0.1 mV external Poisson input per neuron."""
    net = Network("brunel_small", seed=3, dt="0.1 ms", duration="300 ms")
    prm = {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV", "v_reset": "10 mV", "t_refrac": "2 ms"}
    init = {"v": Uniform("0 mV", "20 mV")}
    net.population("exc", 2000, "lif_delta", prm, init)
    net.population("inh", 500, "lif_delta", prm, init)
    for pop, n in (("exc", 2000), ("inh", 500)):
        net.add(PoissonSource(n, "20 kHz", name=f"ext_{pop}"))
        net.project(f"ext_{pop}", pop, OneToOne(), weight="0.1 mV", delay="0.1 ms", name=f"ext_to_{pop}")
    for pre, w in (("exc", "0.4 mV"), ("inh", "-2 mV")):
        for post in ("exc", "inh"):
            net.project(pre, post, FixedProbability(0.1), weight=w, delay="1.5 ms", name=f"{pre}_{post}")
    return net


CASES = {
    "cuba": (lambda: load_network(EXAMPLES / "cuba.yaml"), 1.0),
    "coba": (lambda: load_network(EXAMPLES / "coba.yaml"), 0.5),
    "brunel_small": (brunel_small, 0.3),
    "brunel": (lambda: load_network(EXAMPLES / "brunel.yaml"), 0.25),
}
SLOW = {"brunel"}


@pytest.mark.parametrize("case", [pytest.param(c, marks=[pytest.mark.slow] if c in SLOW else [])
                                  for c in CASES])
def test_statistics_agree(backend, case):
    backend.require(("lif_delta",) if case.startswith("brunel") else ("lif_cuba",) if case == "cuba"
                    else ("lif_coba",))
    ref = backend.reference()
    if ref is None:
        pytest.skip("the reference backend is not installed")
    make, duration = CASES[case]
    got = backend.run(case, make, duration)
    want = ref.run(case, make, duration)
    metrics = compare_populations(want, got)
    assert set(metrics) == set(want.spikes)
    for pop, m in metrics.items():
        assert want.rate(pop) > 1.0, f"{case}/{pop}: the reference network should be active"
        for check in ("rate", "cv_isi", "rate_histogram"):
            c = m["checks"][check]
            assert c["ok"], (f"{case}/{pop}: {check} {c['value']} not {c['tolerance']} "
                             f"({backend.id} vs {ref.id}: rates {m['rate_hz']}, CV {m['cv_isi']})")
