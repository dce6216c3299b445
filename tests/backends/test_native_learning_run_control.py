"""Run control of the native engine's Loihi mode on plastic networks (backends/_native_learning.py
LearningSimulator): a run continued over several calls equals one run -- spikes, final u and v,
learnt weights, state-monitor traces and weight-monitor samples, bit for bit -- on the plastic
examples (spike sources, recurrent delayed projections, a modulator and a signal as third factor,
injected currents); u and v written between runs; store/restore; the progress bar's chunks. Lava
itself cannot continue a run (the Lava backend refuses it), so one run of the whole length is the
reference, and tests/backends/test_native_learning.py ties that to Lava."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from backends import _native_learning as nl
from backends import get_backend
from spikecore.errors import ValidationError
from spikecore.io import load_network

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OPTS = {"format": "loihi", "policy": "approximate"}
PARTS = (0.037, 0.1, 0.063)          # seconds; the examples run at dt = 1 ms


def monitored(name: str):
    net = load_network(EXAMPLES / f"{name}.yaml")
    pops = list(net.to_ir().populations)
    net.add(sc.StateMonitor(pops[0], ("v", "syn_exc"), interval="1 ms", name="vm"))
    net.add(sc.StateMonitor(pops[-1], ("v",), interval="3 ms", name="vs"))
    net.add(sc.WeightMonitor("plastic", synapses=[0, 1, 2], interval="20 ms", name="wm"))
    if name == "loihi_stdp_recurrent":
        net.add(sc.CurrentSource("E", steps=[("0 ms", "0 pA"), ("50 ms", "150 pA"), ("120 ms", "-100 pA")],
                                 neurons=[0, 1, 2, 3], name="step"))
    return net.to_ir()


def signal_ir():
    g = load_network(EXAMPLES / "loihi_three_factor.yaml").to_ir()
    p = dict(g.projections["plastic"].plasticity)
    del p["modulator"], p["tau_d"], p["d_increment"]
    p["signal"] = (np.array([0.0, 0.08]), np.array([0.0, 20.0]))
    g.projections["plastic"].plasticity = p
    return g


def run_parts(exe, parts=PARTS):
    return [exe.run(d) for d in parts]


def assert_parts_equal_whole(parts, whole):
    last = parts[-1]
    for pop, (t, i) in whole.spikes.items():
        np.testing.assert_array_equal(np.concatenate([p.spikes[pop][0] for p in parts]), t)
        np.testing.assert_array_equal(np.concatenate([p.spikes[pop][1] for p in parts]), i)
        for var, val in whole.final_state[pop].items():
            np.testing.assert_array_equal(last.final_state[pop][var], val)
    for proj, w in whole.weights.items():
        np.testing.assert_array_equal(last.weights[proj]["final"], w["final"])
        if "t" in w:
            np.testing.assert_allclose(np.concatenate([p.weights[proj]["t"] for p in parts]), w["t"])
            np.testing.assert_array_equal(np.concatenate([p.weights[proj]["w"] for p in parts]), w["w"])
    for m, tr in whole.traces.items():
        np.testing.assert_allclose(np.concatenate([p.traces[m]["times"] for p in parts]), tr["times"])
        for var, block in tr["variables"].items():
            np.testing.assert_array_equal(np.concatenate([p.traces[m]["variables"][var] for p in parts]), block)


@pytest.mark.parametrize("make", [lambda: monitored("loihi_stdp"), lambda: monitored("loihi_stdp_recurrent"),
                                  lambda: monitored("loihi_stdp_sparse"),
                                  lambda: load_network(EXAMPLES / "loihi_three_factor.yaml").to_ir(), signal_ir],
                         ids=["stdp", "recurrent", "sparse", "three_factor", "signal"])
def test_a_run_continued_over_several_calls_equals_one_run(make):
    g = make()
    whole = get_backend("native").compile(g, **OPTS).run(sum(PARTS))
    parts = run_parts(get_backend("native").compile(g, **OPTS))
    assert sum(t.size for t, _ in whole.spikes.values()) > 0
    assert_parts_equal_whole(parts, whole)
    assert parts[1].spikes[next(iter(whole.spikes))][0].min(initial=1) >= PARTS[0] - 1e-12


def test_the_progress_bars_chunks_change_nothing(monkeypatch, capsys):
    g = monitored("loihi_stdp_recurrent")
    whole = get_backend("native").compile(g, **OPTS).run(0.2)
    monkeypatch.setattr(nl.LearningSimulator, "CHUNK_STEPS", 7)
    exe = get_backend("native").compile(g, **OPTS)
    assert_parts_equal_whole([exe.run(0.2, progress=True)], whole)


def test_u_and_v_written_between_runs():
    g = load_network(EXAMPLES / "loihi_stdp_recurrent.yaml").to_ir()
    exe = get_backend("native").compile(g, **OPTS)
    plain = get_backend("native").compile(g, **OPTS)
    exe.run(0.1)
    plain.run(0.1)
    before = exe.state()["E"]["v"]
    assert np.array_equal(before, plain.state()["E"]["v"])
    exe.set("E", "v", 0)
    exe.set("I", "u", np.arange(g.populations["I"].size) * 100)
    assert (exe.state()["E"]["v"] == 0).all() and exe.state()["I"]["u"][1] == 100
    a, b = exe.run(0.1), plain.run(0.1)
    assert not np.array_equal(a.spikes["E"][0], b.spikes["E"][0])
    for bad, field in ((("X", "v", 0), "population"), (("E", "w", 0), "E.w"), (("E", "v", 0.5), "E.v"),
                       (("E", "v", [1, 2]), "E.v"), (("E", "v", 2 ** 24), "E.v")):
        with pytest.raises(ValidationError, match=field) as e:
            exe.set(*bad)
        assert "\n" not in str(e.value)


def test_store_and_restore_go_back_to_the_stored_step():
    g = monitored("loihi_stdp_recurrent")
    exe = get_backend("native").compile(g, **OPTS)
    exe.run(0.05)
    exe.set("E", "v", 0)
    exe.run(0.03)
    exe.store("mid")
    first = exe.run(0.1)
    exe.set("I", "v", 0)
    exe.run(0.02)
    exe.restore("mid")
    assert exe.step == 80
    again = exe.run(0.1)
    assert_parts_equal_whole([again], first)
    # and a fresh network with the same writes at the same steps gives the same
    other = get_backend("native").compile(g, **OPTS)
    other.run(0.05)
    other.set("E", "v", 0)
    other.run(0.03)
    assert_parts_equal_whole([other.run(0.1)], first)


def test_callbacks_every_20_ms_give_one_runs_result_and_read_the_learnt_weights():
    g = monitored("loihi_stdp")
    whole = get_backend("native").compile(g, **OPTS).run(0.2)
    exe = get_backend("native").compile(g, **OPTS)
    seen = []
    res = exe.run(0.2, every="20 ms", callback=lambda e: seen.append(e.weights("plastic").copy()))
    assert len(seen) == 10
    assert_parts_equal_whole([res], whole)
    np.testing.assert_array_equal(seen[-1], whole.weights["plastic"]["final"])
    assert not np.array_equal(seen[0], seen[-1])
