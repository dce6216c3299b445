"""Run control on a compiled network (docs/run_control.md): state, parameters and weights
set between runs, store/restore, run(every=, callback=), Result.final_state."""
import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.errors import UnsupportedFeature, ValidationError


def small_cuba(seed=3, n_exc=80, n_inh=20, drive=True):
    """A CUBA network with Poisson input and a step current: deterministic given the seed."""
    net = sc.Network("rc", seed=seed, dt="0.1 ms")
    params = {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
              "t_refrac": "5 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}
    init = {"v": sc.Uniform("-60 mV", "-50 mV")}
    net.population("exc", n_exc, "lif_cuba", params, init)
    net.population("inh", n_inh, "lif_cuba", params, init)
    for pre, w, r in (("exc", "1.62 mV", "exc"), ("inh", "-9 mV", "inh")):
        for post in ("exc", "inh"):
            net.project(pre, post, sc.FixedProbability(0.1), weight=w, delay="0.2 ms", receptor=r)
    if drive:
        net.add(sc.PoissonSource(20, "50 Hz", name="noise"))
        net.project("noise", "exc", sc.FixedProbability(0.2), weight="2 mV", delay="0.1 ms", receptor="exc")
    net.add(sc.SpikeMonitor("exc"), sc.SpikeMonitor("inh"))
    return net


def spikes_of(res):
    return {k: (np.asarray(t), np.asarray(i)) for k, (t, i) in res.spikes.items()}


def same_spikes(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k][0], b[k][0])
        np.testing.assert_array_equal(a[k][1], b[k][1])


def compile_(net, backend="native", **options):
    return get_backend(backend).compile(net.to_ir(), **options)


@pytest.mark.parametrize("options", [{}, {"precision": "float32"}, {"threads": 2}])
def test_store_restore_round_trip_is_bit_exact(options):
    if options.get("threads") == 2:
        from spikecore.engine._core import openmp_enabled
        if not openmp_enabled():
            pytest.skip("engine built without OpenMP")
    exe = compile_(small_cuba(), **options)
    exe.run(0.1)
    exe.store()
    first = exe.run(0.05)
    state_first = exe.state()
    exe.restore()
    assert exe.time == pytest.approx(0.1)
    again = exe.run(0.05)
    assert sum(t.size for t, _ in first.spikes.values()) > 0
    same_spikes(spikes_of(first), spikes_of(again))
    for pop, st in exe.state().items():
        for var, arr in st.items():
            np.testing.assert_array_equal(arr, state_first[pop][var])


def test_runs_in_pieces_continue_in_time_like_one_run():
    whole = compile_(small_cuba()).run(0.1)
    exe = compile_(small_cuba())
    parts = [exe.run(0.03), exe.run(0.07)]
    joined = sc.Result.joined(parts)
    same_spikes(spikes_of(whole), spikes_of(joined))
    assert joined.duration == pytest.approx(0.1)


def test_final_state_is_in_the_result_and_equals_the_state_after_the_run():
    exe = compile_(small_cuba())
    res = exe.run(0.02)
    assert set(res.final_state) == {"exc", "inh"}
    assert set(res.final_state["exc"]) == {"v", "syn_exc", "syn_inh"}
    np.testing.assert_array_equal(res.final_state["exc"]["v"], exe.get("exc", "v"))


def test_setting_v_between_runs_changes_what_follows():
    a, b = compile_(small_cuba(drive=False)), compile_(small_cuba(drive=False))
    a.run(0.01)
    b.run(0.01)
    b.set("exc", "v", -0.0495)          # just below threshold with v_leak above it: all fire soon
    ra, rb = a.run(0.01), b.run(0.01)
    assert rb.spikes["exc"][0].size > ra.spikes["exc"][0].size
    with pytest.raises(ValidationError, match="exc.w"):
        b.set("exc", "w", 0.0)
    with pytest.raises(ValidationError, match="values"):
        b.set("exc", "v", np.zeros(3))


def test_callback_every_interval_reads_and_sets_values():
    seen = []

    def silence(exe):
        seen.append(round(exe.time, 6))
        exe.set("exc", "v", -0.06)

    exe = compile_(small_cuba())
    res = exe.run(0.05, every="10 ms", callback=silence)
    assert seen == [0.01, 0.02, 0.03, 0.04, 0.05]
    assert res.duration == pytest.approx(0.05)
    # the same sets done by hand between runs give the same spikes
    ref = compile_(small_cuba())
    parts = []
    for _ in range(5):
        parts.append(ref.run(0.01))
        ref.set("exc", "v", -0.06)
    same_spikes(spikes_of(res), spikes_of(sc.Result.joined(parts)))


def test_parameters_and_weights_set_between_runs_continue_the_state():
    exe = compile_(small_cuba())
    exe.run(0.02)
    v_before = exe.get("exc", "v")
    exe.set_parameters("exc", v_threshold=-0.045)
    np.testing.assert_array_equal(exe.get("exc", "v"), v_before)
    name = next(iter(exe.ir.projections))
    exe.set_weights(name, 0.0)
    assert (exe.weights(name) == 0).all()
    assert exe.time == pytest.approx(0.02)
    exe.run(0.01)
    with pytest.raises(ValidationError, match="v_thresh"):
        exe.set_parameters("exc", v_thresh=-0.05)
    with pytest.raises(ValidationError, match="one per synapse"):
        exe.set_weights(name, np.zeros(3))


def test_raising_the_threshold_between_runs_silences_the_network():
    exe = compile_(small_cuba())
    exe.run(0.02)
    exe.set_parameters("exc", v_threshold=1.0)
    exe.set_parameters("inh", v_threshold=1.0)
    res = exe.run(0.02)
    assert res.spikes["exc"][0].size == 0


@pytest.mark.slow
def test_native_and_brian2_runtime_give_the_same_spikes_with_sets_between_runs():
    pytest.importorskip("brian2")
    net = small_cuba(drive=False)
    results = {}
    for backend in ("native", "brian2"):
        exe = compile_(net, backend)
        parts = [exe.run(0.02)]
        v = exe.get("exc", "v")
        exe.set("exc", "v", np.where(np.arange(v.size) % 3 == 0, -0.0499, v))
        exe.set("inh", "syn_exc", 0.002)     # a synaptic variable too
        parts.append(exe.run(0.02))
        exe.store()
        parts.append(exe.run(0.01))
        exe.restore()
        parts.append(exe.run(0.01))
        results[backend] = [spikes_of(p) for p in parts]
    assert sum(t.size for t, _ in results["native"][1].values()) > 0
    for a, b in zip(results["native"], results["brian2"]):
        same_spikes(a, b)
    same_spikes(results["native"][2], results["native"][3])


def test_precise_timing_refuses_store_and_set_naming_the_feature():
    exe = compile_(small_cuba(drive=False), timing="precise")
    exe.run(0.01)
    with pytest.raises(UnsupportedFeature, match="store/restore"):
        exe.store()
    with pytest.raises(UnsupportedFeature, match="setting state"):
        exe.set("exc", "v", -0.06)


def test_restore_of_an_unknown_snapshot_names_it():
    exe = compile_(small_cuba(drive=False))
    with pytest.raises(ValidationError, match="nothing"):
        exe.restore("nothing")


def test_loihi_mode_store_restore_is_bit_exact_and_final_state_holds_u_and_v():
    net = small_cuba()
    exe = get_backend("native").compile(net.to_ir(), format="loihi", policy="approximate")
    exe.run(0.02)
    exe.store()
    first = exe.run(0.02)
    exe.restore()
    again = exe.run(0.02)
    same_spikes(spikes_of(first), spikes_of(again))
    assert set(again.final_state["exc"]) == {"u", "v"}
    np.testing.assert_array_equal(again.final_state["exc"]["v"], first.final_state["exc"]["v"])
    with pytest.raises(UnsupportedFeature, match="format=loihi"):
        exe.set_parameters("exc", v_threshold=0.0)


def test_lava_refuses_run_control_naming_the_feature_and_the_alternative():
    pytest.importorskip("lava")
    exe = compile_(small_cuba(drive=False, n_exc=8, n_inh=2), "lava", policy="approximate")
    for call, feature in ((lambda: exe.store(), "store/restore"), (lambda: exe.state(), "reading state"),
                          (lambda: exe.set("exc", "v", 0.0), "setting state"),
                          (lambda: exe.set_weights(next(iter(exe.ir.projections)), 0.0), "changing weights")):
        with pytest.raises(UnsupportedFeature, match=feature) as err:
            call()
        assert "format=loihi" in str(err.value)
