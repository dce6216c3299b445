"""The per-neuron ``bias`` current of every float LIF model (spikecore/models/base.py,
COMMON_LIF_PARAMS): the same spikes as an equal injected current, on the grid engine, the
precise engine and Brian2; refusals where a backend cannot hold it."""
import numpy as np
import pytest

import spikecore as sc
from spikecore.errors import BackendUnavailable, UnsupportedFeature, ValidationError

BIASES = ["100 pA", "160 pA", "200 pA", "300 pA"]
LIF = {"tau_mem": "20 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV", "t_refrac": "2 ms"}


def network(model, bias=None, current=None):
    net = sc.Network(dt="0.1 ms", seed=2)
    params = dict(LIF)
    if model == "lif_cuba":
        params["tau_syn"] = {"exc": "5 ms"}
    if model in ("lif_coba", "if_cuba"):
        params = {"c_m": "200 pF", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV",
                  "t_refrac": "2 ms", "tau_syn": {"exc": "5 ms"}}
        if model == "lif_coba":
            params.update(g_l="10 nS", e_rev={"exc": "0 mV"})
    if bias is not None:
        params["bias"] = bias
    net.population("p", len(BIASES), model, params)
    if current is not None:
        for k, amp in enumerate(current):
            net.add(sc.CurrentSource("p", neurons=[k], amplitude=amp, name=f"i{k}"))
    return net


def per_neuron(res):
    t, i = res.spikes["p"]
    return [t[i == k] for k in range(len(BIASES))]


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba", "lif_coba", "if_cuba"])
def test_a_bias_is_an_injected_current(model):
    biased = per_neuron(network(model, BIASES).run("200 ms"))
    injected = per_neuron(network(model, current=BIASES).run("200 ms"))
    assert sum(x.size for x in biased) > 10
    for a, b in zip(biased, injected):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_brian2_and_the_precise_engine_take_per_neuron_biases(model):
    native = network(model, BIASES).run("200 ms")
    precise = network(model, BIASES).run("200 ms", timing="precise")
    # precise: the exact periodic solution of tau dv/dt = v_leak + r b - v from v_reset = v_leak
    for b_pa, t in zip((100, 160, 200, 300), per_neuron(precise)):
        v_inf = -65e-3 + 1e8 * b_pa * 1e-12
        if v_inf <= -50e-3:
            assert t.size == 0
            continue
        first = 20e-3 * np.log((v_inf + 65e-3) / (v_inf + 50e-3))
        expected = first + np.arange(t.size) * (first + 2e-3)
        assert t.size >= 2 and np.max(np.abs(t - expected)) < 1e-9
    try:
        brian = network(model, BIASES).run("200 ms", backend="brian2")
    except BackendUnavailable:
        pytest.skip("brian2 is not installed")
    np.testing.assert_array_equal(native.spikes["p"][0], brian.spikes["p"][0])
    np.testing.assert_array_equal(native.spikes["p"][1], brian.spikes["p"][1])


@pytest.mark.parametrize("model", ["lif_delta", "lif_cuba"])
def test_the_nest_backend_takes_the_bias_as_i_e(model):
    try:
        biased = network(model, BIASES).run("200 ms", backend="nest")
    except BackendUnavailable:
        pytest.skip("nest is not installed")
    injected = network(model, current=BIASES).run("200 ms", backend="nest")
    assert biased.spikes["p"][0].size > 10
    np.testing.assert_array_equal(biased.spikes["p"][0], injected.spikes["p"][0])
    np.testing.assert_array_equal(biased.spikes["p"][1], injected.spikes["p"][1])


def test_a_distribution_is_drawn_from_the_seed_and_a_wrong_length_names_the_field():
    ir = network("lif_delta", sc.Normal("150 pA", "20 pA")).to_ir()
    b = ir.populations["p"].params["bias"]
    assert b.shape == (4,) and np.array_equal(b, network("lif_delta", sc.Normal("150 pA", "20 pA")).to_ir()
                                               .populations["p"].params["bias"])
    with pytest.raises(ValidationError, match=r"populations\.p\.params\.bias"):
        network("lif_delta", ["1 pA", "2 pA"])
    with pytest.raises(ValidationError, match=r"populations\.p\.params\.tau_mem"):   # every parameter may be
        sc.Population(2, "lif_delta", {**LIF, "tau_mem": ["10 ms", "-20 ms"]}, name="p")   # per neuron: in range


def test_nir_refuses_a_bias_and_the_loihi_mapping_lints_a_per_neuron_one(tmp_path):
    with pytest.raises(UnsupportedFeature, match="bias"):
        network("lif_cuba", "100 pA").save(tmp_path / "m.nir")
    from hwmodels.lint import lint
    rules = [f.rule for f in lint(network("lif_cuba", BIASES).to_ir()) if f.severity == "error"]
    assert "per-neuron bias" in rules
    assert "per-neuron bias" not in [f.rule for f in lint(network("lif_cuba", "100 pA").to_ir())]


def test_loihi_mode_runs_a_population_bias_as_a_shifted_rest():
    shifted = network("lif_cuba", "160 pA").run("100 ms", format="loihi", policy="approximate")
    params = {**LIF, "v_leak": "-49 mV", "tau_syn": {"exc": "5 ms"}}
    net = sc.Network(dt="0.1 ms", seed=2)
    net.population("p", 4, "lif_cuba", params, initial={"v": "-65 mV"})
    rest = net.run("100 ms", format="loihi", policy="approximate")
    np.testing.assert_array_equal(shifted.spikes["p"][0], rest.spikes["p"][0])
    assert shifted.spikes["p"][0].size > 0
