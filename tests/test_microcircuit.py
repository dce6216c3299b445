"""The cortical microcircuit example (Potjans & Diesmann 2014): the model files are what
examples/microcircuit.py writes, with the parameters and derived numbers of INM-6's PyNEST
implementation (PyPI microcircuit 1.0), and, at scale 0.1, the network's activity matches
NEST 3.10 running that implementation (slow)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from spikecore.io import load_network

ROOT = Path(__file__).resolve().parents[1]


def _module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


GEN = _module("microcircuit_generator", ROOT / "examples" / "microcircuit.py")


@pytest.mark.parametrize("name,args", [("microcircuit.yaml", []), ("microcircuit_small.yaml", ["--scale", "0.1"])])
def test_example_files_are_what_the_generator_writes(tmp_path, name, args):
    GEN.main([*args, "-o", str(tmp_path / name)])
    assert (ROOT / "examples" / name).read_text() == (tmp_path / name).read_text()


def _package_network(scale, drive, thalamus, tmp_path):
    """The PyPI package's own derivation (its Network derives every number on construction)."""
    pytest.importorskip("nest")
    from microcircuit.network import Network
    from microcircuit.network_params import default_net_dict
    from microcircuit.sim_params import default_sim_dict
    from microcircuit.stimulus_params import default_stim_dict

    net_dict = dict(default_net_dict, N_scaling=scale, K_scaling=scale, bg_input_type=drive)
    sim_dict = dict(default_sim_dict, data_path=str(tmp_path) + "/", local_num_threads=1, print_time=False)
    return Network(sim_dict, net_dict, dict(default_stim_dict, thalamic_input=thalamus)), net_dict


@pytest.mark.parametrize("scale,drive,thalamus", [(1.0, "poisson", False), (1.0, "dc", True), (0.1, "poisson", True)])
def test_parameters_and_derived_numbers_are_the_packages(tmp_path, scale, drive, thalamus):
    pkg, net_dict = _package_network(scale, drive, thalamus, tmp_path)
    ours = GEN.derive(scale, drive, thalamus)
    assert np.array_equal(ours["sizes"], pkg.num_neurons)
    assert np.array_equal(ours["synapses"], pkg.num_synapses)
    assert np.allclose(ours["weights"], pkg.weight_matrix_mean, rtol=1e-12)
    assert np.isclose(ours["weight_ext"], pkg.weight_ext, rtol=1e-12)
    assert np.allclose(ours["dc"], pkg.DC_amp, rtol=1e-12, atol=1e-12)
    assert np.array_equal(ours["ext_indegrees"], pkg.ext_indegrees)
    if thalamus:
        assert np.array_equal(ours["thalamus"]["synapses"], pkg.num_th_synapses)
        assert np.isclose(ours["thalamus"]["weight"], pkg.weight_th, rtol=1e-12)
    p = net_dict["neuron_params"]
    assert (GEN.E_L, GEN.V_TH, GEN.V_RESET, GEN.C_M, GEN.TAU_M, GEN.TAU_SYN, GEN.T_REF) == (
        p["E_L"], p["V_th"], p["V_reset"], p["C_m"], p["tau_m"], p["tau_syn"], p["t_ref"])
    assert GEN.V0_MEAN == p["V0_mean"]["optimized"] and GEN.V0_STD == p["V0_std"]["optimized"]
    assert (GEN.DELAY_EXC_MEAN, GEN.DELAY_INH_MEAN, GEN.DELAY_REL_STD, GEN.WEIGHT_REL_STD, GEN.BG_RATE,
            GEN.DELAY_POISSON) == (net_dict["delay_exc_mean"], net_dict["delay_inh_mean"], net_dict["delay_rel_std"],
                                   net_dict["weight_rel_std"], net_dict["bg_rate"], net_dict["delay_poisson"])


def test_full_scale_file_describes_the_published_model():
    net = load_network(ROOT / "examples" / "microcircuit.yaml")
    assert sum(p.size for p in net.populations.values()) == 77169
    recurrent = {n: pr for n, pr in net.projections.items() if pr.pre_name in net.populations}
    total = sum(pr.connector.expected_synapses(0, 0, False) for pr in recurrent.values())
    assert 2.9e8 < total < 3.0e8                              # "about 3 10^8 synapses"
    assert all(isinstance(pr.connector, sc.FixedTotalNumber) and pr.connector.allow_multapses
               for pr in recurrent.values())
    # float32 weights: the engine's packed table, 8 B per synapse
    assert all(pr.weight_precision == "float32" for pr in recurrent.values())
    # doubled L4e -> L2/3e weight, sign kept by redrawing at 0, delays redrawn below half a step
    w = {n: pr.weight for n, pr in recurrent.items()}
    assert float(w["L4e_L23e"].mean.split()[0]) == pytest.approx(2 * float(w["L23e_L23e"].mean.split()[0]))
    for n, pr in recurrent.items():
        inhibitory = pr.pre_name.endswith("i")
        assert (pr.weight.high, pr.weight.low) == (("0 pA", None) if inhibitory else (None, "0 pA")), n
        assert pr.delay.low == "0.05 ms" and pr.delay.mean == ("0.75 ms" if inhibitory else "1.5 ms"), n
    bg = {n: pr for n, pr in net.projections.items() if n.startswith("bg_to_")}
    assert len(bg) == 8 and all(isinstance(pr.connector, sc.OneToOne) for pr in bg.values())
    assert net.sources["bg_L6e"].rate == "23200 Hz"           # K_ext 2900 inputs at 8 Hz


def test_small_file_realises_with_exact_totals_and_kept_signs():
    g = load_network(ROOT / "examples" / "microcircuit_small.yaml").to_ir()
    d = GEN.derive(0.1)
    for t, post in enumerate(GEN.NAMES):
        for s, pre in enumerate(GEN.NAMES):
            name = f"{pre}_{post}"
            if d["synapses"][t, s] == 0:
                assert name not in g.projections
                continue
            e = g.projections[name]
            assert e.n_synapses == d["synapses"][t, s]
            assert (e.weight <= 0).all() if pre.endswith("i") else (e.weight >= 0).all()
            assert e.delay.min() >= 1e-4 - 1e-15
    assert g.n_neurons == 7717 and g.dt == pytest.approx(1e-4)


def test_dc_drive_and_thalamic_variants(tmp_path):
    path = tmp_path / "mc.yaml"
    path.write_text(GEN.model_file(scale=0.1, drive="dc", thalamus=True))
    net = load_network(path)
    g = net.to_ir()
    d = GEN.derive(0.1, "dc", True)
    assert set(g.poisson_sources) == {"thalamus"}                     # no Poisson background
    th = g.poisson_sources["thalamus"]
    assert (th.size, th.start, th.stop) == (902, pytest.approx(0.7), pytest.approx(0.71))
    assert {n for n in g.projections if n.startswith("th_to_")} == {"th_to_L4e", "th_to_L4i", "th_to_L6e", "th_to_L6i"}
    assert g.projections["th_to_L4e"].n_synapses == d["thalamus"]["synapses"][2]
    for k, name in enumerate(GEN.NAMES):
        assert g.populations[name].params["bias"] == pytest.approx(d["dc"][k] * 1e-12)
    with pytest.raises(SystemExit):
        GEN.main(["--scale", "2"])


REFERENCE = ROOT / "benchmarks" / "data" / "microcircuit_nest_0.1.json"


@pytest.mark.slow
@pytest.mark.long      # 16 network seeds: tens of minutes on 2 cores (make test-long)
def test_scale_01_activity_is_nests_and_asynchronous_irregular():
    """Per population, the mean over network seeds of the rate (within 5 %) and of the CV of ISI
    (within 0.05) as NEST 3.10 running the PyPI package (benchmarks/data/microcircuit_nest_0.1.json,
    written by benchmarks/microcircuit.py); every population of every run asynchronous-irregular."""
    from benchmarks import microcircuit as mc

    ref = json.loads(REFERENCE.read_text())
    assert ref["scale"] == 0.1 and len(ref["runs"]) >= 8
    native = [mc.run_native(0.1, seed, ref["threads"], ref["presim_s"], ref["sim_s"]) for seed in range(1, 17)]
    assert mc.compare(native, ref["runs"]) == []
    for run in native + ref["runs"]:
        assert mc.asynchronous_irregular(run) == []


@pytest.mark.slow      # 16 runs of 1.5 simulated s at scale 0.1: minutes on 2 cores
def test_scale_01_rates_with_per_target_streams_are_the_default_streams():
    """examples/microcircuit.py --streams per_target (weights and delays from per-target streams, so
    MPI ranks draw only their own neurons' synapses) is the same model: over 8 network seeds, per
    population, the mean rate within 5 % and the mean CV of ISI within 0.05 of the default
    stream's (benchmarks.microcircuit.compare, the bar the native-vs-NEST check uses); every
    population of every run asynchronous-irregular."""
    from benchmarks import microcircuit as mc

    runs = {streams: [mc.run_native(0.1, seed, 1, 0.5, 1.0, streams=streams) for seed in range(1, 9)]
            for streams in ("projection", "per_target")}
    assert mc.compare(runs["per_target"], runs["projection"]) == []
    for run in runs["per_target"] + runs["projection"]:
        assert mc.asynchronous_irregular(run) == []


def test_per_target_variant_differs_only_by_the_streams_key(tmp_path):
    """--streams per_target adds streams: per_target to every recurrent projection and nothing else;
    the example files keep the default stream; a bad value is refused by the generator."""
    GEN.main(["--scale", "0.1", "--streams", "per_target", "-o", str(tmp_path / "mc.yaml")])
    text = (tmp_path / "mc.yaml").read_text()
    small = (ROOT / "examples" / "microcircuit_small.yaml").read_text()
    assert text.count("streams: per_target") == 55 and "streams" not in small
    assert text.replace(", streams: per_target", "").replace(", per-target streams", "") == small
    with pytest.raises(SystemExit):
        GEN.main(["--streams", "per_neuron"])


@pytest.mark.slow
def test_recorded_nest_reference_is_what_nest_computes():
    """NEST is deterministic for a seed and a thread count: one seed rerun live gives the recorded numbers."""
    pytest.importorskip("nest")
    from benchmarks import microcircuit as mc

    ref = json.loads(REFERENCE.read_text())
    recorded = ref["runs"][0]
    live = mc.run_nest(ref["scale"], recorded["seed"], ref["threads"], ref["presim_s"], ref["sim_s"])
    assert live["n_synapses"] == recorded["n_synapses"]
    for name in mc.NAMES:
        assert live["stats"][name]["spikes"] == recorded["stats"][name]["spikes"]
        assert live["stats"][name]["cv_isi"] == pytest.approx(recorded["stats"][name]["cv_isi"], rel=1e-12)
