"""Native grid engine and Brian2 (numpy target) give identical spikes and final weights (to 1e-12
relative) for pair STDP: pairs coinciding in one step, both bounds reached, delays 1..20 steps,
excitatory and inhibitory, additive and multiplicative, all-to-all and nearest pairing."""
import numpy as np
import pytest

from scenarios import pairs_network, recurrent_network, stdp

pytest.importorskip("brian2")

DURATION = "0.2 s"


def _both(net_factory):
    rn = net_factory().run(DURATION)
    rb = net_factory().run(DURATION, backend="brian2", target="numpy")
    return rn, rb


def _assert_identical(rn, rb, proj):
    for pop in rn.spikes:
        np.testing.assert_array_equal(rn.spikes[pop][1], rb.spikes[pop][1])
        np.testing.assert_array_equal(np.rint(rn.spikes[pop][0] / 1e-4), np.rint(rb.spikes[pop][0] / 1e-4))
    wn, wb = rn.weights[proj]["final"], rb.weights[proj]["final"]
    np.testing.assert_allclose(wn, wb, rtol=1e-12, atol=0)
    return wn


CASES = {
    "all_to_all-additive": dict(),
    "nearest-additive": dict(pairing="nearest"),
    "all_to_all-multiplicative": dict(weight_dependence="multiplicative", A_plus=0.3, A_minus=0.35),
    "nearest-multiplicative": dict(pairing="nearest", weight_dependence="multiplicative", A_plus=0.3,
                                   A_minus=0.35),
}


@pytest.mark.parametrize("case", CASES)
def test_pairs_delta_target(case):
    rn, rb = _both(lambda: pairs_network(stdp(**CASES[case])))
    w = _assert_identical(rn, rb, "plastic")
    assert rn.spikes["post"][0].size > 100
    if case == "all_to_all-additive":       # the scenario drives weights onto both bounds
        assert np.isclose(w, 0.2e-3, rtol=1e-12).any() and np.isclose(w, 3e-3, rtol=1e-12).any()
    assert not np.allclose(w, pairs_network(None).to_ir().projections["plastic"].weight)


def test_pairs_inhibitory_projection():
    rn, rb = _both(lambda: pairs_network(stdp(), sign=-1))
    w = _assert_identical(rn, rb, "plastic")
    assert (w < 0).all() and np.isclose(w, -3e-3, rtol=1e-12).any() and np.isclose(w, -0.2e-3, rtol=1e-12).any()


def test_pairs_current_target():
    rn, rb = _both(lambda: pairs_network(stdp(), model="lif_cuba"))
    assert rn.spikes["post"][0].size > 50
    _assert_identical(rn, rb, "plastic")


def test_recurrent_plastic_projection():
    rn, rb = _both(lambda: recurrent_network(stdp(A_plus="0.05 mV", A_minus="0.06 mV")))
    assert rn.spikes["exc"][0].size > 100
    _assert_identical(rn, rb, "rec")
