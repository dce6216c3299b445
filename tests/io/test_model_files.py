"""Model files: YAML/JSON round trips (exact), examples, missing and malformed files."""
import json

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spikecore as sc
from spikecore.errors import ModelFileError
from spikecore.io import load_network, network_from_dict, network_to_dict, save_network

times = st.floats(min_value=1e-4, max_value=1.0, allow_nan=False)
volts = st.floats(min_value=-0.1, max_value=0.1, allow_nan=False)


@st.composite
def networks(draw):
    net = sc.Network(draw(st.sampled_from(["a", "net_1"])), seed=draw(st.integers(0, 2**31)),
                     dt=draw(st.sampled_from(["0.1 ms", "0.05 ms", "1 ms"])),
                     duration=sc.units.Quantity(draw(times), sc.units.TIME))
    v_th = draw(volts)
    v_reset = v_th - draw(st.floats(min_value=1e-4, max_value=0.05))
    model = draw(st.sampled_from(["lif_delta", "lif_cuba", "lif_coba"]))
    common = dict(v_leak=sc.units.Quantity(draw(volts), sc.units.VOLTAGE),
                  v_threshold=sc.units.Quantity(v_th, sc.units.VOLTAGE),
                  v_reset=sc.units.Quantity(v_reset, sc.units.VOLTAGE),
                  t_refrac=sc.units.Quantity(draw(st.floats(0, 0.01)), sc.units.TIME))
    if model == "lif_delta":
        params = dict(common, tau_mem=sc.units.Quantity(draw(times), sc.units.TIME))
        receptor = None
    elif model == "lif_cuba":
        params = dict(common, tau_mem=sc.units.Quantity(draw(times), sc.units.TIME),
                      tau_syn={"e": sc.units.Quantity(draw(times), sc.units.TIME), "i": "10 ms"})
        receptor = "e"
    else:
        params = dict(common, c_m="200 pF", g_l=sc.units.Quantity(draw(st.floats(1e-9, 1e-7)), sc.units.CONDUCTANCE),
                      tau_syn={"e": "5 ms"}, e_rev={"e": sc.units.Quantity(draw(volts), sc.units.VOLTAGE)})
        receptor = "e"
    n = draw(st.integers(1, 30))
    initial = {"v": draw(st.sampled_from([sc.Uniform("-60 mV", "-50 mV"), sc.Normal("-55 mV", "2 mV", low="-70 mV"),
                                          "-55 mV"]))}
    net.add(sc.Population(n, model, params, initial, name="pop"))
    net.add(sc.SpikeSource(spike_times=[[sc.units.Quantity(t, sc.units.TIME) for t in draw(st.lists(times, max_size=4))]
                                        for _ in range(draw(st.integers(1, 4)))], name="src"))
    net.add(sc.PoissonSource(draw(st.integers(1, 5)), sc.units.Quantity(draw(st.floats(0, 100)), sc.units.FREQUENCY),
                             stop=draw(st.sampled_from([None, "50 ms"])), name="noise"))
    conn = draw(st.sampled_from([sc.AllToAll(allow_self=False), sc.OneToOne(), sc.FixedProbability(0.3),
                                 sc.FixedIndegree(1), sc.FixedTotalNumber(7)]))
    wdim = sc.units.CONDUCTANCE if model == "lif_coba" else sc.units.VOLTAGE
    w = sc.units.Quantity(draw(st.floats(0, 1e-8 if model == "lif_coba" else 1e-3)), wdim)
    net.add(sc.Projection("pop", "pop", conn, weight=w, delay=draw(st.sampled_from(["1 ms", "2 ms", None])),
                          receptor=receptor, name="rec"))
    k = draw(st.integers(0, 3))
    net.add(sc.Projection("src", "pop", sc.FromIndices(np.zeros(k, dtype=np.int64), np.arange(k) % n),
                          weight=sc.units.Quantity(np.full(k, w.value), wdim), receptor=receptor, name="inp"))
    net.add(sc.CurrentSource("pop", steps=[("0 ms", "0 pA"), ("5 ms", sc.units.Quantity(draw(st.floats(-1e-9, 1e-9)),
                                                                                       sc.units.CURRENT))],
                             neurons=[0], name="cur"))
    net.add(sc.SpikeMonitor("pop", name="spk"))
    net.add(sc.StateMonitor("pop", ("v",), neurons=[0], interval=draw(st.sampled_from([None, "1 ms"])), name="vm"))
    return net


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(networks(), st.sampled_from([".yaml", ".json"]))
def test_save_load_round_trip_is_exact(tmp_path_factory, net, suffix):
    path = tmp_path_factory.mktemp("rt") / f"model{suffix}"
    net.save(path)
    back = sc.Network.load(path)
    assert back == net
    g1, g2 = net.to_ir(), back.to_ir()
    for name, e in g1.projections.items():
        f = g2.projections[name]
        assert np.array_equal(e.i, f.i) and np.array_equal(e.j, f.j)
        assert np.array_equal(e.weight, f.weight) and np.array_equal(e.delay, f.delay)
    for name, p in g1.populations.items():
        assert p.params == g2.populations[name].params
        assert all(np.array_equal(p.initial[k], g2.populations[name].initial[k]) for k in p.initial)


def test_sparse_connector_round_trip(tmp_path):
    net = sc.Network()
    net.add(sc.Population(3, "lif_delta", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV",
                                               v_reset="10 mV"), name="a"))
    net.add(sc.Projection("a", "a", sc.FromSparse(sp.csr_matrix(np.eye(3) * 0.5), unit="mV"), name="s"))
    net.save(tmp_path / "m.yaml")
    assert sc.Network.load(tmp_path / "m.yaml") == net


@pytest.mark.parametrize("name", ["cuba.yaml", "coba.yaml", "brunel.yaml"])
def test_examples_load_and_round_trip(examples_dir, tmp_path, name):
    net = load_network(examples_dir / name)
    assert network_from_dict(json.loads(json.dumps(network_to_dict(net)))) == net
    save_network(net, tmp_path / "x.json")
    assert load_network(tmp_path / "x.json") == net


@pytest.mark.parametrize("text,match", [
    ("populations: [1, 2", "malformed YAML"),
    ("", "empty model file"),
    ("populations:\n  a: {size: 10}\n", "populations.a.model"),
    ("populations:\n  a: {size: -1, model: lif_delta, params: {}}\n", "size"),
    ("populations:\n  a: {size: 10, model: lif_foo}\n", "model"),
    ("popul4tions: {}\n", "popul4tions"),
    ("populations:\n  a: {size: 2, model: lif_delta, params: {tau_mem: 20 mV, v_leak: 0 mV, "
     "v_threshold: 1 mV, v_reset: 0 mV}}\n", "tau_mem"),
    ("populations:\n  a: {size: 2, model: lif_delta, params: {tau_mem: 20 ms, v_leak: 0 mV, v_threshold: 1 mV, "
     "v_reset: 0 mV}}\nprojections:\n  p: {pre: a, post: a, connector: {type: pairwise}, weight: 1 mV}\n",
     "connector.type"),
])
def test_malformed_model_files(tmp_path, text, match):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ModelFileError, match=match) as e:
        load_network(path)
    assert "bad.yaml" in str(e.value)


def test_missing_and_unknown_files(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_network(tmp_path / "nope.yaml")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(ModelFileError, match="unknown model format"):
        load_network(tmp_path / "m.txt")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ModelFileError, match="malformed JSON"):
        load_network(tmp_path / "bad.json")
