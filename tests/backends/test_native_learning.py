"""The native engine's Loihi mode on plastic networks (backends/_native_learning.py): the Lava
backend's fixed-point plan run by the learning emulator. Against Lava itself (the Result: spikes,
final u and v, learnt weights, approximations; and at the CLI, weights.npz and spikes.npz bit for
bit), recurrent static projections with synaptic delays beside a plastic one, and the wiring without
Lava: the LearningNet built from the plan, the weights in SI, the refusals in one line."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from backends import _native_learning as nl
from backends import get_backend
from hwmodels.loihi_plan import plan
from spikecore.engine.loihi_learning import DenseConn, LearningDenseConn, LearningEmulator
from spikecore.errors import UnsupportedFeature
from spikecore.io import load_network

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OPTS = {"format": "loihi", "policy": "approximate"}


def cli(*args):
    return subprocess.run([sys.executable, "-m", "spikecore", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def example_ir(name):
    return load_network(EXAMPLES / f"{name}.yaml").to_ir()


def signal_net():
    """examples/loihi_three_factor.yaml with a signal as the third factor instead of the teacher."""
    net = load_network(EXAMPLES / "loihi_three_factor.yaml")
    g = net.to_ir()
    p = dict(g.projections["plastic"].plasticity)
    del p["modulator"], p["tau_d"], p["d_increment"]
    p["signal"] = (np.array([0.0, 0.2]), np.array([0.0, 20.0]))
    g.projections["plastic"].plasticity = p
    return g


# -- against Lava ---------------------------------------------------------------------------

def _cli_files(tmp_path, example, backend, fmt):
    out = tmp_path / f"{example}_{backend}"
    done = cli("run", EXAMPLES / f"{example}.yaml", "--backend", backend, "--format", fmt, "--policy", "approximate",
               "--out", out, "--no-plot")
    assert done.returncode == 0, done.stderr
    return np.load(out / "weights.npz"), np.load(out / "spikes.npz")


@pytest.mark.parametrize("example", ["loihi_stdp", "loihi_stdp_sparse", "loihi_stdp_recurrent",
                                     pytest.param("loihi_three_factor", marks=pytest.mark.slow)])
def test_cli_native_loihi_gives_lava_fixeds_weights_bit_for_bit(tmp_path, example):
    """loihi_stdp_sparse: two LearningSparse (sign modes excitatory and inhibitory) on the Lava
    backend, run by its patched LearningSparse model."""
    w_nat, s_nat = _cli_files(tmp_path, example, "native", "loihi")
    w_lava, s_lava = _cli_files(tmp_path, example, "lava", "fixed")
    g = example_ir(example)
    plastic = sorted(f"{name}.final" for name, e in g.projections.items() if e.plasticity is not None)
    keys = sorted(k for k in w_lava.files if k != "run_id")
    assert keys == plastic and sorted(k for k in w_nat.files if k != "run_id") == keys
    for k in keys:
        np.testing.assert_array_equal(w_nat[k], w_lava[k])
        w0 = g.projections[k.split(".")[0]].weight
        assert np.abs(w_nat[k] - w0).max() > 1e-4     # it learnt (volts: > 0.1 mV)
    spiked = 0
    for k in s_lava.files:
        if k != "run_id":
            np.testing.assert_array_equal(s_nat[k], s_lava[k])
            spiked += s_lava[k].size
    assert spiked > 0


def test_sparse_example_deploys_learning_sparse_with_both_sign_modes():
    p = plan(example_ir("loihi_stdp_sparse"), "fixed", "approximate")
    learning = {c.projections[0]: (c.process, c.sign_mode) for c in p.conns if c.learning is not None}
    assert learning == {"plastic": ("LearningSparse", "exc"), "plastic_inh": ("LearningSparse", "inh")}


@pytest.mark.parametrize("make", [lambda: example_ir("loihi_three_factor"), signal_net],
                         ids=["modulator", "signal"])
def test_result_spikes_final_state_weights_and_approximations_equal_lavas(make):
    g = make()
    ours = get_backend("native").compile(g, **OPTS).run(0.3)
    ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(0.3)
    np.testing.assert_array_equal(ours.weights["plastic"]["final"], ref.weights["plastic"]["final"])
    for pop in ref.spikes:
        np.testing.assert_array_equal(ours.spikes[pop][0], ref.spikes[pop][0])
        np.testing.assert_array_equal(ours.spikes[pop][1], ref.spikes[pop][1])
    assert set(ours.final_state) == set(ref.final_state) == {"post"}
    for var in ("u", "v"):
        np.testing.assert_array_equal(ours.final_state["post"][var], ref.final_state["post"][var])
    assert ours.approximations == ref.approximations and ours.approximations


def _recurrent_without(*names):
    g = example_ir("loihi_stdp_recurrent")
    for name in names:
        del g.projections[name]
    return g


def test_recurrent_static_projections_with_delays_equal_lavas():
    """examples/loihi_stdp_recurrent.yaml: E->E, E->I, I->E with delays of 1-6 steps (DelayDense)
    beside the plastic projection: weights, spikes and final u, v as Lava's, and the recurrent
    projections change what happens (without them the spikes and weights differ)."""
    g = example_ir("loihi_stdp_recurrent")
    assert {c.process for c in plan(g, "fixed", "approximate").conns if c.learning is None} == {"Dense", "DelayDense"}
    ours = get_backend("native").compile(g, **OPTS).run(0.4)
    ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(0.4)
    np.testing.assert_array_equal(ours.weights["plastic"]["final"], ref.weights["plastic"]["final"])
    for pop in ("E", "I"):
        assert ref.spikes[pop][0].size > 20
        np.testing.assert_array_equal(ours.spikes[pop][0], ref.spikes[pop][0])
        np.testing.assert_array_equal(ours.spikes[pop][1], ref.spikes[pop][1])
        for var in ("u", "v"):
            np.testing.assert_array_equal(ours.final_state[pop][var], ref.final_state[pop][var])
    assert ours.approximations == ref.approximations
    alone = get_backend("native").compile(_recurrent_without("EE", "IE"), **OPTS).run(0.4)
    assert not np.array_equal(alone.spikes["E"][0], ours.spikes["E"][0])
    assert not np.array_equal(alone.weights["plastic"]["final"], ours.weights["plastic"]["final"])


def test_state_monitors_equal_lavas_read_back():
    """State monitors (v, and syn_exc: Loihi's u) at two intervals on the recurrent example: the
    emulator records u, v where the Lava backend's StateRecorders read them, and both convert
    alike (hwmodels.loihi_plan.state_traces): the traces are equal, NaN-free."""
    net = load_network(EXAMPLES / "loihi_stdp_recurrent.yaml")
    net.add(sc.StateMonitor("E", ("v", "syn_exc"), neurons=[0, 3, 5], interval="1 ms", name="vm"))
    net.add(sc.StateMonitor("I", ("v",), interval="3 ms", name="vi"))
    g = net.to_ir()
    ours = get_backend("native").compile(g, **OPTS).run(0.3)
    ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(0.3)
    for m, vars_, n in (("vm", ("v", "syn_exc"), 300), ("vi", ("v",), 100)):
        np.testing.assert_array_equal(ours.traces[m]["times"], ref.traces[m]["times"])
        assert set(ours.traces[m]["variables"]) == set(vars_)
        for var in vars_:
            a = ours.traces[m]["variables"][var]
            assert a.shape[0] == n and np.isfinite(a).all() and np.ptp(a) > 0
            np.testing.assert_array_equal(a, ref.traces[m]["variables"][var])


def assert_recurrent_results_equal(ours, ref):
    """The recurrent example's plastic weights, spikes of E and I, and final u and v, bit for bit."""
    np.testing.assert_array_equal(ours.weights["plastic"]["final"], ref.weights["plastic"]["final"])
    for pop in ("E", "I"):
        np.testing.assert_array_equal(ours.spikes[pop][0], ref.spikes[pop][0])
        np.testing.assert_array_equal(ours.spikes[pop][1], ref.spikes[pop][1])
        for var in ("u", "v"):
            np.testing.assert_array_equal(ours.final_state[pop][var], ref.final_state[pop][var])


def test_injected_currents_become_lavas_biases_and_equal_lava():
    """Currents (piecewise constant, on some neurons of E and on I) become bias_mant changes at
    the steps the Lava backend sets them: spikes, weights, final u, v and a v trace as Lava's,
    and the currents change the run."""
    net = load_network(EXAMPLES / "loihi_stdp_recurrent.yaml")
    net.add(sc.CurrentSource("E", steps=[("0 ms", "0 pA"), ("100 ms", "150 pA"), ("200 ms", "-100 pA")],
                             neurons=[0, 1, 2, 3], name="step"))
    net.add(sc.CurrentSource("I", steps=[("0 ms", "0 pA"), ("50 ms", "300 pA")], name="kick"))
    net.add(sc.StateMonitor("E", ("v",), neurons=[0, 5], interval="1 ms", name="vm"))
    g = net.to_ir()
    ours = get_backend("native").compile(g, **OPTS).run(0.3)
    ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(0.3)
    assert_recurrent_results_equal(ours, ref)
    np.testing.assert_array_equal(ours.traces["vm"]["variables"]["v"], ref.traces["vm"]["variables"]["v"])
    base = get_backend("native").compile(example_ir("loihi_stdp_recurrent"), **OPTS).run(0.3)
    assert ours.spikes["I"][0].size > base.spikes["I"][0].size


def test_weight_monitor_samples_are_the_weights_lava_learns_by_then():
    """A weight monitor samples at the start of IR step n the weights after Lava step n: the
    sample at 200 ms of a 300 ms run is the final weights of Lava's 200 ms run (Lava itself
    samples the same between its run calls); the sample at 0 the initial weights on the mantissa grid."""
    syn = np.array([0, 5, 7, 30, 71])
    net = load_network(EXAMPLES / "loihi_stdp_recurrent.yaml")
    net.add(sc.WeightMonitor("plastic", synapses=syn, interval="100 ms", name="wm"))
    ours = get_backend("native").compile(net.to_ir(), **OPTS).run(0.3)
    w = ours.weights["plastic"]
    np.testing.assert_allclose(w["t"], [0.0, 0.1, 0.2])
    np.testing.assert_array_equal(w["synapses"], syn)
    g = example_ir("loihi_stdp_recurrent")
    ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(0.2)
    np.testing.assert_array_equal(w["w"][2], ref.weights["plastic"]["final"][syn])
    assert not np.array_equal(w["w"][2], w["w"][0])
    lm = plan(g, "fixed", "approximate").learning["plastic"]
    np.testing.assert_allclose(w["w"][0], np.rint(g.projections["plastic"].weight[syn] * lm.weight_to_lava)
                               / lm.weight_to_lava)
    # the Lava backend samples them too, reading its LearningDense's weights between run calls
    lava = get_backend("lava").compile(net.to_ir(), format="fixed", policy="approximate").run(0.3)
    for key in ("t", "w", "synapses", "final"):
        np.testing.assert_array_equal(lava.weights["plastic"][key], w[key])


def test_lava_samples_weights_of_sparse_and_three_factor_projections_as_the_emulator():
    """Weight monitors on the Lava backend at intervals that do not divide the run (and beside
    injected-current changes): LearningSparse and a three-factor LearningDense, equal to the
    native emulator's samples."""
    for name, interval in (("loihi_stdp_sparse", "70 ms"), ("loihi_three_factor", "45 ms")):
        net = load_network(EXAMPLES / f"{name}.yaml")
        proj = next(p for p, e in net.to_ir().projections.items() if e.plasticity is not None)
        net.add(sc.WeightMonitor(proj, synapses=[0, 1, 3], interval=interval, name="wm"))
        g = net.to_ir()
        ours = get_backend("native").compile(g, **OPTS).run(0.2)
        ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(0.2)
        assert ref.weights[proj]["t"].size == ours.weights[proj]["t"].size > 2
        for key in ("t", "w", "synapses", "final"):
            np.testing.assert_array_equal(ref.weights[proj][key], ours.weights[proj][key])


@pytest.mark.slow
def test_recurrent_example_2000_steps_equals_lava():
    """The recurrent example over 2 s (2,000 steps): weights, spikes, final u and v."""
    g = example_ir("loihi_stdp_recurrent")
    ours = get_backend("native").compile(g, **OPTS).run(2.0)
    ref = get_backend("lava").compile(g, format="fixed", policy="approximate").run(2.0)
    assert_recurrent_results_equal(ours, ref)


# -- the wiring, without Lava ---------------------------------------------------------------

def test_delayed_projections_become_delayed_dense_conns():
    """DelayDense / DelaySparse of the plan become DenseConns with the plan's delays (as
    backends/lava.py build passes them); Dense and Sparse have none."""
    g = example_ir("loihi_stdp_recurrent")
    p = plan(g, "fixed", "approximate")
    net = nl.learning_net(p, 10)
    by_name = {c.name: c for c in net.conns}
    for c in p.conns:
        if c.learning is not None:
            continue
        d = by_name[c.name].delays
        if c.process in ("DelayDense", "DelaySparse"):
            np.testing.assert_array_equal(d[c.rows, c.cols], c.delays)
            assert d.max() == c.max_delay > 0
        else:
            assert d is None
        assert by_name[c.name].sparse == (c.process in ("Sparse", "DelaySparse"))
    ee = p.ir.projections["EE"]
    assert by_name["EE"].delays[ee.j, ee.i].max() == np.rint(ee.delay / g.dt).max()

def test_plastic_network_runs_and_learns_in_the_loihi_mode():
    g = example_ir("loihi_stdp")
    res = get_backend("native").compile(g, **OPTS).run(0.4)
    w = res.weights["plastic"]["final"]
    assert w.shape == (18,) and not np.allclose(w, g.projections["plastic"].weight)
    # SI, on the mantissa grid of the rule's weight exponent: mantissa = w * weight_to_lava, whole
    lm = plan(g, "fixed", "approximate").learning["plastic"]
    m = w * lm.weight_to_lava
    np.testing.assert_allclose(m, np.rint(m), atol=1e-9)
    assert 0 <= m.min() and m.max() <= 255
    assert any("same-step pairs" in a for a in res.approximations)


def test_strict_policy_refuses_the_first_learning_approximation_in_one_line():
    with pytest.raises(UnsupportedFeature) as e:
        get_backend("native").compile(example_ir("loihi_stdp"), format="loihi", policy="strict")
    assert "native --format loihi" in str(e.value) and "\n" not in str(e.value)


def test_learning_net_mirrors_the_lava_plan():
    g = example_ir("loihi_three_factor")
    p = plan(g, "fixed", "approximate")
    net = nl.learning_net(p, 50)
    (grp,) = net.groups
    assert grp.reward and grp.reward_model == "reward_lif"
    assert grp.y2_decay == pytest.approx(np.exp(-1 / 50))               # tau_d = 50 steps
    assert {s.name for s in net.inputs} == {"src_pre", "src_teacher"}
    plastic = next(c for c in net.conns if isinstance(c, LearningDenseConn))
    assert plastic.sign_mode == "exc" and plastic.rule.__class__.__name__ == "Loihi3FLearningRule"
    third = [c for c in net.conns if isinstance(c, DenseConn) and c.port == "third_factor"]
    assert [c.pre for c in third] == ["src_teacher"] and third[0].num_message_bits > 0
    # the sources are sent shifted by their shortest delay (2 steps): column k = step k + 1 = IR step k - 2
    src = next(s for s in net.inputs if s.name == "src_pre")
    first = np.rint(g.spike_sources["pre"].times / g.dt).astype(int).min()
    assert np.flatnonzero(src.data.any(axis=0))[0] == first + 2


def test_signal_reaches_the_reward_neuron_in_its_step():
    """The signal's RingBuffer feeds the neuron's port directly in Lava; here a Dense fed one step
    earlier: y2 of the step the signal turns on is its value."""
    g = signal_net()
    p = plan(g, "fixed", "approximate")
    net = nl.learning_net(p, 300)
    sig = next(s for s in net.inputs if s.name.startswith("signal_"))
    on = np.flatnonzero(sig.data[0])[0]
    # Lava's RingBuffer holds it from column 201 (sent in step 202, read by the neuron in that step);
    # here from column 200: sent to the Dense in step 201, which delivers it in step 202
    assert on == 200
    res = LearningEmulator(net).run(300)
    top = p.reward_groups[net.groups[0].name].neuron["y2_top"]
    assert res.conns["plastic"]["y2"].max() == top


def test_integer_populations_with_plasticity_are_refused_in_one_line():
    g = example_ir("loihi_stdp")
    g.populations["post"].model = "loihi_lif"          # written in Loihi's integers
    with pytest.raises(UnsupportedFeature) as e:
        get_backend("native").compile(g, **OPTS)
    assert "'loihi_lif' populations" in str(e.value) and "\n" not in str(e.value)


def test_cli_refusal_is_one_line_exit_2(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text((EXAMPLES / "loihi_stdp.yaml").read_text())
    done = cli("run", model, "--backend", "native", "--format", "loihi", "--policy", "strict",
               "--out", tmp_path / "o", "--no-plot")
    assert done.returncode == 2 and "native --format loihi" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def _sparse_plastic_ir(example="loihi_stdp", zero_weight=False):
    """An example with half of its plastic synapses (at random) left out; ``zero_weight``: one
    synapse starting at weight 0."""
    g = example_ir(example)
    e = g.projections["plastic"]
    keep = np.random.default_rng(1).random(e.n_synapses) < 0.5
    for attr in ("i", "j", "weight", "delay"):
        setattr(e, attr, np.array(getattr(e, attr)[keep]))
    if zero_weight:
        e.weight[0] = 0.0
    return g


@pytest.mark.parametrize("fmt", ["fixed", "float"])
def test_a_sparse_plastic_projection_is_a_learning_sparse_without_the_absent_synapses_finding(fmt):
    p = plan(_sparse_plastic_ir(), fmt, "approximate")
    [c] = [c for c in p.conns if c.learning is not None]
    assert c.process == "LearningSparse" and c.rows.size < c.shape[0] * c.shape[1]
    assert not any(f.rule == "absent synapses learn" for f in p.findings)


def test_a_synapse_starting_at_weight_0_keeps_the_projection_a_learning_sparse_and_learns():
    """Lava's LearningSparse would drop a synapse whose initial fixed-point weight is 0 before it
    learns; the backend's patched model keeps it: the projection is a LearningSparse in both formats
    (no "absent synapses learn" finding, strict does not refuse it for that), the synapse learns and
    the absent entries stay 0 (the emulation of the native backend, as the patched model)."""
    g = _sparse_plastic_ir(zero_weight=True)
    for fmt in ("fixed", "float"):
        p = plan(g, fmt, "approximate")
        assert [c.process for c in p.conns if c.learning is not None] == ["LearningSparse"]
        assert not any("absent synapses" in a for a in p.approximations)
    p = plan(g, "fixed", "approximate")
    [c] = [c for c in p.conns if c.learning is not None]
    net = nl.learning_net(p, 300)
    [lc] = [k for k in net.conns if k.name == c.name]
    assert lc.keep_zero_weights and (np.asarray(lc.weights)[lc.synapses] == 0).sum() >= 1
    w = LearningEmulator(net).run(300).conns[c.name]["weights"]
    first = np.flatnonzero(c.synapse_index == 0)[0]
    assert w[c.rows[first], c.cols[first]] != 0                    # the synapse that started at 0 learned
    assert not w[~lc.synapses].any()                                # absent synapses stay absent


@pytest.mark.parametrize("example, zero_weight, process", [
    ("loihi_stdp", False, "LearningSparse"),
    ("loihi_stdp", True, "LearningSparse"),                # a synapse starting at 0 (patched model keeps it)
    ("loihi_three_factor", False, "LearningSparse"),       # a rule with the factor t
])
def test_sparse_plastic_projection_equals_lava(example, zero_weight, process):
    g = _sparse_plastic_ir(example, zero_weight)
    ours = get_backend("native").compile(g, **OPTS).run(0.3)
    exe = get_backend("lava").compile(g, format="fixed", policy="approximate")
    assert [c.process for c in exe.plan.conns if c.learning is not None] == [process]
    ref = exe.run(0.3)
    np.testing.assert_array_equal(ours.weights["plastic"]["final"], ref.weights["plastic"]["final"])
    assert np.abs(ours.weights["plastic"]["final"] - g.projections["plastic"].weight).max() > 1e-5
    np.testing.assert_array_equal(ours.spikes["post"][0], ref.spikes["post"][0])
    for var in ("u", "v"):
        np.testing.assert_array_equal(ours.final_state["post"][var], ref.final_state["post"][var])


def test_deploy_refuses_a_weight_monitor_in_one_line():
    """spikecore deploy builds the process graph without running it: nothing to sample."""
    from backends.lava import deploy
    net = load_network(EXAMPLES / "loihi_stdp.yaml")
    net.add(sc.WeightMonitor("plastic", synapses=[0], interval="10 ms", name="wm"))
    with pytest.raises(UnsupportedFeature, match="weight monitor wm") as e:
        deploy(net.to_ir(), format="fixed", policy="approximate")
    assert "\n" not in str(e.value)


def graded_net(cfg="use_regular_impulse", source="poisson"):
    """A Poisson source (about 1.5 spikes per step: graded counts) onto 2 targets through a raw Lava
    rule with ``graded_spike_cfg`` ``cfg``; a teacher makes the targets spike."""
    n = sc.Network(seed=1, dt="1 ms")
    if source == "poisson":
        n.add(sc.PoissonSource(4, "1500 Hz", name="drive"))
    else:
        n.add(sc.SpikeSource(spike_times=[[f"{s} ms" for s in range(2, 200, 5)]] * 4, name="drive"))
    n.add(sc.SpikeSource(spike_times=[[f"{s} ms" for s in range(3, 200, 7)]] * 2, name="teacher"))
    n.population("post", 2, "lif_cuba", {"tau_mem": "10 ms", "tau_syn": {"exc": "2 ms"}, "v_leak": "-70 mV",
                                         "v_threshold": "-55 mV", "v_reset": "-70 mV"})
    n.project("teacher", "post", sc.OneToOne(), weight="150 mV", delay="1 ms", name="teach")
    n.project("drive", "post", sc.AllToAll(), weight="0.2 mV", delay="1 ms", name="plastic",
              plasticity={"rule": "lava_rule", "dw": "2^-4 * x1 * y0 - 2^-5 * y1 * x0 + 2^-5 * x2 * y0",
                          "x1_impulse": 16, "x1_tau": 10, "x2_impulse": 8, "x2_tau": 5, "y1_impulse": 16,
                          "y1_tau": 10, "graded_spike_cfg": cfg})
    return n


@pytest.mark.parametrize("cfg", ["overwrite", "add_with_saturation", "add_without_saturation"])
def test_graded_spike_cfg_of_a_raw_rule_deploys_to_lava_and_equals_native(cfg):
    """A lava_rule's graded_spike_cfg on a projection from a Poisson source: the Lava backend's
    LearningDense gets Lava's GradedSpikeCfg, and native --format loihi emulates it bit for bit."""
    g = graded_net(cfg).to_ir()
    ours = get_backend("native").compile(g, **OPTS).run(0.2)
    exe = get_backend("lava").compile(g, format="fixed", policy="approximate")
    ref = exe.run(0.2)
    np.testing.assert_array_equal(ours.weights["plastic"]["final"], ref.weights["plastic"]["final"])
    np.testing.assert_array_equal(ours.spikes["post"][0], ref.spikes["post"][0])
    regular = get_backend("native").compile(graded_net().to_ir(), **OPTS).run(0.2)
    assert not np.array_equal(ours.weights["plastic"]["final"], regular.weights["plastic"]["final"])
    [lm] = exe.plan.learning.values()
    assert lm.graded_spike_cfg == cfg
    float_run = get_backend("lava").compile(g, format="float", policy="approximate").run(0.2)
    assert np.isfinite(float_run.weights["plastic"]["final"]).all()     # Lava's float model takes it too


def test_graded_spike_cfg_is_checked_and_needs_a_graded_projection():
    with pytest.raises(sc.errors.ValidationError,
                       match=r"plastic\.plasticity\.graded_spike_cfg: got 'add'.*overwrite, add_with_saturation"):
        graded_net("add")
    g = graded_net("overwrite", source="spike_times").to_ir()
    for backend, fmt in (("native", "loihi"), ("lava", "fixed")):
        with pytest.raises(sc.errors.ValidationError, match=r"plastic\.plasticity\.graded_spike_cfg.*Poisson"):
            get_backend(backend).compile(g, format=fmt, policy="approximate")


def test_cli_names_a_wrong_graded_spike_cfg_in_one_line(tmp_path):
    model = tmp_path / "m.yaml"
    text = (EXAMPLES / "loihi_stdp.yaml").read_text()
    plasticity = text[text.index("    plasticity:"):]
    model.write_text(text.replace(plasticity, "    plasticity: {rule: lava_rule, dw: '2^-2 * x1 * y0', x1_impulse: 16, "
                                              "x1_tau: 10, graded_spike_cfg: sideways}\n"))
    done = cli("run", model, "--backend", "native", "--format", "loihi", "--out", tmp_path / "o", "--no-plot")
    assert done.returncode == 2 and "graded_spike_cfg" in done.stderr and "add_without_saturation" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
