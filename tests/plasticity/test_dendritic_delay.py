"""``dendritic_delay_fraction``: the part of a plastic synapse's delay between the synapse
and its target (NEST's and PyNN's convention is 1, the whole delay; Brian2's is 0).

With fraction f and a delay of D steps, dd = round(f D) steps are dendritic: the synapse
sees a presynaptic spike D - dd steps after it, and a postsynaptic spike dd steps after it
(both one step later still, the same shift for both, so that no spike is due at its own
step); what it delivers reaches the target D steps after the presynaptic spike. Checked
against a closed form of NEST's ``stdp_synapse`` (lazy updates at presynaptic spikes, the
postsynaptic spike history shifted by the dendritic delay), which NEST 3.10 itself
reproduces, and against fraction 0 on the same spikes."""
import math

import numpy as np
import pytest

import spikecore as sc
from backends import get_backend

from scenarios import stdp, taught_pair

DT = 1e-4
TAU_P, TAU_M, AP, AM, WMAX = 0.0168, 0.0337, 0.6e-3, 0.5e-3, 3e-3


def nest_closed_form(pre, post, d, w0, tau_p=TAU_P, tau_m=TAU_M, a_p=AP, a_m=AM, w_max=WMAX):
    """NEST stdp_synapse::send (additive, mu = 0), weights in the rule's absolute units: at a
    presynaptic spike t (its time at the synapse), facilitation by each postsynaptic spike
    with t_last - d < t_post <= t - d, seen at t_post + d; then depression by the
    postsynaptic trace at t - d (spikes strictly before)."""
    w, k_plus, t_last = w0, 0.0, 0.0
    for t in pre:
        for tp in post:
            if t_last - d < tp <= t - d:
                w = min(w + a_p * k_plus * math.exp((t_last - (tp + d)) / tau_p), w_max)
        k_minus = sum(math.exp(-(t - d - tp) / tau_m) for tp in post if tp < t - d)
        w = max(w - a_m * k_minus, 0.0)
        k_plus = k_plus * math.exp((t_last - t) / tau_p) + 1.0
        t_last = t
    return w


PRE = [100, 131, 177, 260, 322, 407, 455, 611]          # steps of the presynaptic spikes
TEACH = [148, 203, 301, 340, 500]                        # a teacher makes post spike 2 steps later


def two_neurons(fraction, delay_steps=15, pre=PRE, teach=TEACH, w0="1 mV"):
    return taught_pair(pre, teach, w0=w0, delay_steps=delay_steps, dendritic_delay_fraction=fraction, w_max="3 mV")


@pytest.mark.parametrize("threads", [1, 2])
def test_whole_delay_dendritic_follows_nest_stdp_synapse(threads):
    r = get_backend("native").compile(two_neurons(1.0).to_ir(), threads=threads).run(0.08)
    post = np.rint(r.spikes["post"][0] / DT).astype(int)
    assert post.tolist() == [t + 2 for t in TEACH]
    want = nest_closed_form([t * DT for t in PRE], [t * DT for t in post], 15 * DT, 1e-3)
    assert r.weights["syn"]["final"][0] == pytest.approx(want, rel=1e-12)


def test_fraction_zero_is_the_same_rule_with_the_delay_on_the_presynaptic_side():
    # fraction 0: the synapse sees the presynaptic spike D later and the postsynaptic one at
    # once -- NEST's closed form with the presynaptic times moved by D and no dendritic delay
    r = two_neurons(0.0).run("80 ms")
    post = np.rint(r.spikes["post"][0] / DT).astype(int)
    want = nest_closed_form([(t + 15) * DT for t in PRE], [t * DT for t in post], 0.0, 1e-3)
    assert r.weights["syn"]["final"][0] == pytest.approx(want, rel=1e-12)


def test_delivery_keeps_the_whole_delay():
    # the plastic weight reaches the target D steps after the presynaptic spike whatever the split
    traces = {}
    for f in (0.0, 0.5, 1.0):
        net = two_neurons(f, pre=[100], teach=[], w0="5 mV")
        net.add(sc.StateMonitor("post", ("v",), name="vm"))
        traces[f] = net.run("20 ms").traces["vm"]["variables"]["v"][:, 0]
    np.testing.assert_array_equal(traces[0.0], traces[1.0])
    np.testing.assert_array_equal(traces[0.0], traces[0.5])


def test_nest_reproduces_the_closed_form():
    nest = pytest.importorskip("nest")
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": 0.1})
    gen_pre = nest.Create("spike_generator", params={"spike_times": [t * 0.1 for t in PRE]})
    gen_teach = nest.Create("spike_generator", params={"spike_times": [t * 0.1 for t in TEACH]})
    pre = nest.Create("parrot_neuron")
    post = nest.Create("iaf_psc_delta", params={"tau_minus": TAU_M * 1e3, "V_m": -70.0, "E_L": -70.0,
                                                 "V_th": -55.0, "V_reset": -70.0, "t_ref": 2.0})
    rec, rec_pre = nest.Create("spike_recorder"), nest.Create("spike_recorder")
    nest.Connect(gen_pre, pre, syn_spec={"delay": 0.1})
    nest.Connect(pre, rec_pre)
    nest.Connect(gen_teach, post, syn_spec={"weight": 40.0, "delay": 0.1})
    nest.Connect(post, rec)
    nest.Connect(pre, post, syn_spec={"synapse_model": "stdp_synapse", "weight": 1.0, "delay": 1.5,
                                      "tau_plus": TAU_P * 1e3, "lambda": AP / WMAX, "alpha": AM / AP,
                                      "Wmax": WMAX * 1e3, "mu_plus": 0.0, "mu_minus": 0.0})
    nest.Simulate(80.0)
    post_ms = np.asarray(rec.get("events", "times"), dtype=float)
    pre_ms = np.asarray(rec_pre.get("events", "times"), dtype=float)   # the parrot's relays
    w_nest = nest.GetConnections(pre, post).get("weight") * 1e-3
    want = nest_closed_form(list(pre_ms * 1e-3), list(post_ms * 1e-3), 1.5e-3, 1e-3)
    assert post_ms.size == len(TEACH) and pre_ms.size == len(PRE)
    assert w_nest == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("fraction", [0.5, 1.0])
def test_any_thread_count_gives_the_same_weights_and_spikes(fraction):
    from scenarios import recurrent_network
    rule = stdp(dendritic_delay_fraction=fraction)
    runs = [recurrent_network(rule).run("0.3 s", threads=t) for t in (1, 2, 3)]
    assert runs[0].spikes["exc"][0].size > 100
    for r in runs[1:]:
        np.testing.assert_array_equal(r.spikes["exc"][0], runs[0].spikes["exc"][0])
        np.testing.assert_array_equal(r.spikes["exc"][1], runs[0].spikes["exc"][1])
        np.testing.assert_array_equal(r.weights["rec"]["final"], runs[0].weights["rec"]["final"])
    zero = recurrent_network(stdp()).run("0.3 s")
    assert not np.array_equal(zero.weights["rec"]["final"], runs[0].weights["rec"]["final"])
