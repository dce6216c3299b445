"""Tests of backends/brian2.py beyond the conformance suite (tests/conformance):
options and refusals, Brian2's global state, result files, continued runs,
Poisson draw statistics, the cache folder and the command line.

Fast tests use Brian2's numpy target (no C compilation); the Cython target and
the cpp_standalone device compile C/C++ on first use (minutes on a cold cache)
and are marked slow.
"""
from __future__ import annotations

import copy
import json
import os
import sys

import numpy as np
import pytest

pytest.importorskip("brian2")

import brian2  # noqa: E402

from backends import get_backend  # noqa: E402
from spikecore import ir as _ir  # noqa: E402
from spikecore import units as u  # noqa: E402
from spikecore.cli import main as cli_main  # noqa: E402
from spikecore.errors import UnsupportedFeature, ValidationError  # noqa: E402
from spikecore.network import (CurrentSource, FixedProbability, FromIndices, Network, OneToOne,  # noqa: E402
                               PoissonSource, SpikeSource, StateMonitor, Uniform)
from spikecore.result import SPIKES_FILE, SUMMARY_FILE, TRACES_FILE, Result  # noqa: E402

FAST = {"target": "numpy"}
DELTA = {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV", "v_reset": "10 mV", "t_refrac": "2 ms"}
CUBA = {"tau_mem": "20 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV", "t_refrac": "5 ms",
        "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}


@pytest.fixture(scope="module")
def backend():
    return get_backend("brian2")


def small_network(seed=2) -> Network:
    """Every input kind: spike times, bounded (replayed) and unbounded (drawn) Poisson, currents."""
    net = Network("small", seed=seed, dt="0.1 ms")
    net.population("exc", 30, "lif_cuba", CUBA, {"v": Uniform("-60 mV", "-50 mV")})
    net.population("d", 10, "lif_delta", DELTA)
    net.add(SpikeSource(spike_times=[["1 ms", "1 ms", "7 ms"], ["2 ms"]], name="stim"))
    net.add(PoissonSource(10, "5 kHz", name="drive"))
    net.add(PoissonSource(30, "200 Hz", stop="30 ms", name="kick"))
    net.project("stim", "d", FromIndices([0, 1], [0, 1]), weight="25 mV", delay="0.5 ms")
    net.project("drive", "d", OneToOne(), weight="0.4 mV", delay="0.2 ms", name="drive_d")
    net.project("kick", "exc", OneToOne(), weight="3 mV", delay="0.1 ms", receptor="exc", name="kick_e")
    net.project("exc", "exc", FixedProbability(0.2), weight="1.6 mV", delay="0.3 ms", receptor="exc", name="ee")
    net.project("d", "exc", FixedProbability(0.5), weight="-4 mV", delay="1 ms", receptor="inh", name="de")
    net.add(CurrentSource("exc", steps=[("0 ms", "0 pA"), ("12.05 ms", "50 pA")], neurons=[0, 1, 2], name="cur"))
    net.add(StateMonitor("exc", ["v", "syn_exc"], neurons=[0, 3], interval="0.3 ms", name="vm"))
    return net


# ----------------------------------------------------------------------------- options and refusals
def test_registered_under_its_name(backend):
    assert backend.name == "brian2" and get_backend("brian2") is backend


@pytest.mark.parametrize("options, field", [
    ({"devise": "runtime"}, "option 'devise'"),
    ({"device": "gpu"}, "option 'device'"),
    ({"poisson": "bernoulli"}, "option 'poisson'"),
    ({"target": "numpy", "device": "cpp_standalone"}, "option 'target'"),
])
def test_bad_options_are_named(backend, options, field):
    g = small_network().to_ir()
    with pytest.raises(ValidationError) as e:
        backend.compile(g, **options)
    assert e.value.field == field


def _unsupported(backend, g, **options):
    with pytest.raises(UnsupportedFeature) as e:
        backend.compile(g, **options)
    assert e.value.backend == "brian2"
    return e.value.feature


def test_refuses_what_it_cannot_express(backend):
    g = small_network().to_ir()
    bad = copy.deepcopy(g)
    bad.populations["d"].model = "if_cuba"
    assert "if_cuba" in _unsupported(backend, bad, **FAST)
    bad = copy.deepcopy(g)
    bad.version = _ir.IR_VERSION + 1
    assert "IR version" in _unsupported(backend, bad, **FAST)
    bad = copy.deepcopy(g)
    bad.projections["ee"].synapse = "conductance"
    assert "conductance synapses onto lif_cuba" in _unsupported(backend, bad, **FAST)
    bad = copy.deepcopy(g)
    bad.state_monitors["vm"].variables = ("w",)
    assert "recording 'w'" in _unsupported(backend, bad, **FAST)
    bad = copy.deepcopy(g)
    bad.populations["exc"].initial["u"] = np.zeros(30)
    assert "initial value of 'u'" in _unsupported(backend, bad, **FAST)


def test_draw_mode_needs_one_synapse_per_poisson_neuron(backend):
    net = small_network()
    net.project("drive", "exc", FixedProbability(0.5), weight="1 mV", receptor="exc", name="drive_e")
    g = net.to_ir()
    assert "poisson=draw for source drive" in _unsupported(backend, g, poisson="draw", **FAST)
    # auto falls back to replaying the native engine's trains
    exe = backend.compile(g, **FAST)
    assert exe.plan.poisson_modes == {"drive": "replay", "kick": "replay"}


def test_delays_must_be_at_least_one_step(backend):
    g = small_network().to_ir()
    g.projections["ee"].delay = np.zeros_like(g.projections["ee"].delay)
    with pytest.raises(ValidationError) as e:
        backend.compile(g, **FAST)
    assert e.value.field == "projections.ee.delay"


# ----------------------------------------------------------------------------- global state
def test_brian2_global_state_is_left_as_found(backend, tmp_path):
    device_before = brian2.get_device()
    prefs_before = {k: brian2.prefs[k] for k in ("codegen.target", "codegen.runtime.cython.cache_dir")}
    np.random.seed(123)
    rng_before = np.random.get_state()
    hook_before = sys.excepthook
    net = Network("state", seed=1, dt="0.1 ms")
    net.population("d", 10, "lif_delta", DELTA)
    net.add(PoissonSource(10, "5 kHz", name="drive"))
    net.project("drive", "d", OneToOne(), weight="1 mV", delay="0.2 ms")
    res = backend.compile(net.to_ir(), cache_dir=str(tmp_path), **FAST).run(0.01)
    assert res.extra["brian2"]["poisson_sources"] == {"drive": "draw"} and res.spikes["d"][0].size
    assert brian2.get_device() is device_before
    assert {k: brian2.prefs[k] for k in prefs_before} == prefs_before
    after = np.random.get_state()
    assert after[0] == rng_before[0] and np.array_equal(after[1], rng_before[1]) and after[2:] == rng_before[2:]
    assert sys.excepthook is hook_before
    # the sympy solutions went to the cache folder given, nothing else did
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stateupdaters"]


def test_same_seed_same_draws_across_executables(backend):
    g = small_network().to_ir()
    a = backend.compile(g, **FAST).run(0.03)
    np.random.seed(5)   # the user's numpy stream must not matter
    b = backend.compile(g, **FAST).run(0.03)
    for pop in a.spikes:
        assert np.array_equal(a.spikes[pop][0], b.spikes[pop][0])
        assert np.array_equal(a.spikes[pop][1], b.spikes[pop][1])
    assert a.spikes["d"][0].size > 0


# ----------------------------------------------------------------------------- results
def test_result_files_have_the_native_layout(backend, tmp_path):
    g = small_network().to_ir()
    native = get_backend("native").compile(g).run(0.02).save(tmp_path / "native")
    ours = backend.compile(g, **FAST).run(0.02).save(tmp_path / "brian2")
    for f in (SPIKES_FILE, TRACES_FILE):
        assert sorted(np.load(native / f).files) == sorted(np.load(ours / f).files)
    s_native = json.loads((native / SUMMARY_FILE).read_text())
    s_ours = json.loads((ours / SUMMARY_FILE).read_text())
    # each backend adds its own key (the native grid engine: the threads it ran, and why)
    assert set(s_ours) - set(s_native) == {"brian2"} and set(s_native) - {"native"} <= set(s_ours)
    assert s_ours["backend"] == "brian2" and s_ours["populations"].keys() == s_native["populations"].keys()
    back = Result.load(ours)
    assert back.backend == "brian2" and back.traces["vm"]["variables"]["v"].shape == (67, 2)
    assert back.extra["brian2"]["device"] == "runtime"


def test_consecutive_runs_continue_the_simulation(backend):
    """Two runs of 12 + 18 ms give what one run of 30 ms gives: state, queued spikes,
    currents, replayed and drawn Poisson input all carry over."""
    g = small_network().to_ir()
    whole = backend.compile(g, **FAST).run(0.03)
    exe = backend.compile(g, **FAST)
    first, second = exe.run(0.012), exe.run(0.018)
    assert second.duration == pytest.approx(0.018)
    for pop in whole.spikes:
        t = np.concatenate([first.spikes[pop][0], second.spikes[pop][0]])
        i = np.concatenate([first.spikes[pop][1], second.spikes[pop][1]])
        assert np.array_equal(t, whole.spikes[pop][0]) and np.array_equal(i, whole.spikes[pop][1])
    for var in ("v", "syn_exc"):
        joined = np.concatenate([first.traces["vm"]["variables"][var], second.traces["vm"]["variables"][var]])
        assert np.array_equal(joined, whole.traces["vm"]["variables"][var])
    assert np.array_equal(np.concatenate([first.traces["vm"]["times"], second.traces["vm"]["times"]]),
                          whole.traces["vm"]["times"])


# ----------------------------------------------------------------------------- Poisson
def test_drawn_poisson_counts_are_poisson(backend):
    """poisson=draw: per-step counts have mean = variance = rate*dt (several spikes per step allowed),
    start in the step the delay says, stop with the source; grouped inputs add their rates."""
    net = Network("draw", seed=4, dt="0.1 ms")
    flat = {"tau_mem": "1e4 s", "v_leak": "0 mV", "v_threshold": "10 V", "v_reset": "0 mV", "t_refrac": "0 ms"}
    net.population("p", 200, "lif_delta", flat)
    net.population("q", 2, "lif_delta", flat)
    net.add(PoissonSource(200, "20 kHz", start="2 ms", stop="12 ms", name="src"))
    net.project("src", "p", OneToOne(), weight="1 mV", delay="0.3 ms")
    # 6 neurons at 1 kHz: three 1 mV inputs onto q0; two 1 mV and one 2 mV input onto q1
    net.add(PoissonSource(6, "1 kHz", name="few"))
    net.project("few", "q", FromIndices(np.arange(6), [0, 0, 0, 1, 1, 1]),
                weight=u.Quantity(np.array([1, 1, 1, 1, 1, 2]) * 1e-3, u.VOLTAGE), delay="0.1 ms")
    net.add(StateMonitor("p", ["v"], name="vp"), StateMonitor("q", ["v"], name="vq"))
    res = backend.compile(net.to_ir(), poisson="draw", **FAST).run(0.2)
    counts = np.rint(np.diff(res.traces["vp"]["variables"]["v"], axis=0) / 1e-3)
    # emitted in steps [20, 120), applied 3 steps later, seen one step after that
    active = counts[23:123]
    assert not counts[:23].any() and not counts[123:].any()
    assert active.mean() == pytest.approx(2.0, abs=0.05)
    assert active.var() == pytest.approx(2.0, abs=0.1)
    assert active.max() >= 6          # Bernoulli (PoissonGroup) would cap at 1
    dq = np.diff(res.traces["vq"]["variables"]["v"], axis=0)[2:] / 1e-3
    assert dq[:, 0].mean() == pytest.approx(0.3, abs=0.03) and dq[:, 0].var() == pytest.approx(0.3, abs=0.05)
    assert dq[:, 1].mean() == pytest.approx(0.4, abs=0.04) and dq[:, 1].var() == pytest.approx(0.6, abs=0.1)


def test_replay_gives_the_native_trains(backend):
    """poisson=replay feeds Brian2 the IR's own counts: identical spikes to the native engine."""
    net = small_network()
    g = net.to_ir()
    native = get_backend("native").compile(g).run(0.04)
    ours = backend.compile(g, poisson="replay", **FAST).run(0.04)
    assert ours.extra["brian2"]["poisson_sources"] == {"drive": "replay", "kick": "replay"}
    for pop in native.spikes:
        assert np.array_equal(native.spikes[pop][0], ours.spikes[pop][0]), pop
        assert np.array_equal(native.spikes[pop][1], ours.spikes[pop][1]), pop


# ----------------------------------------------------------------------------- command line
MODEL_YAML = """spikecore: 1
name: tiny
seed: 1
dt: 0.1 ms
duration: 20 ms
populations:
  a: {size: 5, model: lif_delta, params: {tau_mem: 20 ms, v_leak: 0 mV, v_threshold: 20 mV, v_reset: 10 mV}}
sources:
  s: {type: spike_times, spike_times: [[1 ms, 2 ms]]}
projections:
  sa: {pre: s, post: a, connector: {type: all_to_all}, weight: 15 mV, delay: 0.5 ms}
"""


def test_cli_run_on_brian2(tmp_path, capsys):
    model = tmp_path / "tiny.yaml"
    model.write_text(MODEL_YAML)
    out = tmp_path / "out"
    rc = cli_main(["run", str(model), "--backend", "brian2", "-O", "target=numpy", "--out", str(out), "--no-plot"])
    assert rc == 0
    summary = json.loads((out / SUMMARY_FILE).read_text())
    assert summary["backend"] == "brian2" and summary["populations"]["a"]["spikes"] == 5
    assert "backend brian2" in capsys.readouterr().out


def test_cli_run_rejects_unknown_device(tmp_path, capsys):
    model = tmp_path / "tiny.yaml"
    model.write_text(MODEL_YAML)
    rc = cli_main(["run", str(model), "--backend", "brian2", "--device", "gpu", "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "option 'device'" in capsys.readouterr().err


@pytest.mark.slow
def test_compiled_devices_build_in_the_cache_folder(tmp_path, monkeypatch, capsys):
    """The Cython target and cpp_standalone (via the CLI's --device) build under $SPIKECORE_CACHE,
    not in the working directory, and agree with the numpy target; a standalone executable runs once."""
    monkeypatch.setenv("SPIKECORE_CACHE", str(tmp_path / "cache"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    model = tmp_path / "tiny.yaml"
    model.write_text(MODEL_YAML)
    be = get_backend("brian2")
    g = small_network().to_ir()
    ref = be.compile(g, **FAST).run(0.02)
    cython = be.compile(g).run(0.02)
    exe = be.compile(g, device="cpp_standalone")
    standalone = exe.run(0.02)
    for res in (cython, standalone):
        for pop in ref.spikes:
            assert np.array_equal(res.spikes[pop][1], ref.spikes[pop][1])
            assert np.array_equal(res.spikes[pop][0], ref.spikes[pop][0])
    with pytest.raises(UnsupportedFeature):
        exe.run(0.01)
    assert any((tmp_path / "cache" / "brian2" / "cython").iterdir())
    assert any((tmp_path / "cache" / "brian2" / "standalone").iterdir())
    rc = cli_main(["run", str(model), "--backend", "brian2", "--device", "cpp_standalone", "--out",
                   str(tmp_path / "out"), "--no-plot"])
    assert rc == 0
    assert json.loads((tmp_path / "out" / SUMMARY_FILE).read_text())["brian2"]["device"] == "cpp_standalone"
    assert os.listdir(work) == []


def test_ctrl_c_inside_a_brian2_run_interrupts_it_instead_of_returning_a_partial_result(backend):
    """Brian2's own SIGINT handler stops a run early and returns as if it were complete.

    The command line imports Brian2 inside the command, so Brian2's handler wraps spikecore's:
    that order is set up here by hand, as importing Brian2 does (brian2/__init__.py)."""
    import signal
    from spikecore.interrupts import Interrupted, handle_interrupts
    exe = backend.compile(small_network().to_ir(), **FAST)

    @brian2.network_operation(dt=1 * brian2.ms)
    def ctrl_c(t):
        if t > 5 * brian2.ms:
            os.kill(os.getpid(), signal.SIGINT)
    exe.built.network.add(ctrl_c)
    with pytest.raises(Interrupted):
        with handle_interrupts():
            signal.signal(signal.SIGINT, brian2._InterruptHandler(signal.getsignal(signal.SIGINT)))
            exe.run(0.05)
