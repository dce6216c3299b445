"""Pair STDP in the native grid engine: the rule's arithmetic against a closed-form account of
a few spikes, delivery identical to a static projection's when nothing changes, independence
of the thread count, float32, refusals."""
import math

import numpy as np
import pytest

from backends import get_backend

from scenarios import pairs_network, recurrent_network, stdp, taught_pair

DT = 1e-4
TAU_P, TAU_M, AP, AM = 0.0168, 0.0337, 0.6e-3, 0.5e-3


_two_neurons = taught_pair


def test_pairs_follow_the_rule():
    # pre spikes at 100 and 400 arrive (delay 3) at 103 and 403; the teacher at 148 makes post
    # spike at 150: potentiation by A+ e^{-47 dt/tau+}, then depression by A- e^{-253 dt/tau-}
    r = _two_neurons([100, 400], [148]).run("60 ms")
    assert np.rint(r.spikes["post"][0] / DT).astype(int).tolist() == [150]
    w = 1e-3 + AP * math.exp(-(150 * DT - 103 * DT) / TAU_P)
    w = w - AM * math.exp(-(403 * DT - 150 * DT) / TAU_M)
    assert r.weights["syn"]["final"][0] == pytest.approx(w, rel=1e-13)


def test_pair_in_one_step_potentiates():
    # the pre spike arrives in the step post spikes (150): arrivals come first, so x_pre = 1
    r = _two_neurons([147], [148]).run("30 ms")
    assert np.rint(r.spikes["post"][0] / DT).astype(int).tolist() == [150]
    assert r.weights["syn"]["final"][0] == pytest.approx(1e-3 + AP, rel=1e-13)


def test_nearest_pairing_resets_traces():
    # two pre arrivals (103, 113) before one post spike (150): all-to-all sums both traces,
    # nearest pairs the post spike with the later one only
    both = _two_neurons([100, 110], [148]).run("30 ms").weights["syn"]["final"][0]
    near = _two_neurons([100, 110], [148], pairing="nearest").run("30 ms").weights["syn"]["final"][0]
    e1, e2 = math.exp(-47 * DT / TAU_P), math.exp(-37 * DT / TAU_P)
    # depression at the second arrival is 0: no post spike before it
    assert both == pytest.approx(1e-3 + AP * (e1 + e2), rel=1e-12)
    assert near == pytest.approx(1e-3 + AP * e2, rel=1e-12)


def test_bounds_hold():
    r = _two_neurons(list(range(100, 1000, 30)), list(range(110, 1000, 30)), w0="2.9 mV").run("0.1 s")
    assert r.weights["syn"]["final"][0] == 3e-3
    r = _two_neurons(list(range(200, 1000, 30)), list(range(100, 1000, 30)), w0="0.3 mV",
                     A_minus="2 mV").run("0.1 s")
    assert r.weights["syn"]["final"][0] == 0.2e-3


def test_constant_weights_deliver_as_a_static_projection():
    still = stdp(A_plus="0 mV", A_minus="0 mV", w_min="0 mV", w_max="10 mV")
    a, b = pairs_network(None).run("0.15 s"), pairs_network(still).run("0.15 s")
    np.testing.assert_array_equal(a.spikes["post"][0], b.spikes["post"][0])
    np.testing.assert_array_equal(a.spikes["post"][1], b.spikes["post"][1])
    np.testing.assert_array_equal(b.weights["plastic"]["final"], pairs_network(None).to_ir().projections["plastic"].weight)


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_thread_count_changes_nothing(precision):
    rule = stdp(A_plus="0.05 mV", A_minus="0.06 mV")
    runs = [recurrent_network(rule).run("0.3 s", threads=t, precision=precision) for t in (1, 2, 3)]
    assert runs[0].spikes["exc"][0].size > 200
    for r in runs[1:]:
        np.testing.assert_array_equal(r.spikes["exc"][0], runs[0].spikes["exc"][0])
        np.testing.assert_array_equal(r.spikes["exc"][1], runs[0].spikes["exc"][1])
        np.testing.assert_array_equal(r.weights["rec"]["final"], runs[0].weights["rec"]["final"])
    w0 = recurrent_network(rule).to_ir().projections["rec"].weight
    assert not np.array_equal(runs[0].weights["rec"]["final"], w0)


def test_float32_is_close_to_float64():
    a = _two_neurons([100, 400], [148]).run("60 ms", precision="float32").weights["syn"]["final"]
    b = _two_neurons([100, 400], [148]).run("60 ms").weights["syn"]["final"]
    assert a.dtype == np.float64 and a[0] == pytest.approx(b[0], rel=1e-6)


def test_runs_continue():
    one = _two_neurons([100, 400], [148]).run("60 ms").weights["syn"]["final"]
    sim = get_backend("native").compile(_two_neurons([100, 400], [148]).to_ir())
    sim.run(0.0125)
    two = sim.run(0.0475).weights["syn"]["final"]
    assert two[0] == one[0]


