"""spikecore.pynn: the PyNN API on spikecore (what PyNN's scenarios in third_party/scenarios/ do not
cover): run control between runs, the backend option, seeding, PyNN's error types, the shim."""
import numpy as np
import pytest
from pyNN.errors import InvalidParameterValueError

import spikecore.pynn as sim
from spikecore.pynn import shim


@pytest.fixture(autouse=True)
def _end():
    yield
    sim.end()


def small_network(backend="native", seed=7, **setup):
    """Two IF_curr_exp populations driven by spike sources and a DC current: deterministic."""
    sim.setup(timestep=0.1, backend=backend, **setup)
    rng = sim.NumpyRNG(seed=seed)
    src = sim.Population(20, sim.SpikeSourceArray(spike_times=[[5.0 + 3 * k + i % 7 for k in range(30)]
                                                                 for i in range(20)]), label="src")
    exc = sim.Population(40, sim.IF_curr_exp(tau_refrac=2.0, i_offset=0.2), label="exc")
    inh = sim.Population(10, sim.IF_curr_exp(tau_refrac=2.0), label="inh")
    exc.initialize(v=sim.RandomDistribution("uniform", (-65.0, -55.0), rng=rng))
    sim.Projection(src, exc, sim.FixedProbabilityConnector(0.3, rng=rng), sim.StaticSynapse(weight=0.6, delay=1.0))
    sim.Projection(exc, inh, sim.FixedNumberPreConnector(5, rng=rng), sim.StaticSynapse(weight=0.8, delay=0.5))
    sim.Projection(inh, exc, sim.FixedNumberPostConnector(8, rng=rng), sim.StaticSynapse(weight=-1.0, delay=0.5),
                   receptor_type="inhibitory")
    exc.record(["spikes", "v"])
    inh.record("spikes")
    return exc, inh


def spike_lists(pop):
    return [np.asarray(s.magnitude) for s in pop.get_data("spikes").segments[-1].spiketrains]


def test_same_seed_gives_the_same_network_and_spikes():
    exc, _ = small_network(seed=3)
    sim.run(60.0)
    first = spike_lists(exc)
    sim.end()
    exc, _ = small_network(seed=3)
    sim.run(60.0)
    assert sum(map(len, first)) > 0
    for a, b in zip(first, spike_lists(exc)):
        np.testing.assert_array_equal(a, b)


def late_spikes(exc, after=30.0):
    return sum(len([t for t in s if t > after]) for s in spike_lists(exc))


def test_set_and_initialize_between_runs_act_from_the_next_run():
    exc, _ = small_network()
    sim.run(60.0)
    unchanged = late_spikes(exc)
    sim.end()
    exc, _ = small_network()
    sim.run(30.0)
    v_before = exc.get_data("v").segments[0].analogsignals[0]
    assert v_before.shape == (301, 40)
    exc.set(i_offset=5.0)          # strong drive from now on (recompiled, state carried over)
    exc.initialize(v=-70.0)        # written into the running network now
    sim.run(30.0)
    v = np.asarray(exc.get_data("v").segments[0].analogsignals[0])
    assert v.shape == (601, 40)
    np.testing.assert_allclose(v[300], -70.0)      # the state at t = 30 ms is the one initialized
    assert late_spikes(exc) > 1.3 * unchanged > 0   # i_offset = 5 nA drives them harder
    assert exc.get("i_offset") == 5.0


@pytest.mark.slow
def test_native_and_brian2_backends_give_the_same_spikes_through_pynn():
    pytest.importorskip("brian2")
    spikes = {}
    for backend in ("native", "brian2"):
        exc, _ = small_network(backend)
        sim.run(30.0)
        exc[0:10].initialize(v=-52.0)   # through run control in both backends
        sim.run(30.0)
        spikes[backend] = spike_lists(exc)
        sim.end()
    assert sum(map(len, spikes["native"])) > 0
    for a, b in zip(spikes["native"], spikes["brian2"]):
        np.testing.assert_allclose(a, b)


def test_reset_starts_again_from_the_initial_values():
    exc, _ = small_network()
    sim.run(40.0)
    sim.reset()
    sim.run(40.0)
    segs = exc.get_data("spikes").segments
    assert len(segs) == 2
    for a, b in zip(segs[0].spiketrains, segs[1].spiketrains):
        np.testing.assert_array_equal(a.magnitude, b.magnitude)


def test_missing_cell_and_synapse_types_raise_pynns_not_implemented_error_naming_them():
    sim.setup()
    with pytest.raises(NotImplementedError, match="HH_cond_exp"):
        sim.HH_cond_exp()
    with pytest.raises(NotImplementedError, match="Vogels2011Rule"):
        sim.Vogels2011Rule()
    with pytest.raises(NotImplementedError, match="ACSource"):
        sim.ACSource()


def test_bad_values_raise_pynns_error_types():
    sim.setup()
    with pytest.raises(InvalidParameterValueError):
        sim.Population(1, sim.SpikeSourceArray(spike_times=[3.0, 1.0]))
    with pytest.raises(InvalidParameterValueError):
        sim.StepCurrentSource(times=[1.0, -2.0], amplitudes=[0.1, 0.2])
    with pytest.raises(InvalidParameterValueError, match="backend"):
        sim.setup(backend="loihi2")
    with pytest.raises(InvalidParameterValueError, match="format"):
        sim.setup(format="binary")


def test_adding_a_population_after_run_is_refused_until_reset():
    small_network()
    sim.run(5.0)
    with pytest.raises(NotImplementedError, match="after run"):
        sim.Population(3, sim.IF_curr_exp())
    sim.reset()
    sim.Population(3, sim.IF_curr_exp())
    sim.run(5.0)


def test_shim_installs_and_uninstalls_cleanly(tmp_path):
    fake = tmp_path / "pyNN"
    fake.mkdir()
    before = sorted(p.name for p in fake.rglob("*"))
    target = shim.install(fake)
    assert (target / "__init__.py").read_text().startswith('"""spikecore as a PyNN simulator')
    assert shim.install(fake) == target          # installing again replaces it
    (target / "__pycache__").mkdir()            # as an import leaves it
    assert shim.uninstall(fake)
    assert sorted(p.name for p in fake.rglob("*")) == before
    assert not shim.uninstall(fake)
    (fake / "spikecore").mkdir()                 # someone else's: neither replaced nor removed
    with pytest.raises(FileExistsError):
        shim.install(fake)
    with pytest.raises(FileExistsError):
        shim.uninstall(fake)


def test_shim_command_line(tmp_path, capsys):
    assert shim.main(["bogus"]) == 2
    assert shim.main(["status"]) == 0
    assert "spikecore" in capsys.readouterr().out


def test_installed_shim_is_spikecore_pynn():
    if not (shim.shim_dir() / shim.MARKER).exists():
        pytest.skip("the pyNN/spikecore shim is not installed (make's install step installs it)")
    import pyNN.spikecore
    assert pyNN.spikecore.Population is sim.Population


def test_from_list_from_file_and_one_to_one_connectors_build_the_listed_synapses(tmp_path):
    sim.setup(timestep=0.1)
    a = sim.Population(4, sim.IF_curr_exp(), label="a")
    b = sim.Population(3, sim.IF_cond_exp(), label="b")
    listed = [(0, 1, 0.01, 1.0), (3, 2, 0.02, 2.5), (2, 0, 0.03, 0.5)]
    p1 = sim.Projection(a, b, sim.FromListConnector(listed, column_names=["weight", "delay"]))
    path = tmp_path / "conns.txt"
    np.savetxt(path, np.array(listed))
    p2 = sim.Projection(a, b, sim.FromFileConnector(str(path)))
    p3 = sim.Projection(a[0:3], b, sim.OneToOneConnector(), sim.StaticSynapse(weight=0.05))
    for p in (p1, p2):
        got = sorted(p.get(["weight", "delay"], format="list"))
        assert got == sorted((float(i), float(j), w, d) for i, j, w, d in listed)
    assert sorted((i, j) for i, j, *_ in p3.get("weight", format="list")) == [(0, 0), (1, 1), (2, 2)]
    g = sim.simulator.state.build_ir()
    edges = [e for e in g.projections.values() if e.name.startswith(p1.ir_name + "_")]
    assert len(edges) == 1 and edges[0].synapse == "conductance"
    np.testing.assert_allclose(sorted(edges[0].weight), [0.01e-6, 0.02e-6, 0.03e-6])   # uS -> S
    np.testing.assert_allclose(sorted(edges[0].delay), [0.5e-3, 1.0e-3, 2.5e-3])


def test_assembly_and_view_projections_split_by_population():
    sim.setup(timestep=0.1)
    a = sim.Population(3, sim.IF_curr_exp(), label="a")
    c = sim.Population(2, sim.IF_curr_exp(), label="c")
    prj = sim.Projection(a + c, a[1:3], sim.AllToAllConnector(), sim.StaticSynapse(weight=0.1, delay=0.2))
    assert len(prj) == 10
    g = sim.simulator.state.build_ir()
    sizes = {(e.pre, e.post): e.i.size for e in g.projections.values()}
    assert sizes == {(a.ir_name, a.ir_name): 6, (c.ir_name, a.ir_name): 4}
    assert set(g.projections[f"{prj.ir_name}_{a.ir_name}_{a.ir_name}"].j) == {1, 2}


def test_fixed_total_number_connector_builds_that_many_synapses_seeded_by_pynns_rng():
    def build(seed):
        sim.setup(timestep=0.1)
        a = sim.Population(20, sim.IF_curr_exp(), label="a")
        b = sim.Population(30, sim.IF_cond_exp(), label="b")
        prj = sim.Projection(a, b, sim.FixedTotalNumberConnector(57, rng=sim.NumpyRNG(seed=seed)),
                             sim.StaticSynapse(weight=0.01, delay=0.5))
        edges = sim.simulator.state.build_ir().projections.values()
        assert sum(e.i.size for e in edges) == 57
        sim.run(5.0)
        conns = sorted(prj.get("weight", format="list"))
        sim.end()
        return conns
    first = build(1)
    assert len(first) == 57
    assert build(1) == first and build(2) != first


def native_and_brian2_runtime_spikes(session):
    """Per backend (native, Brian2 runtime with numpy), small_network's spike trains after
    ``session(exc, inh)`` has run and changed it."""
    pytest.importorskip("brian2")
    spikes = {}
    for backend in ("native", "brian2"):
        exc, inh = small_network(backend, **({"target": "numpy"} if backend == "brian2" else {}))
        session(exc, inh)
        spikes[backend] = spike_lists(exc) + spike_lists(inh)
        sim.end()
    return spikes


def test_set_between_runs_on_brian2_runtime_gives_native_spikes():
    """set() of both populations Brian2 holds in one group, then of one of them (the group is
    rebuilt with the threshold per neuron), then of an injected current (its table rebuilt)."""
    def session(exc, inh):
        sim.run(30.0)
        for pop in (exc, inh):
            pop.set(v_thresh=-52.0)
        sim.run(30.0)
        exc.set(v_thresh=-51.0)
        sim.run(10.0)
        exc.set(i_offset=1.0)
        sim.run(10.0)

    spikes = native_and_brian2_runtime_spikes(session)
    assert sum(map(len, spikes["native"])) > 0
    for a, b in zip(spikes["native"], spikes["brian2"]):
        np.testing.assert_allclose(a, b)


def test_tau_m_set_between_runs_on_brian2_runtime_gives_native_spikes():
    """Issue 22 (g): tau_m changes an IF_curr_exp population's weights (nA x r, r = tau_m/cm);
    the spikes on their way at the change bring the weight they were sent with on both."""
    def session(exc, inh):
        sim.run(30.0)
        exc.set(tau_m=12.0)
        inh.set(tau_m=30.0)
        sim.run(60.0)

    spikes = native_and_brian2_runtime_spikes(session)
    assert sum(map(len, spikes["native"])) > 0
    for a, b in zip(spikes["native"], spikes["brian2"]):
        np.testing.assert_array_equal(a, b)
