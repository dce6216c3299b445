"""quantize(ir, profile) -> ir (hwmodels.passes): what a chip holds, as an IR every backend runs."""
import math
import sys
import types

import numpy as np
import pytest

from backends import get_backend
from hwmodels import conversion as conv
from hwmodels.passes import quantize, state_layout
from hwmodels.profiles import profile_from_dict
from spikecore import AllToAll, Network
from spikecore.errors import UnsupportedFeature, ValidationError

HOOK_CALLS = []


def _exact_hook(ir, num_weight_bits=None):
    """A profile's exact conversion: records the call and returns the graph unchanged."""
    HOOK_CALLS.append(num_weight_bits)
    return ir


@pytest.fixture
def model():
    rng = np.random.default_rng(1)
    return conv.FloatModel([(rng.normal(0, 0.5, (6, 4)), rng.normal(0, 0.1, 6)),
                            (rng.normal(0, 0.5, (3, 6)), rng.normal(0, 0.1, 3))])


def test_ideal_is_a_copy(model):
    g = conv.to_ir(conv.build_rate_network(model, 15))
    q = quantize(g, "ideal")
    assert q is not g and q.projections["w1"].weight is not g.projections["w1"].weight
    assert np.array_equal(q.projections["w1"].weight, g.projections["w1"].weight)


def test_loihi_weights_on_a_shared_exponent_grid(model):
    g = conv.finalize_temporal(conv.to_ir(conv.build_temporal_network(model, 15)))
    before = {n: e.weight.copy() for n, e in g.projections.items()}
    q = quantize(g, "loihi", weight_bits=4, exact=False)
    for name, e in q.projections.items():
        if e.attrs["role"] == "control":
            assert np.array_equal(e.weight, before[name])          # reference synapses are not stored weights
            continue
        hw = e.attrs["hw"]
        assert hw["weight_codes"].min() >= -8 and hw["weight_codes"].max() <= 7
        assert np.array_equal(e.weight, hw["weight_codes"] * 2.0 ** hw["weight_exp"])
        # floor (LSBs dropped): never above the float weight
        assert (e.weight <= before[name] + 1e-12 * np.abs(before[name])).all()
    assert np.array_equal(g.projections["w1"].weight, before["w1"])   # the input graph is untouched


def test_xylo_per_channel_scales(model):
    g = conv.to_ir(conv.build_rate_network(model, 15))
    q = quantize(g, "xylo")
    e = q.projections["w1"]
    codes = e.attrs["hw"]["weight_codes"]
    for j in range(6):
        assert np.abs(codes[e.j == j]).max() == 127     # each neuron's largest weight uses the full range


def test_thresholds_and_decays_on_the_profile_grid():
    net = Network(dt="1 ms")
    net.population("p", 3, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "10 mV",
                                         "v_reset": "0 mV"})
    g = net.to_ir()
    q = quantize(g, "loihi", exact=False)
    f = math.exp(-1e-3 / q.populations["p"].params["tau_mem"])
    assert f * 4096 == pytest.approx(round(f * 4096), abs=1e-6)       # a 12-bit multiplier
    assert q.populations["p"].attrs["hw"]["decay"]["codes"]["mem"] == round(4096 * (1 - math.exp(-1 / 20)))
    layout = state_layout(q, "loihi")["p"]
    assert layout["bits"] == 24
    vth = q.populations["p"].params["v_threshold"]
    assert vth / layout["lsb"][0] == pytest.approx(round(vth / layout["lsb"][0]))
    assert vth <= 10e-3 and vth > 10e-3 * (1 - 1e-3)
    x = quantize(g, "xylo")
    fx = math.exp(-1e-3 / x.populations["p"].params["tau_mem"])
    assert fx == pytest.approx(1 - 2.0 ** -4)                         # 1/20 -> shift round(4.32) = 4


def test_no_decay_stays_no_decay(model):
    g = conv.to_ir(conv.build_temporal_network(model, 7))
    for prof in ("loihi", "spinnaker"):
        q = quantize(g, prof, exact=False)
        assert math.exp(-q.dt / q.populations["hid1"].params["tau_mem"]) == 1.0


def test_quantized_ir_runs_on_the_native_engine(model):
    g = conv.to_ir(conv.build_rate_network(model, 7, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3])))
    res = get_backend("native").compile(quantize(g, "xylo", weight_bits=3)).run(11 * g.dt)
    assert set(res.spikes) == {"hid1", "out"}


def test_delays_beyond_the_profile_are_refused():
    net = Network(dt="1 ms")
    net.population("a", 2, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "10 mV",
                                         "v_reset": "0 mV"})
    net.project("a", "a", AllToAll(), weight="1 mV", delay="20 ms")
    g = net.to_ir()
    with pytest.raises(UnsupportedFeature, match="delays of 20 steps"):
        quantize(g, "spinnaker")
    assert quantize(g, "loihi", exact=False).projections["projection0"].delay[0] == pytest.approx(20e-3)


def test_exact_hook_takes_over(monkeypatch):
    module = types.ModuleType("exact_hook_under_test")
    module.quantize = _exact_hook
    monkeypatch.setitem(sys.modules, "exact_hook_under_test", module)
    prof = profile_from_dict({"name": "hooked", "exact": "exact_hook_under_test:quantize"})
    net = Network(dt="1 ms")
    net.population("p", 1, "lif_delta", {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "10 mV",
                                         "v_reset": "0 mV"})
    g = net.to_ir()
    assert quantize(g, prof, weight_bits=5) is g
    assert HOOK_CALLS[-1] == 5
    assert quantize(g, prof, weight_bits=5, exact=False) is not g


def test_loihi_profile_hands_over_to_the_exact_loihi_conversion(model):
    from hwmodels import loihi

    # weights well inside 8 bits of the threshold scale, so the strict Loihi policy accepts them
    small = conv.FloatModel([(W * 0.01, b * 0.01) for W, b in model.layers])
    g = conv.to_ir(conv.build_rate_network(small, 7))
    exact = quantize(g, "loihi", weight_bits=6)
    assert {p.model for p in exact.populations.values()} == {loihi.MODEL}
    assert {e.attrs["num_weight_bits"] for e in exact.projections.values()} == {6}
    generic = quantize(g, "loihi", weight_bits=6, exact=False)
    assert {p.model for p in generic.populations.values()} == {"lif_delta"}


def test_bad_arguments(model):
    g = conv.to_ir(conv.build_rate_network(model, 7))
    with pytest.raises(ValidationError, match="profile"):
        quantize(g, "truenorth")
    with pytest.raises(ValidationError, match="weight bits"):
        quantize(g, "loihi", weight_bits=0)
    with pytest.raises(ValidationError, match="weight bits"):
        quantize(g, "xylo", weight_bits=9)
    with pytest.raises(ValidationError, match="ir"):
        quantize({"not": "a graph"}, "ideal")
