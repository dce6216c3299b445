"""Tests of backends/nest.py beyond the conformance suite (tests/conformance): each documented
difference from the IR (docs/nest.md) shown on real NEST, the model and receptor mapping,
options and refusals, continued runs, threads, the MPI refusal, command line and rank merge.

Every network here is small: a NEST run of it takes well under a second.
"""
from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nest")

import nest  # noqa: E402

from backends import get_backend  # noqa: E402
from backends import nest as nest_backend  # noqa: E402
from spikecore import ir as _ir  # noqa: E402
from spikecore import units as u  # noqa: E402
from spikecore.cli import main as cli_main  # noqa: E402
from spikecore.cli.run import mpi_rank_args  # noqa: E402
from spikecore.errors import UnsupportedFeature, ValidationError  # noqa: E402
from spikecore.network import (CurrentSource, FixedIndegree, FixedProbability, FixedTotalNumber, FromIndices,  # noqa: E402
                               Network, Normal, OneToOne, PoissonSource, SpikeSource, StateMonitor)

DT = 1e-4
DELTA = {"tau_mem": "20 ms", "v_leak": "0 mV", "v_threshold": "20 mV", "v_reset": "10 mV", "t_refrac": "2 ms"}
CUBA = {"tau_mem": "20 ms", "v_leak": "-45 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV", "t_refrac": "2 ms",
        "tau_syn": {"exc": "5 ms", "inh": "10 ms"}}
COBA = {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
        "t_refrac": "5 ms", "tau_syn": {"exc": "5 ms", "inh": "10 ms"}, "e_rev": {"exc": "0 mV", "inh": "-80 mV"}}
NATIVE = get_backend("native")
NEST = get_backend("nest")


def steps_of(result, pop):
    t, i = result.spikes[pop]
    return sorted(zip(np.rint(t / DT).astype(int).tolist(), i.tolist()))


def both(net, duration, **options):
    g = net.to_ir()
    return NATIVE.compile(g).run(duration), NEST.compile(g, **options).run(duration)


def recurrent_cuba(seed=3, n=60, delays=("0.5 ms", "1.2 ms"), interval="0.3 ms") -> Network:
    """A deterministic E/I network (currents, no Poisson): the same spikes on native and NEST."""
    net = Network("rec", seed=seed, dt="0.1 ms")
    init = {"v": u.Quantity(np.linspace(-60e-3, -50.5e-3, n), u.VOLTAGE)}
    net.population("e", n, "lif_cuba", CUBA, init)
    net.project("e", "e", FixedProbability(0.1), weight="1.5 mV", delay=delays[0], receptor="exc", name="ee")
    net.project("e", "e", FixedProbability(0.1), weight="-2 mV", delay=delays[1], receptor="inh", name="ei")
    net.add(StateMonitor("e", ["v", "syn_exc", "syn_inh"], neurons=[0, 7, 33], interval=interval, name="mon"))
    return net


# ----------------------------------------------------------------------------- where the semantics match
def test_deterministic_network_matches_native_spike_for_spike_and_trace_for_trace():
    ours, theirs = both(recurrent_cuba(), 0.1)
    assert len(steps_of(ours, "e")) > 50
    assert steps_of(theirs, "e") == steps_of(ours, "e")
    a, b = ours.traces["mon"], theirs.traces["mon"]
    np.testing.assert_array_equal(np.rint(b["times"] / DT), np.rint(a["times"] / DT))
    for var in ("v", "syn_exc", "syn_inh"):
        scale = np.max(np.abs(a["variables"][var]))
        np.testing.assert_allclose(b["variables"][var], a["variables"][var], rtol=1e-9, atol=1e-9 * scale)


def test_result_has_the_fields_of_every_backend(tmp_path):
    ours, theirs = both(recurrent_cuba(), 0.02)
    assert theirs.backend == "nest" and theirs.sizes == ours.sizes and theirs.n_synapses == ours.n_synapses
    assert theirs.seed == ours.seed and theirs.model == ours.model and theirs.duration == pytest.approx(0.02)
    assert theirs.options == {"threads": 1, "poisson": "replay"} and theirs.build_s > 0
    saved = theirs.save(tmp_path / "r")
    assert set(p.name for p in saved.iterdir()) == {"summary.json", "spikes.npz", "traces.npz", "manifest.json"}


def test_continued_runs_equal_one_run():
    g = recurrent_cuba().to_ir()
    whole = NEST.compile(g).run(0.06)
    exe = NEST.compile(g)
    first, second = exe.run(0.03), exe.run(0.03)
    assert steps_of(first, "e") + steps_of(second, "e") == steps_of(whole, "e")
    cat = np.concatenate([first.traces["mon"]["variables"]["v"], second.traces["mon"]["variables"]["v"]])
    np.testing.assert_array_equal(cat, whole.traces["mon"]["variables"]["v"])


def test_replayed_poisson_trains_give_the_native_spikes_and_nest_poisson_its_own():
    net = Network("pois", seed=5, dt="0.1 ms")
    net.population("c", 30, "lif_cuba", CUBA)
    net.add(PoissonSource(30, "800 Hz", name="ext"))
    net.project("ext", "c", OneToOne(), weight="3 mV", delay="0.2 ms", receptor="exc", name="drive")
    ours, theirs = both(net, 0.2)
    assert len(steps_of(ours, "c")) > 100 and steps_of(theirs, "c") == steps_of(ours, "c")
    own = NEST.compile(net.to_ir(), poisson="nest").run(0.2)
    assert steps_of(own, "c") != steps_of(ours, "c")        # NEST drew its own trains ...
    assert own.rate("c") == pytest.approx(ours.rate("c"), rel=0.2)    # ... of the same rate


def test_current_changing_in_step_one_and_later():
    """Steps 0 and 1 go through I_e, later changes through a step_current_generator."""
    net = Network("cur", seed=1, dt="0.1 ms")
    net.population("d", 3, "lif_delta", DELTA)
    net.add(CurrentSource("d", steps=[("0 ms", "100 pA"), ("0.05 ms", "300 pA"), ("1.03 ms", "0 pA"),
                                      ("2 ms", "250 pA")], neurons=[0, 1], name="i"))
    net.add(CurrentSource("d", steps=[("0.5 ms", "40 pA")], neurons=[1], name="j"))
    net.add(StateMonitor("d", ["v"], name="m"))
    ours, theirs = both(net, 0.01)
    a, b = ours.traces["m"]["variables"]["v"], theirs.traces["m"]["variables"]["v"]
    assert a[2, 0] > a[1, 0] > 0 and a[8, 1] > a[8, 0] and np.all(a[:, 2] == 0)
    np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-15)


def test_two_threads_give_the_same_result_as_one():
    """1 vs 2 NEST virtual processes (local_num_threads) on a deterministic network."""
    g = recurrent_cuba(seed=11, n=120).to_ir()
    one = NEST.compile(g, threads=1).run(0.1)
    two = NEST.compile(g, threads="2").run(0.1)
    assert len(steps_of(one, "e")) > 100 and steps_of(two, "e") == steps_of(one, "e")
    np.testing.assert_array_equal(two.traces["mon"]["variables"]["v"], one.traces["mon"]["variables"]["v"])
    assert nest.GetKernelStatus("local_num_threads") == 2


# ----------------------------------------------------------------------------- receptors
def test_cuba_receptors_by_sign_or_multisynapse():
    net = Network("rx", seed=2, dt="0.1 ms")
    net.add(SpikeSource(spike_times=[["1 ms", "3 ms"], ["2 ms"]], name="src"))
    three = dict(CUBA, tau_syn={"a": "2 ms", "b": "4 ms", "c": "8 ms"})
    net.population("signed", 2, "lif_cuba", CUBA)
    net.population("mixed", 2, "lif_cuba", three)
    net.project("src", "signed", FromIndices([0, 1], [0, 1]), weight="30 mV", receptor="exc", name="s_e")
    net.project("src", "signed", FromIndices([1], [0]), weight="-10 mV", receptor="inh", name="s_i")
    for r, w in (("a", "40 mV"), ("b", "-20 mV"), ("c", "25 mV")):
        net.project("src", "mixed", FromIndices([0, 1], [0, 1]), weight=w, receptor=r, name=f"m_{r}")
    net.add(StateMonitor("mixed", ["v", "syn_a", "syn_b", "syn_c"], name="mm"))
    g = net.to_ir()
    plans = {p: nest_backend.population_plan(g, g.populations[p]) for p in g.populations}
    assert plans["signed"].nest_model == "iaf_psc_exp" and plans["signed"].routes == {"exc": "ex", "inh": "in"}
    assert plans["mixed"].nest_model == "iaf_psc_exp_multisynapse"
    assert plans["mixed"].routes == {"a": 1, "b": 2, "c": 3}
    ours, theirs = both(net, 0.03)
    for var in ("v", "syn_a", "syn_b", "syn_c"):
        a, b = ours.traces["mm"]["variables"][var], theirs.traces["mm"]["variables"][var]
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * np.max(np.abs(a)))


def test_sign_routes():
    assert nest_backend.sign_routes({"exc": {1}, "inh": {-1}}) == {"exc": "ex", "inh": "in"}
    assert nest_backend.sign_routes({"exc": {1}, "inh": set()}) == {"exc": "ex", "inh": "in"}
    assert nest_backend.sign_routes({"x": {-1}, "y": set()}) == {"x": "in", "y": "ex"}
    assert nest_backend.sign_routes({"exc": {1, -1}}) is None
    assert nest_backend.sign_routes({"a": {1}, "b": {1}}) is None
    assert nest_backend.sign_routes({"a": {1}, "b": {-1}, "c": set()}) is None


def test_coba_three_receptors_refused_by_name():
    net = Network("c3", seed=1, dt="0.1 ms")
    net.population("p", 2, "lif_coba", dict(COBA, tau_syn={"exc": "5 ms", "inh": "10 ms", "nmda": "100 ms"},
                                            e_rev={"exc": "0 mV", "inh": "-80 mV", "nmda": "0 mV"}))
    with pytest.raises(UnsupportedFeature, match=r"lif_coba with 3 receptors.*exc, inh, nmda"):
        NEST.compile(net.to_ir())


@pytest.mark.parametrize("model, says", [("loihi_lif", r"loihi_lif runs in: loihi"),
                                          ("alif", r"NEST has no LIF with an adaptive threshold"),
                                          ("alif_current", r"aeif_psc_exp with Delta_T = 0 and a = 0")])
def test_models_not_running_in_nest_refused_by_name(model, says):
    """The backend asks the model whether it runs in mode "nest" (spikecore.models); the alif forms
    have no exact NEST twin and are refused saying why."""
    g = recurrent_cuba().to_ir()
    g.populations["e"].model = model
    with pytest.raises(UnsupportedFeature, match=rf"'nest' does not support model '{model}' \(population e\).*{says}"):
        NEST.compile(g)


def test_nonzero_initial_synaptic_state_refused():
    g = recurrent_cuba().to_ir()
    g.populations["e"].initial["syn_exc"] = np.full(60, 1e-3)
    with pytest.raises(UnsupportedFeature, match="initial 'syn_exc'"):
        NEST.compile(g)


# ----------------------------------------------------------------------------- documented differences
def test_threshold_is_inclusive_in_nest():
    """A membrane resting exactly on threshold (v_leak == v_threshold == v) fires in NEST (V >= V_th),
    never in the IR (v > v_threshold)."""
    net = Network("th", seed=1, dt="0.1 ms")
    net.population("d", 1, "lif_delta", dict(DELTA, v_leak="20 mV"), {"v": u.Quantity(np.array([20e-3]), u.VOLTAGE)})
    ours, theirs = both(net, 0.005)
    assert steps_of(ours, "d") == [] and steps_of(theirs, "d")[:1] == [(0, 0)]


def _kick_and_probe(t_refrac: str, probe_step: int, kick: str = "30 mV") -> Network:
    """A delta neuron kicked by a spike arriving at step 20 (fires at 21), probed by 5 mV arriving at probe_step."""
    net = Network("kp", seed=1, dt="0.1 ms")
    net.add(SpikeSource(times=u.Quantity(np.array([19, probe_step - 1]) * DT, u.TIME), indices=[0, 1], name="src"))
    net.population("d", 1, "lif_delta", dict(DELTA, t_refrac=t_refrac))
    net.project("src", "d", FromIndices([0], [0]), weight=kick, delay="0.1 ms", name="kick")
    net.project("src", "d", FromIndices([1], [0]), weight="5 mV", delay="0.1 ms", name="probe")
    net.add(StateMonitor("d", ["v"], name="m"))
    return net


def test_delta_input_in_the_last_refractory_step_is_applied_by_nest():
    """t_refrac 2 ms = 20 steps after the spike at 21: the IR discards a jump arriving at 40, NEST applies it;
    one arriving at 39 both discard."""
    a = math.exp(-DT / 0.02)
    ours, theirs = both(_kick_and_probe("2 ms", 40), 0.006)
    assert steps_of(ours, "d") == steps_of(theirs, "d") == [(21, 0)]
    v_ir, v_nest = ours.traces["m"]["variables"]["v"][:, 0], theirs.traces["m"]["variables"]["v"][:, 0]
    assert v_ir[45] == pytest.approx(10e-3 * a ** 4)
    assert v_nest[45] == pytest.approx(10e-3 * a ** 4 + 5e-3 * a ** 4)
    ours, theirs = both(_kick_and_probe("2 ms", 39), 0.006)
    np.testing.assert_allclose(theirs.traces["m"]["variables"]["v"][22:], ours.traces["m"]["variables"]["v"][22:],
                               rtol=1e-12)       # (sample 21: the kick's jump, see the next-but-one test)


def test_delta_input_in_the_spike_step_survives_a_short_refractory_period_in_nest():
    """t_refrac 0: the IR loses a jump arriving in the spike step to the reset; NEST adds it after."""
    a = math.exp(-DT / 0.02)
    ours, theirs = both(_kick_and_probe("0 ms", 21), 0.003)
    assert ours.traces["m"]["variables"]["v"][23, 0] == pytest.approx(10e-3 * a)
    assert theirs.traces["m"]["variables"]["v"][23, 0] == pytest.approx(10e-3 * a + 5e-3 * a)


def test_delta_jump_appears_one_sample_later_in_nest_traces():
    """The jump arriving at step 20 is in the IR's sample 21; NEST adds it in step 21 (pre-decayed), so its
    sample 21 lacks it and from sample 22 on the traces agree."""
    net = _kick_and_probe("2 ms", 40, kick="5 mV")
    ours, theirs = both(net, 0.003)
    v_ir, v_nest = ours.traces["m"]["variables"]["v"][:, 0], theirs.traces["m"]["variables"]["v"][:, 0]
    assert v_ir[21] == pytest.approx(5e-3) and v_nest[21] == 0.0
    np.testing.assert_allclose(v_nest[22:], v_ir[22:], rtol=1e-12)


def test_delays_onto_delta_targets_get_one_step_more_and_off_grid_delays_are_refused():
    net = Network("dl", seed=1, dt="0.1 ms")
    net.add(SpikeSource(spike_times=[["1 ms"]], name="src"))
    net.population("d", 1, "lif_delta", DELTA)
    net.population("c", 1, "lif_cuba", CUBA)
    net.project("src", "d", FromIndices([0], [0]), weight="1 mV", delay="0.7 ms", name="to_d")
    net.project("src", "c", FromIndices([0], [0]), weight="1 mV", delay="0.7 ms", receptor="exc", name="to_c")
    NEST.compile(net.to_ir())
    delays = {c.target: c.delay for c in nest.GetConnections(synapse_model="static_synapse")
              if c.source == 3 and c.target in (1, 2)}
    assert delays == {1: pytest.approx(0.8), 2: pytest.approx(0.7)}
    net.projections["to_c"].delay = "0.75 ms"
    with pytest.raises(UnsupportedFeature, match=r"off-grid delays \(projections.to_c.delay\)"):
        NEST.compile(net.to_ir(timing="precise"))


def test_refractory_period_is_counted_from_the_step_after_the_spike():
    assert nest_backend.refractory_ms(2e-3, DT) == pytest.approx(1.9)
    assert nest_backend.refractory_ms(2.06e-3, DT) == pytest.approx(2.0)     # 21 steps, as the IR rounds
    assert nest_backend.refractory_ms(0.0, DT) == 0.0


def test_cond_exp_integrates_differently_but_close():
    net = Network("co", seed=1, dt="0.1 ms")
    net.add(SpikeSource(spike_times=[["1 ms", "2 ms", "3 ms"]], name="src"))
    net.population("p", 1, "lif_coba", COBA)
    net.project("src", "p", FromIndices([0], [0]), weight="10 nS", receptor="exc", name="in")
    net.add(StateMonitor("p", ["v", "g_exc"], name="m"))
    ours, theirs = both(net, 0.01)
    a, b = ours.traces["m"]["variables"]["v"][:, 0], theirs.traces["m"]["variables"]["v"][:, 0]
    dev = np.max(np.abs(a - b)) / np.max(np.abs(a - (-60e-3)))
    assert 1e-6 < dev < 1e-2
    np.testing.assert_allclose(theirs.traces["m"]["variables"]["g_exc"], ours.traces["m"]["variables"]["g_exc"],
                               rtol=1e-9, atol=1e-20)


# ----------------------------------------------------------------------------- options and the kernel
@pytest.mark.parametrize("options, field", [({"threads": 0}, "threads"), ({"threads": "many"}, "threads"),
                                            ({"poisson": "draw"}, "poisson"), ({"device": "x"}, "device")])
def test_invalid_options(options, field):
    with pytest.raises(ValidationError, match=f"option '{field}'"):
        NEST.compile(recurrent_cuba().to_ir(), **options)


def test_an_executable_whose_kernel_was_reset_refuses_to_run():
    g = recurrent_cuba().to_ir()
    old = NEST.compile(g)
    NEST.compile(g)
    with pytest.raises(nest_backend.NestError, match="compile it again"):
        old.run(0.01)
    last = NEST.compile(g)
    odd = recurrent_cuba().to_ir()
    odd.dt, odd.projections, odd.state_monitors = 1e-10 / 3, {}, {}
    with pytest.raises(UnsupportedFeature, match="nanoseconds"):     # refused before the kernel is touched
        NEST.compile(odd)
    assert steps_of(last.run(0.02), "e") == steps_of(NEST.compile(g).run(0.02), "e")
    g.projections["ee"].j[0] = 10 ** 6                               # building fails half way ...
    with pytest.raises(IndexError):
        NEST.compile(g)
    with pytest.raises(nest_backend.NestError):                      # ... and no executable owns the kernel
        last.run(0.01)


def test_unmonitorable_variable_refused():
    g = recurrent_cuba().to_ir()
    g.state_monitors["mon"].variables = ("v", "w_adapt")
    with pytest.raises(UnsupportedFeature, match="recording 'w_adapt'"):
        NEST.compile(g)


# ----------------------------------------------------------------------------- MPI
def test_mpi_is_refused_with_the_way_to_get_it():
    assert nest.build_info["have_mpi"] is False
    with pytest.raises(UnsupportedFeature, match=r"built without MPI.*-Dwith-mpi=ON"):
        nest_backend.check_mpi(2)
    with pytest.raises(ValidationError, match="--mpi"):
        nest_backend.check_mpi(0)


def test_mpirun_command_line(tmp_path):
    from spikecore.cli import build_parser
    args = build_parser().parse_args(["run", "examples/brunel.yaml", "--backend", "nest", "--mpi", "4",
                                      "--duration", "200ms", "--seed", "3", "--out", str(tmp_path / "b")])
    rank_args = mpi_rank_args(args, {"threads": "2"}, tmp_path / "b")
    cmd = nest_backend.mpirun_command(4, rank_args, python="/py")
    assert cmd == ["mpirun", "-np", "4", "/py", "-m", "spikecore", "run",
                   str(Path("examples/brunel.yaml").resolve()), "--backend", "nest", "--out", str(tmp_path / "b"),
                   "--no-plot", "--duration", "200ms", "--seed", "3", "-O", "threads=2"]
    with pytest.raises(ValidationError, match="no --mpi"):
        nest_backend.mpirun_command(2, ["m.yaml", "--mpi", "2"])
    # each rank writes its part beside DIR (DIR itself is replaced whole by the joined result)
    assert nest_backend.rank_dir(tmp_path / "b", 3) == tmp_path / "b.ranks" / "rank_3"
    assert nest_backend.mpi_rank() == (0, 1)            # outside mpirun: one process, all of the network


def test_cli_mpi_refusal_is_one_line(tmp_path):
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "spikecore", "run", "examples/cuba.yaml", "--backend", "nest",
                           "--mpi", "2", "--out", str(tmp_path / "o")], capture_output=True, text=True, cwd=root)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "built without MPI" in lines[0] and "-Dwith-mpi=ON" in lines[0]
    # the line ends with the mpirun command that would have run (each rank: the same run, no --mpi)
    would = lines[0].split("; the run would be: ", 1)[1]
    assert would.startswith(f"mpirun -np 2 {sys.executable} -m spikecore run {root / 'examples/cuba.yaml'} "
                            "--backend nest --out ") and "--mpi" not in would and "--no-plot" in would
    assert not (tmp_path / "o").exists()
    assert cli_main(["run", str(root / "examples/cuba.yaml"), "--mpi", "2"]) == 2   # --mpi needs --backend nest


def lazy_network(monkeypatch) -> Network:
    """recurrent_cuba with every projection a SynapseStream drawn in pieces of 64 synapses (as the
    large projections of a network that outgrows one machine are)."""
    from spikecore import connectors
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 50)
    monkeypatch.setattr(connectors, "CHUNK_SYNAPSES", 64)
    return recurrent_cuba(n=120)


def nest_synapses(exe, pop="e") -> list:
    conns = nest.GetConnections(source=exe.nodes[pop], target=exe.nodes[pop])
    return sorted(zip(conns.source, conns.target, np.round(conns.weight, 9), np.round(conns.delay, 6)))


def test_lazy_projections_are_drawn_piece_by_piece_and_never_joined(monkeypatch):
    """No rank builds a projection's whole synapse list: NEST is given each piece of the stream
    (drawn from the seed) as it comes; the edges are still unjoined after compiling and running."""
    g = lazy_network(monkeypatch).to_ir()
    assert all(e.is_lazy for e in g.projections.values())
    exe = NEST.compile(g)
    theirs = exe.run(0.1)
    assert all(e.is_lazy for e in g.projections.values())
    assert max(len(c[0]) for e in g.projections.values() for c in e.chunks()) <= 64 + 120
    got = nest_synapses(exe)
    ours = NATIVE.compile(g).run(0.1)
    assert steps_of(theirs, "e") == steps_of(ours, "e") and len(steps_of(ours, "e")) > 20
    first, plan = exe.nodes["e"][0].global_id, exe.plans["e"]
    want = []
    for e in g.projections.values():
        for i, j, w, d in e.chunks():
            w = nest_backend.nest_weights(plan, e.receptor, w, j)
            want += [(int(a) + first, int(b) + first, round(float(c), 9), round(float(x) * 1e3, 6))
                     for a, b, c, x in zip(i, j, w, d)]
    assert got == sorted(want) and len(got) == g.n_synapses


def test_each_rank_keeps_only_the_synapses_onto_its_neurons(monkeypatch):
    """What rank k of N connects (hosted_synapses with the mask of the neurons NEST places on it):
    only synapses onto its neurons, and together the ranks' parts are the IR's synapses, once each,
    whatever N (NEST places neurons round-robin over its virtual processes)."""
    g = lazy_network(monkeypatch).to_ir()
    n = g.populations["e"].size
    whole = {name: sorted(zip(*[np.concatenate(x).tolist() for x in zip(*e.chunks())]))
             for name, e in g.projections.items()}
    for n_ranks in (1, 2, 3):
        for name, e in g.projections.items():
            parts = []
            for rank in range(n_ranks):
                hosted = np.arange(n) % n_ranks == rank
                for i, j, w, d in nest_backend.hosted_synapses(e, hosted):
                    assert hosted[j].all()
                    parts += list(zip(i.tolist(), j.tolist(), w.tolist(), d.tolist()))
            assert sorted(parts) == whole[name]
    assert all(e.is_lazy for e in g.projections.values())


def streamed_population(monkeypatch, n: int = 120) -> Network:
    """A network of ``n`` lif_cuba neurons "e" (v spread below threshold) whose projections will
    be SynapseStreams drawn in pieces of 64 synapses."""
    from spikecore import connectors
    monkeypatch.setattr(_ir, "LAZY_SYNAPSES", 50)
    monkeypatch.setattr(connectors, "CHUNK_SYNAPSES", 64)
    net = Network("rec", seed=3, dt="0.1 ms")
    init = {"v": u.Quantity(np.linspace(-60e-3, -50.5e-3, n), u.VOLTAGE)}
    net.population("e", n, "lif_cuba", CUBA, init)
    return net


def total_number_network(monkeypatch) -> Network:
    """As lazy_network, with fixed_total_number projections (one without multapses and autapses)
    whose weight and delay are constants: rank-local streams (each rank draws only its targets')."""
    net = streamed_population(monkeypatch)
    net.project("e", "e", FixedTotalNumber(1440), weight="1.5 mV", delay="0.5 ms", receptor="exc", name="ee")
    net.project("e", "e", FixedTotalNumber(1440, allow_self=False, allow_multapses=False), weight="-2 mV",
                delay="1.2 ms", receptor="inh", name="ei")
    return net


def ranks_connections(exe, g, n_vps) -> list:
    """What the ranks of an MPI run with ``n_vps`` processes connect (hosted_synapses with the
    neurons NEST places on each: its ``vp`` in the kernel ``exe`` built), as nest_synapses lists."""
    first, plan = exe.nodes["e"][0].global_id, exe.plans["e"]
    vp = np.asarray(exe.nodes["e"].get("vp"))
    got = []
    for rank in range(n_vps):
        for e in g.projections.values():
            for i, j, w, d in nest_backend.hosted_synapses(e, vp == rank):
                w = nest_backend.nest_weights(plan, e.receptor, w, j)
                got += [(int(a) + first, int(b) + first, round(float(c), 9), round(float(x) * 1e3, 6))
                        for a, b, c, x in zip(i, j, w, d)]
    return sorted(got)


def per_target_network(monkeypatch) -> Network:
    """As total_number_network with truncated-normal weights and delays (the cortical
    microcircuit's kind) drawn from per-target streams (``streams: per_target``), and a
    fixed_indegree and a fixed_probability projection drawn per target too: rank-local streams."""
    net = streamed_population(monkeypatch)
    delay = Normal("0.8 ms", "0.4 ms", low="0.05 ms")
    net.project("e", "e", FixedTotalNumber(1440), weight=Normal("1.5 mV", "0.5 mV", low="0 mV"), delay=delay,
                receptor="exc", name="ee", streams="per_target")
    net.project("e", "e", FixedIndegree(6, allow_self=False), weight=Normal("-2 mV", "0.6 mV", high="0 mV"),
                delay=delay, receptor="inh", name="ei", streams="per_target")
    net.project("e", "e", FixedProbability(0.05, allow_self=False), weight=Normal("0.5 mV", "0.2 mV", low="0 mV"),
                delay=delay, receptor="exc", name="ep", streams="per_target")
    return net


@pytest.mark.parametrize("network", [lazy_network, total_number_network, per_target_network])
def test_one_and_two_virtual_processes_give_the_same_connections_and_spikes(monkeypatch, network):
    """fixed_probability (drawn whole, filtered per rank), fixed_total_number with constant values
    and, with streams: per_target, fixed_total_number, fixed_indegree and fixed_probability with
    truncated-normal weights and delays (rank-local: each rank draws only its targets' synapses
    and values): one
    and two NEST virtual processes give the same connections (weights and delays included) and
    spikes, and the parts two ranks would draw join to those connections."""
    g = network(monkeypatch).to_ir()
    assert all(e.stream.rank_local == (network is not lazy_network) for e in g.projections.values())
    one = NEST.compile(g, threads=1)
    conns_one, spikes_one = nest_synapses(one), steps_of(one.run(0.1), "e")
    two = NEST.compile(g, threads=2)
    assert nest.GetKernelStatus("total_num_virtual_procs") == 2
    assert len(set(two.nodes["e"].get("vp"))) == 2               # the neurons are spread over both
    assert nest_synapses(two) == conns_one and len(conns_one) == g.n_synapses
    assert ranks_connections(two, g, 2) == conns_one
    assert steps_of(two.run(0.1), "e") == spikes_one and len(spikes_one) > 20
    assert all(e.is_lazy for e in g.projections.values())


def test_each_rank_draws_only_its_neurons_synapses_of_a_rank_local_projection(monkeypatch):
    """fixed_total_number with constant weight and delay, split over 1, 2 and 3 virtual processes
    as NEST places the neurons: every target gets its synapses, weights and delays in the IR's
    order, the parts join to the connections NEST made, and each rank draws (SplitMix64 numbers,
    counted where the connector draws them) only its targets' share of the projection's stream;
    the run log names the rank-local projections."""
    from spikecore import connectors
    g = total_number_network(monkeypatch).to_ir()
    drawn = []
    real = connectors.poisson_uniforms
    monkeypatch.setattr(connectors, "poisson_uniforms", lambda key, k: drawn.append(np.size(k)) or real(key, k))
    ee = g.projections["ee"]
    whole = {}                   # target -> its synapses (source, weight, delay) in the IR's order
    for i, j, w, d in ee.chunks():
        for a, b, c, x in zip(i.tolist(), j.tolist(), w.tolist(), d.tolist()):
            whole.setdefault(b, []).append((a, c, x))
    for n_vps in (1, 2, 3):
        exe = NEST.compile(g, threads=n_vps)
        vp = np.asarray(exe.nodes["e"].get("vp"))
        assert len(set(vp.tolist())) == n_vps
        assert ranks_connections(exe, g, n_vps) == nest_synapses(exe)
        for rank in range(n_vps):
            drawn.clear()
            parts = list(nest_backend.hosted_synapses(ee, vp == rank))
            n_mine = sum(p[0].size for p in parts)
            assert sum(drawn) == n_mine and n_mine < 1440 / n_vps * 1.2
            mine = {}
            for i, j, w, d in parts:
                for a, b, c, x in zip(i.tolist(), j.tolist(), w.tolist(), d.tolist()):
                    mine.setdefault(b, []).append((a, c, x))
            assert mine == {t: v for t, v in whole.items() if vp[t] == rank}
    fresh = total_number_network(monkeypatch).to_ir()     # nothing drawn yet
    drawn.clear()
    assert fresh.n_synapses == 2 * 1440 and sum(drawn) == 0     # the Result's count: from the in-degrees
    list(ee.chunks())
    assert sum(drawn) == 2 * 1440          # drawn whole in the list's order: both passes over every target
    assert ee.is_lazy
    line = nest_backend.rank_local_report(g)
    assert line.startswith("per-rank synapse generation: drawn for this rank's neurons only: ee, ei;")


def test_per_target_streams_give_the_native_engines_spikes_on_nest(monkeypatch):
    """The per-target draws are made once, into the IR: the native engine (which reads the lazy
    projections twice, the first pass in the connector's cheaper order) and NEST with two
    virtual processes run the same network, spike for spike."""
    g = per_target_network(monkeypatch).to_ir()
    ours = NATIVE.compile(g).run(0.1)
    theirs = NEST.compile(g, threads=2).run(0.1)
    assert steps_of(theirs, "e") == steps_of(ours, "e") and len(steps_of(ours, "e")) > 20


def by_target(chunks) -> dict:
    """target -> its synapses (source, weight, delay) in the chunks' order."""
    out = {}
    for i, j, w, d in chunks:
        for a, b, c, x in zip(i.tolist(), j.tolist(), w.tolist(), d.tolist()):
            out.setdefault(b, []).append((a, c, x))
    return out


def test_a_rank_draws_its_share_of_a_per_target_projections_numbers(monkeypatch):
    """streams: per_target with truncated-normal weights and delays: split over 1, 2 and 3 virtual
    processes as NEST places the neurons, every target gets its synapses with the weights and
    delays of the IR's list, in its order; each rank draws (SplitMix64 numbers, counted where the
    connector and the value streams draw them, and the targets whose own Philox generator is
    opened) its targets' sources, weights and delays (plus their redraws) and no other target's.
    Before connecting, a rank reads next to nothing of the projections: the receptors' weight
    signs come from the distributions' bounds (NEST's model, iaf_psc_exp, chosen from them) and
    the grid check looks at one target's synapses (the largest delay is NEST's own business);
    it read every synapse's weight and delay before. The run log marks the projections per-target."""
    from spikecore import connectors, distributions
    g = per_target_network(monkeypatch).to_ir()
    drawn, opened = [], []
    for module in (connectors, distributions):
        real = module.poisson_uniforms
        monkeypatch.setattr(module, "poisson_uniforms",
                            lambda key, k, real=real: drawn.append(np.size(k)) or real(key, k))
    real_generator = connectors.target_generator
    monkeypatch.setattr(connectors, "target_generator",
                        lambda key, t: opened.append(int(t)) or real_generator(key, t))
    n = {name: e.n_synapses for name, e in g.projections.items()}
    whole = {name: by_target(e.chunks()) for name, e in g.projections.items()}
    redrawn = dict(g.redrawn)
    extra = {name: redrawn[f"projections.{name}.weight"] + redrawn[f"projections.{name}.delay"]
             for name in ("ee", "ep")}
    assert all(0 < x < 0.1 * n[name] for name, x in extra.items()) and n["ep"] > 500
    drawn.clear(), opened.clear()
    nest_backend.check_delays_on_grid(g)               # what every rank reads before it connects
    plan = nest_backend.population_plan(g, g.populations["e"])
    assert plan.nest_model == "iaf_psc_exp" and plan.routes == {"exc": "ex", "inh": "in"}
    assert sum(drawn) < 0.03 * (n["ee"] + n["ep"]) and len(opened) <= 2     # the probe: one target each
    shares = []
    for n_vps in (1, 2, 3):
        exe = NEST.compile(g, threads=n_vps)
        vp = np.asarray(exe.nodes["e"].get("vp"))
        for rank in range(n_vps):
            for name, per_synapse in (("ee", 3), ("ep", 2)):   # ep's sources come from Philox generators
                drawn.clear(), opened.clear()
                parts = list(nest_backend.hosted_synapses(g.projections[name], vp == rank))
                n_mine = sum(p[0].size for p in parts)
                # its synapses' numbers (source, weight, delay) and the redraws of its values
                assert per_synapse * n_mine <= sum(drawn) <= per_synapse * n_mine + extra[name]
                assert n_mine < n[name] / n_vps * 1.2
                assert sorted(opened) == ([] if name == "ee" else np.flatnonzero(vp == rank).tolist())
                shares.append((name, n_vps, sum(drawn)))
                assert by_target(parts) == {t: v for t, v in whole[name].items() if vp[t] == rank}
    for name in ("ee", "ep"):
        for n_vps in (2, 3):       # the ranks' draws add up to the whole projection's, once
            assert (sum(c for p, k, c in shares if (p, k) == (name, n_vps))
                    == sum(c for p, k, c in shares if (p, k) == (name, 1)))
    line = nest_backend.rank_local_report(g)
    assert line.startswith("per-rank synapse generation: drawn for this rank's neurons only: "
                           "ee (per-target streams), ei (per-target streams), ep (per-target streams);")
    assert line.endswith("weights read whole for NEST's receptor routing (a weight that can take both signs): none")


def test_nest_finds_the_delay_extrema_itself(monkeypatch):
    """The kernel is not told min_delay and max_delay (no rank knows the largest delay of synapses
    it does not host): NEST takes them from the connections made (and, under MPI, over all ranks
    before it simulates): min_delay one step (the recorders' connections), max_delay the longest
    NEST delay, with one and two virtual processes."""
    g = per_target_network(monkeypatch).to_ir()
    for threads in (1, 2):
        exe = NEST.compile(g, threads=threads)
        longest = max(nest.GetConnections(source=exe.nodes["e"], target=exe.nodes["e"]).delay)
        assert longest > 2.0                                 # the drawn delays' tail (0.8 ms +- 0.4 ms)
        exe.run(0.01)
        assert nest.GetKernelStatus("min_delay") == pytest.approx(0.1)
        assert nest.GetKernelStatus("max_delay") == pytest.approx(longest)


@pytest.mark.parametrize("low,signs,model", [("-1 mV", None, "iaf_psc_exp_multisynapse"),
                                             ("0 mV", {1}, "iaf_psc_exp")])
def test_a_weight_that_can_take_both_signs_is_read_for_the_routing(monkeypatch, low, signs, model):
    """The receptors' weight signs choose NEST's model (iaf_psc_exp routes by sign): a per-target
    weight uniform in [-1, 2) mV can take both signs, so every rank reads all of its weights (the
    draws decide; the run log names it), and with both signs on one receptor the population
    becomes iaf_psc_exp_multisynapse; uniform in [0, 2) mV is positive by its bounds: no weight read."""
    from spikecore import distributions
    from spikecore.network import Uniform
    net = streamed_population(monkeypatch)
    net.project("e", "e", FixedTotalNumber(1440), weight=Uniform(low, "2 mV"), delay="0.5 ms", receptor="exc",
                name="ee", streams="per_target")
    g = net.to_ir()
    drawn = []
    real = distributions.poisson_uniforms
    monkeypatch.setattr(distributions, "poisson_uniforms", lambda key, k: drawn.append(np.size(k)) or real(key, k))
    assert nest_backend.declared_weight_signs(g.projections["ee"]) == signs
    plan = nest_backend.population_plan(g, g.populations["e"])
    assert plan.nest_model == model and sum(drawn) == (1440 if signs is None else 0)
    line = nest_backend.rank_local_report(g)
    assert line.endswith("(a weight that can take both signs): " + ("ee" if signs is None else "none"))


def test_off_grid_per_target_delays_are_refused_by_every_rank(monkeypatch):
    """A precise-timing IR keeps drawn delays off the grid: the check before the kernel (one
    target's synapses, the same on every rank) refuses them, and so does each rank's check of
    the delays it connects, were the first to let one through."""
    net = per_target_network(monkeypatch)
    g = net.to_ir(timing="precise")
    with pytest.raises(UnsupportedFeature, match=r"off-grid delays \(projections.ee.delay\)"):
        NEST.compile(g)
    monkeypatch.setattr(nest_backend, "check_delays_on_grid", lambda ir: None)
    with pytest.raises(UnsupportedFeature, match=r"off-grid delays \(projections.ee.delay\)"):
        NEST.compile(g)


def test_merging_rank_parts_gives_the_whole(tmp_path):
    """merge_ranks joins parts that each hold some neurons' spikes and traces (NaN elsewhere)."""
    whole = NEST.compile(recurrent_cuba().to_ir()).run(0.05)
    parts = []
    for rank in (0, 1):
        spikes = {p: (t[i % 2 == rank], i[i % 2 == rank]) for p, (t, i) in whole.spikes.items()}
        traces = {}
        for m, tr in whole.traces.items():
            hosted = np.asarray(tr["neurons"]) % 2 == rank
            traces[m] = dict(tr, variables={k: np.where(hosted, b, np.nan) for k, b in tr["variables"].items()})
        part = nest_backend.Result(**{**whole.__dict__, "spikes": spikes, "traces": traces})
        parts.append(nest_backend.Result.load(part.save(nest_backend.rank_dir(tmp_path, rank))))
    merged = nest_backend.merge_ranks(parts)
    assert steps_of(merged, "e") == steps_of(whole, "e")
    for k, block in whole.traces["mon"]["variables"].items():
        np.testing.assert_array_equal(merged.traces["mon"]["variables"][k], block)


def test_every_synapse_of_the_ir_is_one_nest_connection():
    """On one process every neuron is local, so the rank filter keeps all of the IR's synapses, once."""
    g = recurrent_cuba().to_ir()
    exe = NEST.compile(g)
    conns = nest.GetConnections(source=exe.nodes["e"], target=exe.nodes["e"])
    assert nest.NumProcesses() == 1 and len(conns) == g.n_synapses
    got = sorted(zip(conns.source, conns.target, np.round(conns.delay, 6)))
    first = exe.nodes["e"][0].global_id
    want = sorted((int(e.i[k]) + first, int(e.j[k]) + first, round(float(e.delay[k]) * 1e3, 6))
                  for e in g.projections.values() for k in range(e.n_synapses))
    assert got == want


# ----------------------------------------------------------------------------- units
def test_units_are_converted_once():
    g = Network("u", seed=1, dt="0.1 ms")
    g.population("p", 1, "lif_coba", COBA)
    g.population("c", 1, "lif_cuba", dict(CUBA, r="50 Mohm"))
    ir = g.to_ir()
    p = nest_backend.population_plan(ir, ir.populations["p"]).params
    assert p["C_m"] == pytest.approx(200.0) and p["g_L"] == pytest.approx(10.0) and p["E_in"] == pytest.approx(-80)
    assert p["tau_syn_in"] == pytest.approx(10.0) and p["t_ref"] == pytest.approx(4.9)
    c = nest_backend.population_plan(ir, ir.populations["c"])
    assert c.params["C_m"] == pytest.approx(400.0)          # tau_mem / r = 20 ms / 50 Mohm
    w = nest_backend.nest_weights(c, "exc", np.array([1e-3]), np.array([0]))
    assert w[0] == pytest.approx(20.0)                       # 1 mV of drive = 20 pA through 50 Mohm
    assert _ir.steps(0.3e-3, DT) == 3 and list(nest_backend.stamp_of_step([0, 3], DT)) == pytest.approx([0.1, 0.4])


# ----------------------------------------------------------------------------- command line
def test_cli_compare_native_nest_exact(tmp_path, capsys, deterministic_model_file):
    model = deterministic_model_file
    code = cli_main(["compare", str(model), "--backends", "native,nest", "--exact", "--out", str(tmp_path / "c")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "native, nest: agree" in out and (tmp_path / "c" / "nest" / "spikes.npz").exists()


def test_cli_run_nest_with_threads_and_options(tmp_path, capsys, deterministic_model_file):
    model = deterministic_model_file
    assert cli_main(["run", str(model), "--backend", "nest", "--threads", "2", "-O", "poisson=nest",
                     "--no-plot", "--out", str(tmp_path / "r")]) == 0
    assert "backend nest: 20 neurons" in capsys.readouterr().out
    assert cli_main(["run", str(model), "--backend", "nest", "-O", "poisson=maybe", "--out", str(tmp_path / "x")]) == 2
    assert "option 'poisson': got 'maybe', expected one of replay, nest" in capsys.readouterr().err


def test_time_step_off_nests_default_tics():
    """dt = 62.5 us is no whole number of NEST's default tics (1 us): a finer tic is chosen."""
    assert nest_backend.tics_per_ms(0.1e-3) == 1000 and nest_backend.tics_per_ms(62.5e-6) == 10_000
    g = recurrent_cuba(delays=("0.5 ms", "1.25 ms"), interval="0.25 ms").to_ir(dt="0.0625 ms")
    ours, theirs = NATIVE.compile(g).run(0.03), NEST.compile(g).run(0.03)
    assert nest.resolution == pytest.approx(0.0625)
    t_a, i_a = ours.spikes["e"]
    t_b, i_b = theirs.spikes["e"]
    assert t_a.size > 10 and np.array_equal(t_b, t_a) and np.array_equal(i_b, i_a)
    with pytest.raises(UnsupportedFeature, match="whole number of nanoseconds"):
        nest_backend.tics_per_ms(1e-10 / 3)


@pytest.mark.parametrize("poisson", ["replay", "nest"])
def test_poisson_window_is_kept(poisson):
    """A source active over [5 ms, 20 ms): a step with input makes its target fire two steps later
    (a 30 mV delta jump, no refractory period), so the targets fire in steps 52 to 201, edges included."""
    net = Network("win", seed=4, dt="0.1 ms")
    net.population("d", 50, "lif_delta", dict(DELTA, t_refrac="0 ms"))
    net.add(PoissonSource(50, "2 kHz", start="5 ms", stop="20 ms", name="ext"))
    net.project("ext", "d", OneToOne(), weight="30 mV", delay="0.1 ms", name="drive")
    result = NEST.compile(net.to_ir(), poisson=poisson).run(0.03)
    steps = np.array([s for s, _ in steps_of(result, "d")])
    assert steps.min() == 52 and steps.max() == 201
    assert steps.size == pytest.approx(50 * 150 * (1 - math.exp(-0.2)), rel=0.1)
