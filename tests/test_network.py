"""The description layer: validation, connectors, seeded realisation into the IR."""
import numpy as np
import pytest
import scipy.sparse as sp

import spikecore as sc
from spikecore.errors import UnitError, ValidationError
from spikecore.units import Hz, mV, ms, nS, pA

CUBA = dict(tau_mem=20 * ms, v_leak=-49 * mV, v_threshold=-50 * mV, v_reset=-60 * mV, t_refrac=5 * ms,
            tau_syn={"exc": 5 * ms, "inh": 10 * ms})
DELTA = dict(tau_mem=20 * ms, v_leak=0 * mV, v_threshold=20 * mV, v_reset=10 * mV)


def cuba_net(seed=1, n=200, p=0.1):
    net = sc.Network("t", seed=seed)
    net.add(sc.Population(n, "lif_cuba", CUBA, {"v": sc.Uniform(-60 * mV, -50 * mV)}, name="a"))
    net.add(sc.Projection("a", "a", sc.FixedProbability(p), weight=sc.Normal(1 * mV, 0.1 * mV),
                          delay=sc.Uniform(1 * ms, 3 * ms), receptor="exc", name="aa"))
    return net


def test_same_seed_same_ir_and_different_seed_differs():
    g1, g2, g3 = cuba_net(1).to_ir(), cuba_net(1).to_ir(), cuba_net(2).to_ir()
    e1, e2, e3 = g1.projections["aa"], g2.projections["aa"], g3.projections["aa"]
    assert np.array_equal(e1.i, e2.i) and np.array_equal(e1.j, e2.j)
    assert np.array_equal(e1.weight, e2.weight) and np.array_equal(e1.delay, e2.delay)
    assert np.array_equal(g1.populations["a"].initial["v"], g2.populations["a"].initial["v"])
    assert not (e1.i.size == e3.i.size and np.array_equal(e1.j, e3.j))


def test_streams_are_independent_of_other_elements():
    a = cuba_net(1)
    b = cuba_net(1)
    b.add(sc.Population(50, "lif_delta", DELTA, name="other"))
    assert np.array_equal(a.to_ir().projections["aa"].j, b.to_ir().projections["aa"].j)


def test_drawn_delays_rounded_to_grid_and_at_least_dt():
    e = cuba_net().to_ir().projections["aa"]
    steps = e.delay / 1e-4
    assert np.allclose(steps, np.rint(steps)) and e.delay.min() >= 1e-4 - 1e-15


@pytest.mark.parametrize("connector,expected", [
    (sc.AllToAll(), 20 * 20), (sc.AllToAll(allow_self=False), 20 * 19),
    (sc.OneToOne(), 20), (sc.FixedIndegree(5), 20 * 5), (sc.FixedIndegree(5, allow_self=False), 20 * 5)])
def test_connector_counts(connector, expected):
    net = sc.Network(seed=3)
    net.add(sc.Population(20, "lif_delta", DELTA, name="a"))
    net.add(sc.Projection("a", "a", connector, weight=0.1 * mV, name="p"))
    e = net.to_ir().projections["p"]
    assert e.n_synapses == expected
    if not getattr(connector, "allow_self", True):
        assert not np.any(e.i == e.j)
    if isinstance(connector, sc.FixedIndegree):
        assert np.all(np.bincount(e.j, minlength=20) == 5)
        assert all(len(set(e.i[e.j == k])) == 5 for k in range(20))


def test_fixed_probability_statistics_and_no_self():
    net = sc.Network(seed=4)
    net.add(sc.Population(400, "lif_delta", DELTA, name="a"))
    net.add(sc.Projection("a", "a", sc.FixedProbability(0.05, allow_self=False), weight=0.1 * mV, name="p"))
    e = net.to_ir().projections["p"]
    expected = 0.05 * 400 * 399
    assert abs(e.n_synapses - expected) < 5 * np.sqrt(expected)
    assert not np.any(e.i == e.j)
    assert len(set(zip(e.i.tolist(), e.j.tolist()))) == e.n_synapses  # no duplicates


def test_from_indices_and_sparse():
    net = sc.Network(seed=0)
    net.add(sc.Population(3, "lif_coba", dict(c_m="200 pF", g_l="10 nS", v_leak="-60 mV", v_threshold="-50 mV",
                                               v_reset="-60 mV", tau_syn={"e": "5 ms"}, e_rev={"e": "0 mV"}),
                          name="a"))
    m = sp.csr_matrix(np.array([[0, 2.0, 0], [0, 0, 3.0], [1.0, 0, 0]]))
    net.add(sc.Projection("a", "a", sc.FromSparse(m, unit="nS"), name="s"))
    net.add(sc.Projection("a", "a", sc.FromIndices(np.array([0, 1]), np.array([2, 2])), weight=[1 * nS, 2 * nS],
                          name="x"))
    g = net.to_ir()
    s = g.projections["s"]
    assert list(zip(s.i, s.j)) == [(0, 1), (1, 2), (2, 0)]
    assert np.allclose(s.weight, [2e-9, 3e-9, 1e-9])
    assert np.allclose(g.projections["x"].weight, [1e-9, 2e-9])


def test_current_weight_converted_through_r():
    net = sc.Network()
    net.add(sc.Population(2, "lif_cuba", {**CUBA, "r": "100 Mohm"}, name="a"))
    net.add(sc.Projection("a", "a", sc.OneToOne(), weight=10 * pA, receptor="exc", name="p"))
    assert net.to_ir().projections["p"].weight[0] == pytest.approx(1e-3)


# ---------------------------------------------------------------------------- bad input
def _pop(**kw):
    args = dict(size=10, model="lif_delta", params=DELTA, name="a")
    args.update(kw)
    return sc.Population(args.pop("size"), args.pop("model"), args.pop("params"), name=args.pop("name"), **args)


@pytest.mark.parametrize("size", [0, -5, 2.5, True])
def test_bad_sizes(size):
    with pytest.raises(ValidationError, match="size"):
        _pop(size=size)


def test_unknown_model_and_param():
    with pytest.raises(ValidationError, match="lif_cuba"):
        _pop(model="hodgkin")
    with pytest.raises(ValidationError, match="tau_mem"):
        _pop(params={**DELTA, "tau_membrane": 20 * ms})


@pytest.mark.parametrize("params,field", [
    ({**DELTA, "tau_mem": 20 * mV}, "tau_mem"),
    ({**DELTA, "tau_mem": 20}, "tau_mem"),
    ({**DELTA, "v_leak": float("nan") * mV}, "v_leak"),
    ({**DELTA, "tau_mem": -1 * ms}, "tau_mem"),
    ({**DELTA, "t_refrac": -1 * ms}, "t_refrac"),
    ({**DELTA, "v_reset": 30 * mV}, "v_reset"),
    ({k: v for k, v in DELTA.items() if k != "v_threshold"}, "v_threshold"),
])
def test_bad_parameters_name_the_field(params, field):
    with pytest.raises((ValidationError, UnitError)) as e:
        _pop(params=params)
    assert field in str(e.value)


def test_unknown_connector_and_bad_projection_fields():
    net = sc.Network()
    net.add(_pop())
    with pytest.raises(ValidationError, match="connector"):
        net.add(sc.Projection("a", "a", "all_to_all", weight=1 * mV))
    with pytest.raises(ValidationError, match="post"):
        net.add(sc.Projection("a", "nope", sc.OneToOne(), weight=1 * mV))
    with pytest.raises(ValidationError, match="receptor"):
        net.add(sc.Projection("a", "a", sc.OneToOne(), weight=1 * mV, receptor="exc"))
    with pytest.raises(ValidationError, match="synapse"):
        net.add(sc.Projection("a", "a", sc.OneToOne(), weight=1 * mV, synapse="conductance"))


@pytest.mark.parametrize("delay,match", [(0.05 * ms, "delays >= dt"), (0.15 * ms, "multiple of dt"),
                                         (0 * ms, "delays >= dt"), (-1 * ms, "delays >= dt")])
def test_bad_delays(delay, match):
    net = sc.Network(dt=0.1 * ms)
    net.add(_pop())
    net.add(sc.Projection("a", "a", sc.OneToOne(), weight=1 * mV, delay=delay, name="p"))
    with pytest.raises(ValidationError, match=match) as e:
        net.to_ir()
    assert "projections.p.delay" in str(e.value)


def test_weight_array_of_wrong_shape_and_wrong_unit():
    net = sc.Network()
    net.add(_pop())
    net.add(sc.Projection("a", "a", sc.OneToOne(), weight=np.ones(7) * mV, name="p"))
    with pytest.raises(ValidationError, match="length 10"):
        net.to_ir()
    net2 = sc.Network()
    net2.add(_pop())
    net2.add(sc.Projection("a", "a", sc.OneToOne(), weight=1 * nS, name="p"))
    with pytest.raises(ValidationError, match="weight"):
        net2.to_ir()


def test_conductance_weights_must_be_nonnegative():
    net = sc.Network()
    net.add(sc.Population(2, "lif_coba", dict(c_m="200 pF", g_l="10 nS", v_leak="-60 mV", v_threshold="-50 mV",
                                               v_reset="-60 mV", tau_syn={"i": "10 ms"}, e_rev={"i": "-80 mV"}),
                          name="a"))
    net.add(sc.Projection("a", "a", sc.OneToOne(), weight=-1 * nS, name="p"))
    with pytest.raises(ValidationError, match=">= 0"):
        net.to_ir()


def test_sources_validation():
    with pytest.raises(ValidationError, match="rate"):
        sc.PoissonSource(10, -5 * Hz, name="p")
    with pytest.raises(ValidationError, match="times"):
        sc.SpikeSource(spike_times=[[-1 * ms]], name="s")
    s = sc.SpikeSource(spike_times=[["1 ms", "3 ms"], [], ["2 ms"]], name="s")
    assert s.n == 3 and list(s.si_indices) == [0, 2, 0]
    with pytest.raises(ValidationError, match="steps"):
        sc.CurrentSource("a", steps=[("10 ms", "1 pA"), ("5 ms", "2 pA")], name="c")


def test_duplicate_names_and_monitors():
    net = sc.Network()
    net.add(_pop())
    with pytest.raises(ValidationError, match="name"):
        net.add(_pop())
    with pytest.raises(ValidationError, match="variables"):
        net.add(sc.StateMonitor("a", ("u",), name="m"))


def test_state_variables_per_model():
    assert list(_pop().state_variables()) == ["v"]
    cuba = sc.Population(2, "lif_cuba", CUBA, name="c")
    assert list(cuba.state_variables()) == ["v", "syn_exc", "syn_inh"]
