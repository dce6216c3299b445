"""``loihi_lif`` written by a user in Loihi's own integers (spikecore/models/loihi_lif.py).

The same description runs on the native engine's Loihi mode, on Lava's bit-accurate
fixed-point models and in hwmodels.loihi.reference_run with identical spikes and final
u and v; every other mode refuses it in one line, and out-of-range registers are refused
naming the field."""
from __future__ import annotations

import numpy as np
import pytest

from hwmodels.loihi import reference_run
from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.models import loihi_lif
from spikecore.network import (AllToAll, FixedProbability, Network, PoissonSource, SpikeMonitor, SpikeSource,
                               StateMonitor)

DT = 1e-3
DT_TEXT = "1 ms"


def random_net(seed: int, n_steps: int = 80) -> Network:
    """Two loihi_lif populations with random registers and per-neuron biases, a spike source, a
    Poisson source and four projections of both signs, weight exponents from -3 to 3 and
    per-synapse delays that include 0 and 63."""
    rng = np.random.default_rng(seed)
    net = Network(f"loihi_{seed}", seed=seed, dt=DT_TEXT)
    times = [[f"{t} ms" for t in sorted(rng.choice(n_steps // 2, 4, replace=False))] for _ in range(5)]
    net.add(SpikeSource(spike_times=times, name="inp"))
    net.add(PoissonSource(6, "80 Hz", name="noise"))
    sizes = {"a": 12, "b": 9}
    for name, n in sizes.items():
        net.population(name, n, "loihi_lif",
                       {"du": int(rng.integers(0, 4096)), "dv": int(rng.integers(0, 4096)),
                        "vth": int(rng.integers(1, 400)),
                        "bias_mant": rng.integers(-200, 400, n).tolist(), "bias_exp": int(rng.integers(0, 7))},
                       initial={"v": rng.integers(-2000, 2000, n).tolist(), "u": rng.integers(-500, 500, n).tolist()})

    def project(pre, post, n_pre, sign, name):
        k = n_pre * sizes[post]
        mag = rng.integers(1, 128, k)
        weight = {"+": mag, "-": -mag, "mixed": 2 * mag * rng.choice([-1, 1], k)}[sign]
        delay = rng.integers(0, 64, k)
        delay[:2] = [0, 63]
        net.project(pre, post, AllToAll(), weight=weight, delay=delay, name=name,
                    weight_exp=int(rng.integers(-3, 4)), num_weight_bits=8)

    project("inp", "a", 5, "+", "inp_a")
    project("a", "b", sizes["a"], "mixed", "a_b")
    project("b", "a", sizes["b"], "-", "b_a")
    net.project("noise", "b", FixedProbability(0.5), weight=64, delay=3, weight_exp=1, name="noise_b")
    net.add(SpikeMonitor("a"), SpikeMonitor("b"), StateMonitor("b", ("u", "v"), neurons=[0, 4], name="uv"))
    return net


def spikes_of(result) -> dict:
    return {k: (np.rint(t / DT).astype(np.int64), i) for k, (t, i) in result.spikes.items()}


def assert_same(ref: dict, got: dict, state_ref: dict, state_got: dict):
    """Identical spikes (steps, indices); state_ref is reference_run's ({"u": {pop: ...}}),
    state_got a Result's final_state ({pop: {"u": ...}})."""
    for pop in ref:
        np.testing.assert_array_equal(got[pop][0], ref[pop][0], err_msg=f"{pop} spike steps")
        np.testing.assert_array_equal(got[pop][1], ref[pop][1], err_msg=f"{pop} spike indices")
        for var in ("u", "v"):
            np.testing.assert_array_equal(state_got[pop][var], state_ref[var][pop], err_msg=f"{pop}.{var}")


def test_reference_run_accepts_an_integer_ir_without_float_attrs():
    """Used to raise KeyError 'v_leak': an integer IR has no volts to convert a bias from."""
    net = Network("n", dt=DT_TEXT)
    net.population("p", 2, "loihi_lif", {"du": 4095, "dv": 0, "vth": 2, "bias_mant": [10, 0], "bias_exp": 3})
    out = reference_run(net.to_ir(), 11)
    # v grows by 10 << 3 = 80 per step and fires when above 2 << 6 = 128: every second step
    assert out["spikes"]["p"][0].tolist() == [1, 3, 5, 7, 9]
    assert out["v"]["p"].tolist() == [80, 0] and out["u"]["p"].tolist() == [0, 0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_native_loihi_mode_is_the_reference_on_random_networks(seed):
    net = random_net(seed)
    g = net.to_ir()
    ref = reference_run(g, 80)
    res = net.run("80 ms", backend="native", format="loihi")
    assert sum(i.size for _, i in ref["spikes"].values()) > 20, "the network should spike"
    assert_same(ref["spikes"], spikes_of(res), ref, res.final_state)


def test_a_loihi_delay_d_reaches_the_target_after_d_plus_one_steps():
    """Lava's DelayDense: a spike at step n reaches a_in at n + 1 + d; the IR holds (d + 1) dt."""
    for d in (0, 1, 63):
        net = Network("n", dt=DT_TEXT)
        net.add(SpikeSource(spike_times=[["2 ms"]], name="s"))
        net.population("p", 1, "loihi_lif", {"du": 4095, "dv": 4095, "vth": 0})
        net.project("s", "p", AllToAll(), weight=1, delay=d, name="sp")
        net.add(SpikeMonitor("p"))
        g = net.to_ir()
        assert g.projections["sp"].delay[0] == pytest.approx((d + 1) * DT)
        assert g.projections["sp"].attrs[loihi_lif.DENSE_STEP_IN_DELAY] is True
        res = net.run(f"{d + 10} ms", backend="native", format="loihi")
        assert spikes_of(res)["p"][0].tolist() == [2 + 1 + d]
        assert reference_run(g, d + 10)["spikes"]["p"][0].tolist() == [2 + 1 + d]


@pytest.mark.parametrize("params,field,value", [
    ({"du": 4096, "dv": 0, "vth": 1}, "populations.p.params.du", "4096"),
    ({"du": 0, "dv": -1, "vth": 1}, "populations.p.params.dv", "-1"),
    ({"du": 0, "dv": 0, "vth": 2**17}, "populations.p.params.vth", "131072"),
    ({"du": 1.5, "dv": 0, "vth": 1}, "populations.p.params.du", "1.5"),
    ({"du": 0, "dv": 0, "vth": 1, "bias_exp": 8}, "populations.p.params.bias_exp", "8"),
    ({"du": 0, "dv": 0, "vth": 1, "bias_mant": [0, 5000]}, "populations.p.params.bias_mant", "5000"),
])
def test_registers_out_of_range_are_one_line_errors_naming_the_field(params, field, value):
    with pytest.raises(ValidationError) as e:
        Network("n").population("p", 2, "loihi_lif", params)
    assert str(e.value).startswith(field) and value in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("kw,field", [
    ({"delay": 64}, "projections.pq.delay"),
    ({"delay": -1}, "projections.pq.delay"),
    ({"delay": 2.5}, "projections.pq.delay"),
    ({"num_weight_bits": 9}, "projections.pq.num_weight_bits"),
    ({"num_weight_bits": 0}, "projections.pq.num_weight_bits"),
    ({"weight_exp": 8}, "projections.pq.weight_exp"),
    ({"weight": 300}, "projections.pq.weight"),
    ({"weight": 3.5}, "projections.pq.weight"),
    ({"weight": [4, -3]}, "projections.pq.weight"),            # mixed signs: even mantissas only
    ({"weight": 5, "num_weight_bits": 6}, "projections.pq.weight"),   # 6 bits keep multiples of 4
])
def test_projection_fields_out_of_range_are_one_line_errors_naming_the_field(kw, field):
    net = Network("n", dt=DT_TEXT)
    net.population("p", 2, "loihi_lif", {"du": 0, "dv": 0, "vth": 1})
    net.population("q", 1, "loihi_lif", {"du": 0, "dv": 0, "vth": 1})
    args = {"weight": 4, **kw}
    with pytest.raises(ValidationError) as e:
        net.project("p", "q", AllToAll(), name="pq", **args)
        net.to_ir()
    assert str(e.value).startswith(field) and "\n" not in str(e.value)


def test_loihi_registers_belong_to_loihi_targets_only():
    net = Network("n")
    net.population("p", 1, "lif_delta", {"tau_mem": "10 ms", "v_leak": "0 mV", "v_threshold": "1 mV",
                                          "v_reset": "0 mV"})
    with pytest.raises(ValidationError, match=r"^projections.pp.weight_exp: .*loihi_lif"):
        net.project("p", "p", AllToAll(), weight="1 mV", weight_exp=2, name="pp")


def test_initial_state_beyond_24_bits_is_refused():
    net = Network("n")
    net.population("p", 1, "loihi_lif", {"du": 0, "dv": 0, "vth": 1}, initial={"v": 2**23})
    with pytest.raises(ValidationError, match=r"^populations.p.initial.v: .*24-bit"):
        net.to_ir()


def small_net() -> Network:
    net = Network("n", dt=DT_TEXT)
    net.population("p", 2, "loihi_lif", {"du": 100, "dv": 100, "vth": 10, "bias_mant": 50, "bias_exp": 6})
    net.project("p", "p", AllToAll(), weight=-20, delay=2, name="pp")
    net.add(SpikeMonitor("p"))
    return net


@pytest.mark.parametrize("backend,options", [("native", {}), ("native", {"timing": "precise"}),
                                             ("brian2", {}), ("lava", {"format": "float"})])
def test_float_backends_refuse_it_in_one_line_naming_the_model(backend, options):
    from backends import get_backend
    try:
        be = get_backend(backend)
    except Exception as e:   # a backend whose library is missing here cannot be asked
        pytest.skip(str(e))
    with pytest.raises(UnsupportedFeature) as e:
        be.compile(small_net().to_ir(), **options)
    assert "loihi_lif" in str(e.value) and "\n" not in str(e.value)


def test_nir_export_refuses_it_naming_the_model():
    from spikecore.io.nir import to_nir
    with pytest.raises(UnsupportedFeature, match="loihi_lif"):
        to_nir(small_net().to_ir())


def test_an_integer_population_takes_no_injected_current():
    from spikecore.network import CurrentSource
    net = small_net()
    net.add(CurrentSource("p", amplitude="1 nA", name="c"))
    with pytest.raises(UnsupportedFeature, match="current input 'c' into integer population 'p'"):
        net.run("5 ms", backend="native", format="loihi")
    with pytest.raises(UnsupportedFeature, match="current input 'c' into integer population 'p'"):
        reference_run(net.to_ir(), 5)


def test_ir_delays_stay_at_least_dt():
    g = random_net(0).to_ir()
    for e in g.projections.values():
        assert _ir.delay_steps(e.delay, g.dt).min() >= 1


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lava_fixed_point_gives_the_native_spikes_and_final_state(seed):
    """Lava's bit-accurate models (Loihi2SimCfg fixed_pt) through backends/lava.py: identical
    spikes and final u, v to the native Loihi mode, on random networks with delays 0 and 63
    and weights of both signs."""
    pytest.importorskip("lava")
    net = random_net(seed, n_steps=60)
    native = net.run("60 ms", backend="native", format="loihi")
    res = net.run("60 ms", backend="lava", format="fixed")
    assert sum(i.size for _, i in native.spikes.values()) > 20, "the network should spike"
    assert_same(spikes_of(native), spikes_of(res), {v: {k: s[v] for k, s in native.final_state.items()}
                                                     for v in ("u", "v")}, res.final_state)
    for var in ("u", "v"):     # Loihi's integers at the start of each step
        np.testing.assert_array_equal(res.traces["uv"]["variables"][var], native.traces["uv"]["variables"][var], err_msg=var)


def test_a_network_mixing_integer_and_float_models_is_refused_in_one_line():
    net = small_net()
    net.population("f", 1, "lif_delta", {"tau_mem": "10 ms", "v_leak": "0 mV", "v_threshold": "1 mV",
                                          "v_reset": "0 mV"})
    for backend, options in (("native", {"format": "loihi"}), ("lava", {"format": "fixed"})):
        with pytest.raises(UnsupportedFeature) as e:
            net.run("5 ms", backend=backend, **options)
        assert "model 'loihi_lif' (population p) together with model 'lif_delta' (population f)" in str(e.value)


def test_model_files_hold_loihi_integers_and_read_them_back(tmp_path):
    net = random_net(2)
    net.save(tmp_path / "net.yaml")
    text = (tmp_path / "net.yaml").read_text()
    assert "weight_exp:" in text and "num_weight_bits: 8" in text and "du: " in text
    back = Network.load(tmp_path / "net.yaml")
    a, b = net.to_ir(), back.to_ir()
    for name, e in a.projections.items():
        f = b.projections[name]
        np.testing.assert_array_equal(e.weight, f.weight)
        np.testing.assert_array_equal(e.delay, f.delay)
        assert e.attrs == f.attrs
    for name, p in a.populations.items():
        for key, value in p.params.items():
            np.testing.assert_array_equal(value, b.populations[name].params[key])
        for var in ("u", "v"):
            np.testing.assert_array_equal(p.initial[var], b.populations[name].initial[var])


EXAMPLE = "examples/loihi_lif.yaml"


def test_the_example_runs_in_the_native_loihi_mode_as_the_reference():
    net = Network.load(EXAMPLE)
    g = net.to_ir()
    n = _ir.duration_steps(net.duration, g.dt)
    ref = reference_run(g, n)
    res = net.run(backend="native", format="loihi")
    for pop in ("exc", "inh"):
        assert ref["spikes"][pop][0].size > 50
        np.testing.assert_array_equal(spikes_of(res)[pop][0], ref["spikes"][pop][0])
        np.testing.assert_array_equal(res.final_state[pop]["v"], ref["v"][pop])


@pytest.mark.slow
def test_the_example_runs_on_lava_fixed_point_as_natively():
    pytest.importorskip("lava")
    net = Network.load(EXAMPLE)
    native = net.run(backend="native", format="loihi")
    res = net.run(backend="lava", format="fixed")
    for pop in ("exc", "inh"):
        np.testing.assert_array_equal(spikes_of(res)[pop][0], spikes_of(native)[pop][0])
        np.testing.assert_array_equal(spikes_of(res)[pop][1], spikes_of(native)[pop][1])
        for var in ("u", "v"):
            np.testing.assert_array_equal(res.final_state[pop][var], native.final_state[pop][var])


def _cli(*args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "spikecore", *args], capture_output=True, text=True)


def test_the_cli_refuses_float_backends_in_one_line_and_lint_says_why(tmp_path):
    p = _cli("run", EXAMPLE, "--backend", "native", "--out", str(tmp_path / "r"), "--no-plot")
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "model 'loihi_lif' (population exc)" in p.stderr
    p = _cli("lint", EXAMPLE)
    assert p.returncode == 0, p.stderr
    assert "population exc: written in Loihi's integers" in p.stdout
    assert "Brian2, NEST, lava --format float and NIR refuse it" in p.stdout


def test_cli_runs_the_example_in_the_native_loihi_mode(tmp_path):
    p = _cli("run", EXAMPLE, "--backend", "native", "--format", "loihi", "--out", str(tmp_path / "r"), "--no-plot")
    assert p.returncode == 0, p.stderr


def test_deploy_describes_the_integer_network_as_written():
    pytest.importorskip("lava")
    from backends.lava import deploy
    doc = deploy(Network.load(EXAMPLE).to_ir(), target="lava-sim", format="fixed")
    groups = {tuple(p["name"] for p in gr["populations"]): gr for gr in doc["lif_groups"]}
    assert (groups[("exc",)]["du"], groups[("exc",)]["dv"], groups[("exc",)]["vth"]) == (818, 205, 100)
    assert doc["bit_usage"]["projections"]["exc_exc_slow"]["delay"]["max"] == 63
    assert doc["bit_usage"]["projections"]["exc_inh"]["delay"]["max"] == 0
    assert "clipped_or_truncated" not in doc
