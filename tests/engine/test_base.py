"""What the engine's simulators share (spikecore.engine.base): the duration check, the run
loop's change points and spike buffer, RawRun, and Result.from_run."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from backends import get_backend
from spikecore.engine import GridSimulator
from spikecore.engine.base import SpikeBuffer
from spikecore.engine.layout import NetLayout
from spikecore.engine.loihi import LoihiSimulator
from spikecore.engine.precise import PreciseSimulator
from spikecore.errors import BackendUnavailable, ValidationError
from spikecore.result import RawRun
from spikecore.units import mV, ms, nA

ROOT = Path(__file__).resolve().parents[2]


def tiny(model="lif_delta"):
    """A source driving population a, which drives b."""
    net = sc.Network("tiny", seed=1, dt="0.1 ms")
    params = dict(tau_mem="10 ms", v_leak="0 mV", v_threshold="10 mV", v_reset="0 mV", r="10 Mohm")
    if model == "lif_cuba":
        params["tau_syn"] = {"exc": "5 ms", "inh": "8 ms"}
    w = {"weight": 20 * mV} if model == "lif_delta" else {"weight": 30 * mV, "receptor": "exc"}
    net.add(sc.Population(3, model, params, name="a"), sc.Population(2, model, params, name="b"))
    net.add(sc.SpikeSource(spike_times=[["1 ms", "3 ms"], ["2 ms"]], name="s"))
    net.add(sc.Projection("s", "a", sc.AllToAll(), delay=1 * ms, name="sa", **w))
    net.add(sc.Projection("a", "b", sc.AllToAll(), delay=1 * ms, name="ab", **w))
    return net


@pytest.mark.parametrize("duration", [0.04e-3, 0.05e-3, 0.0, -1.0, float("nan"), float("inf"), "1 s"])
@pytest.mark.parametrize("make", [lambda g: GridSimulator(g), lambda g: PreciseSimulator(g)],
                         ids=["grid", "precise"])
def test_duration_of_no_step_is_refused_naming_duration(make, duration):
    sim = make(tiny().to_ir(timing="precise"))
    with pytest.raises(ValidationError) as e:
        sim.run(duration)
    assert e.value.field == "duration"


def test_duration_of_half_a_step_is_refused_on_every_backend():
    net = tiny()
    for backend, options in (("native", {}), ("native", {"timing": "precise"}), ("native", {"format": "loihi", "policy": "approximate"})):
        with pytest.raises(ValidationError, match="half a step") as e:
            net.run(0.04 * ms, backend=backend, **options)
        assert e.value.field == "duration"
    for backend in ("brian2", "lava", "nest"):     # the same check, where installed
        try:
            exe = get_backend(backend).compile(net.to_ir())
        except BackendUnavailable:
            continue
        with pytest.raises(ValidationError, match="half a step"):
            exe.run(0.04e-3)
    # just over half a step runs one step
    assert net.run(0.06 * ms).duration == pytest.approx(1e-4)


def test_loihi_simulator_refuses_a_duration_of_no_step():
    from hwmodels import loihi
    sim = LoihiSimulator(loihi.quantize(tiny().to_ir(), policy="approximate"))
    with pytest.raises(ValidationError, match="half a step"):
        sim.run(0.04e-3)
    assert sim.run(0.06e-3).n_steps == 1


def test_cli_refuses_a_duration_of_no_step_in_one_line(tmp_path):
    p = subprocess.run([sys.executable, "-m", "spikecore", "run", "examples/cuba.yaml", "--duration", "0.05ms",
                        "--out", tmp_path], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 2
    assert "duration" in p.stderr and "half a step" in p.stderr
    assert "Traceback" not in p.stderr and "ZeroDivision" not in p.stderr


def test_spike_buffer_grows_and_keeps_its_spikes():
    buf = SpikeBuffer(2, offsets=True)
    buf.extend(np.array([1, 2]), np.array([5, 6]), np.array([0.1, 0.2]))
    buf.grow()
    assert buf.capacity == 4 and list(buf.steps) == [1, 2] and list(buf.indices) == [5, 6]
    buf.extend(np.arange(5), np.arange(5), np.zeros(5))          # past the capacity: grows to fit
    assert buf.n == 7 and buf.capacity >= 7 and list(buf.steps) == [1, 2, 0, 1, 2, 3, 4]
    assert list(buf.offsets[:2]) == [0.1, 0.2]
    buf.clear()
    assert buf.n == 0 and buf.steps.size == 0


def test_grid_spike_buffer_grows_inside_a_run():
    """A run whose spikes overflow the first buffer gives the same spikes as one that does not."""
    net = sc.Network("busy", seed=2, dt="0.1 ms")
    net.add(sc.Population(50, "lif_delta", dict(tau_mem="10 ms", v_leak="20 mV", v_threshold="10 mV",
                                                v_reset="0 mV"), name="n"))
    g = net.to_ir()
    small, big = GridSimulator(g), GridSimulator(g)
    least = small.arrays["window"] * small.n_neurons       # one window's worth: grows often
    buffers = []
    small._new_spike_buffer = lambda: buffers.append(SpikeBuffer(least)) or buffers[-1]
    a, b = small.run(0.2), big.run(0.2)
    assert buffers[0].capacity > least and a.spike_steps["n"].size > 1000
    assert np.array_equal(a.spike_steps["n"], b.spike_steps["n"])
    assert np.array_equal(a.spike_indices["n"], b.spike_indices["n"])


def test_runs_are_cut_at_current_changes():
    """The run loop's chunks end where an injected current changes (and at CHUNK_STEPS)."""
    net = tiny()
    net.add(sc.CurrentSource("a", steps=[("0.4 ms", 1 * nA), ("2.5 ms", 0 * nA)], name="i"))
    sim = GridSimulator(net.to_ir())
    chunks = []
    advance = sim._advance
    sim._advance = lambda n, stop, spikes, rec: (chunks.append((n, stop)), advance(n, stop, spikes, rec))
    sim.run(0.3)
    assert chunks == [(0, 4), (4, 25), (25, 1025), (1025, 2025), (2025, 3000)]


def test_raw_run_is_typed_and_result_from_run_keeps_recorded_populations():
    g = tiny().to_ir()
    raw = GridSimulator(g).run(0.01)
    assert isinstance(raw, RawRun) and raw.n_start == 0 and raw.n_steps == 100 and raw.spike_offsets is None
    assert raw.spike_steps["a"].dtype == np.int64 and raw.spike_indices["a"].dtype == np.int64
    assert set(raw.final_state) == {"a", "b"} and raw.final_state["a"]["v"].shape == (3,)
    res = get_backend("native").compile(g).run(0.01)
    for name in ("a", "b"):
        assert np.array_equal(res.spikes[name][0], raw.spike_steps[name] * g.dt)
    assert res.spike_steps == {}
    precise = PreciseSimulator(tiny().to_ir(timing="precise")).run(0.01)
    t = precise.spike_times("b")
    assert t.size and np.array_equal(t, precise.spike_steps["b"] * g.dt + precise.spike_offsets["b"])


def test_layout_numbers_neurons_channels_and_presynaptic_rows_once():
    lay = NetLayout.from_ir(tiny("lif_cuba").to_ir())
    assert list(lay.pop_start) == [0, 3] and lay.n_neurons == 5
    assert lay.pre_base == {"a": 0, "b": 3, "s": 5} and lay.n_pre == 7 and lay.n_pois == 0
    assert lay.population_range("b") == (3, 2)
    rec = list(tiny("lif_cuba").to_ir().populations["a"].receptors)
    assert lay.channel_of[("a", rec[0])] == 0 and lay.channel_of[("b", rec[0])] == 3 * len(rec)
    with pytest.raises(ValidationError):
        NetLayout.from_ir(sc.Network("empty", dt="0.1 ms").to_ir())
