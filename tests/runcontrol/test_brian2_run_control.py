"""Run control on the Brian2 runtime device (docs/run_control.md): parameters and weights
changed between runs give the native engine's spikes; what the compiled code holds is
refused naming it; standalone refuses."""
import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.errors import UnsupportedFeature, ValidationError

pytest.importorskip("brian2")


def two_groups():
    """exc and inh with different membrane constants (two Brian2 groups); twin shares inh's
    parameters and so its group; inh's outgoing weights differ per synapse, exc's are one constant."""
    net = sc.Network("rc_b2", seed=3, dt="0.1 ms")
    pe = {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
          "t_refrac": "5 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}
    pi = dict(pe, tau_mem="10 ms")
    init = {"v": sc.Uniform("-60 mV", "-50 mV")}
    net.population("exc", 80, "lif_cuba", pe, init)
    net.population("inh", 20, "lif_cuba", pi, init)
    net.population("twin", 5, "lif_cuba", pi, init)
    for pre, w, r in (("exc", "1.62 mV", "exc"), ("inh", sc.Uniform("-10 mV", "-8 mV"), "inh")):
        for post in ("exc", "inh"):
            net.project(pre, post, sc.FixedProbability(0.1), weight=w, delay="0.2 ms", receptor=r)
    net.add(sc.SpikeMonitor("exc"), sc.SpikeMonitor("inh"))
    return net


def spikes_of(res):
    return {k: (np.asarray(t), np.asarray(i)) for k, (t, i) in res.spikes.items()}


def scenario(backend):
    exe = get_backend(backend).compile(two_groups().to_ir())
    names = list(exe.ir.projections)        # exc->exc, exc->inh, inh->exc, inh->inh
    parts = [exe.run(0.02)]
    exe.set_parameters("exc", v_threshold=-0.051, **{"exc.tau_syn": 0.003})
    exe.set_weights(names[0], 0.002)                                  # a constant weight, new value
    w = exe.weights(names[2])
    exe.set_weights(names[2], w * np.linspace(0.5, 1.5, w.size))      # one per synapse, IR order
    parts.append(exe.run(0.02))
    exe.store()
    parts.append(exe.run(0.01))
    exe.set_parameters("exc", v_threshold=-0.040)
    exe.set_weights(names[0], 0.0)
    parts.append(exe.run(0.01))
    exe.restore()                          # parameters and weights as they were at store
    parts.append(exe.run(0.01))
    return exe, [spikes_of(p) for p in parts]


@pytest.mark.slow
def test_parameters_and_weights_set_between_runs_give_native_spikes():
    native, expected = scenario("native")
    exe, got = scenario("brian2")
    assert [sum(t.size for t, _ in p.values()) for p in expected][1:3] != [0, 0]
    for a, b in zip(expected, got):
        assert a.keys() == b.keys()
        for k in a:
            np.testing.assert_array_equal(a[k][0], b[k][0])
            np.testing.assert_array_equal(a[k][1], b[k][1])
    for k in expected[2]:                      # restore went back to the stored parameters
        np.testing.assert_array_equal(expected[2][k][0], expected[4][k][0])
    names = list(exe.ir.projections)
    np.testing.assert_array_equal(exe.weights(names[2]), native.weights(names[2]))


def test_bad_changes_are_refused_naming_them():
    """What stays refused (the rest is rebuilt: tests/runcontrol/test_brian2_rebuild.py)."""
    exe = get_backend("brian2").compile(two_groups().to_ir())
    names = list(exe.ir.projections)
    with pytest.raises(ValidationError, match="v_thresh"):
        exe.set_parameters("exc", v_thresh=-0.05)
    with pytest.raises(ValidationError, match="one per synapse"):
        exe.set_weights(names[0], np.zeros(3))
    with pytest.raises(UnsupportedFeature, match=r"inh\.t_refrac would give inh, twin different equations"):
        exe.set_parameters("inh", t_refrac=0.0)
    exe.set_parameters("twin", tau_mem=0.01)       # unchanged values are no change
    assert exe.ir.populations["exc"].params["t_refrac"] == pytest.approx(0.005)


def test_standalone_still_refuses_parameters_and_weights():
    exe = get_backend("brian2").compile(two_groups().to_ir(), device="cpp_standalone")
    with pytest.raises(UnsupportedFeature, match="changing parameters"):
        exe.set_parameters("exc", v_threshold=-0.045)
    with pytest.raises(UnsupportedFeature, match="changing weights"):
        exe.set_weights(next(iter(exe.ir.projections)), 0.0)
