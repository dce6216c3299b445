"""Lazy postsynaptic updates in the native grid engine (spikecore/engine/_kernel.h, sc_net):
a target's spikes go into its spike history and each plastic synapse applies them when its
next presynaptic spike arrives, or when the weights are read. Checked here: which rules are
updated so, the history's overflow (more postsynaptic spikes between two presynaptic ones
than it holds), and that reading the weights in the middle of a run (a WeightMonitor, runs
in pieces) changes nothing, bit for bit, with and without dendritic delays."""
import math

import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.engine.simulator import GridSimulator

from scenarios import DOPA, pairs_network, recurrent_network, stdp, taught_pair, three_factor

DT = 1e-4
TAU_P, TAU_M = 0.0168, 0.0337


def _sim(net, **kw):
    return GridSimulator(net.to_ir(), **kw)


def test_rules_with_a_post_function_and_no_modulator_are_lazy():
    assert _sim(pairs_network(stdp())).arrays["pl_lazy"].tolist() == [1]
    triplet = {"rule": "stdp_triplet", "w_min": "0.2 mV", "w_max": "3 mV"}
    assert _sim(pairs_network(triplet)).arrays["pl_lazy"].tolist() == [1]
    assert _sim(pairs_network(three_factor(), modulator=DOPA)).arrays["pl_lazy"].tolist() == [0]
    tm = {"rule": "tsodyks_markram", "U": 0.5, "tau_rec": "100 ms", "tau_fac": "0 ms"}
    assert _sim(pairs_network(tm)).arrays["pl_lazy"].tolist() == [0]


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_more_post_spikes_than_the_history_holds(fraction):
    # 87 postsynaptic spikes between two presynaptic ones (the history holds 47 beyond the
    # post delay): the closed form of all-to-all additive pair STDP, no bound reached
    ap, am = 0.02e-3, 0.01e-3
    teach = list(range(140, 2740, 30))
    net = taught_pair([100, 2800], teach, delay_steps=4, A_plus="0.02 mV", A_minus="0.01 mV",
                      dendritic_delay_fraction=fraction)
    sim = _sim(net)
    assert sim.arrays["pl_hist_len"] < len(teach)
    r = get_backend("native").compile(net.to_ir()).run(0.29)
    post = np.rint(r.spikes["post"][0] / DT).astype(int)
    assert post.tolist() == [t + 2 for t in teach]
    dd = round(fraction * 4)
    seen_pre = [p + 4 - dd + (dd >= 1) for p in (100, 2800)]       # when the synapse sees each side
    seen_post = [t + (dd + 1 if dd >= 1 else 0) for t in post]
    w = 1e-3 + sum(ap * math.exp(-(e - seen_pre[0]) * DT / TAU_P) for e in seen_post)
    w -= am * sum(math.exp(-(seen_pre[1] - e) * DT / TAU_M) for e in seen_post)
    assert r.weights["syn"]["final"][0] == pytest.approx(w, rel=1e-12)


@pytest.mark.parametrize("fraction", [0.0, 1.0])
def test_reading_weights_midway_changes_nothing(fraction):
    rule = stdp(A_plus="0.05 mV", A_minus="0.06 mV", dendritic_delay_fraction=fraction)
    whole = recurrent_network(rule).run("0.3 s")
    assert whole.spikes["exc"][0].size > 200
    watched = recurrent_network(rule)
    watched.add(sc.WeightMonitor("rec", synapses=[0, 3, 9], interval="0.3 ms", name="wm"))
    seen = watched.run("0.3 s")
    sim = get_backend("native").compile(recurrent_network(rule).to_ir())
    pieces = [sim.run(0.0137) for _ in range(21)] + [sim.run(0.3 - 21 * 0.0137)]
    for r in (seen, pieces[-1]):
        np.testing.assert_array_equal(r.weights["rec"]["final"], whole.weights["rec"]["final"])
    np.testing.assert_array_equal(seen.spikes["exc"][0], whole.spikes["exc"][0])
    np.testing.assert_array_equal(np.concatenate([p.spikes["exc"][1] for p in pieces]), whole.spikes["exc"][1])
    assert not np.array_equal(whole.weights["rec"]["final"], recurrent_network(rule).to_ir().projections["rec"].weight)
