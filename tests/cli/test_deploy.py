"""``spikecore deploy MODEL --target lava-sim|loihi2 --out DIR`` and ``spikecore run --backend lava``."""
from __future__ import annotations

import json

import numpy as np

from spikecore.cli import main
from spikecore.network import FixedProbability, Network, PoissonSource, SpikeSource
from spikecore.result import Result


def model_file(tmp_path, t_refrac="0 ms"):
    net = Network("depcli", dt="0.1 ms", duration="10 ms", seed=4)
    params = {"tau_mem": "10 ms", "v_leak": "-49 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
              "t_refrac": t_refrac, "tau_syn": {"exc": "5 ms", "inh": "5 ms"}}
    net.population("e", 20, "lif_cuba", params)
    net.population("i", 5, "lif_cuba", params)
    net.add(PoissonSource(10, "500 Hz", name="p"))
    net.add(SpikeSource(spike_times=[["1 ms"]], name="s"))
    net.project("p", "e", FixedProbability(0.5), weight="2 mV", delay="0.1 ms", receptor="exc")
    net.project("s", "i", FixedProbability(1.0), weight="9 mV", delay="0.2 ms", receptor="exc")
    net.project("e", "i", FixedProbability(0.3), weight="1 mV", delay="0.3 ms", receptor="exc")
    net.project("i", "e", FixedProbability(0.3), weight="-3 mV", delay="0.1 ms", receptor="inh")
    path = tmp_path / "m.yaml"
    net.save(path)
    return str(path)


def test_deploy_lava_sim_writes_deploy_json(tmp_path, capsys):
    out = tmp_path / "dep"
    assert main(["deploy", model_file(tmp_path), "--target", "lava-sim", "--out", str(out)]) == 0
    doc = json.loads((out / "deploy.json").read_text())
    assert doc["target"] == "lava-sim" and doc["format"] == "fixed"
    assert doc["run_config"] == "Loihi2SimCfg(select_tag='fixed_pt')"
    assert doc["neurons"] == 25
    assert doc["process_counts"]["LIF"] == 1           # e and i share du, dv, vth: one process
    lif = doc["lif_groups"][0]
    assert [p["name"] for p in lif["populations"]] == ["e", "i"]
    assert {c["type"] for c in doc["connections"]} <= {"Dense", "Sparse", "DelayDense", "DelaySparse"}
    assert sum(c["synapses"] for c in doc["connections"]) == doc["synapses"]
    bits = doc["bit_usage"]["populations"]["e"]
    assert bits["du"]["width"] == 12 and bits["vth"]["value"] == 32768 and bits["vth"]["used"] == 16
    assert all(p["delay"]["width"] == 6 for p in doc["bit_usage"]["projections"].values())
    assert "clipped_or_truncated" in doc and doc["approximations"] == []
    assert "depcli -> lava-sim (fixed)" in capsys.readouterr().out


def test_deploy_refuses_unrepresentable_unless_approximate(tmp_path, capsys):
    model = model_file(tmp_path, t_refrac="2 ms")
    assert main(["deploy", model, "--target", "lava-sim", "--out", str(tmp_path / "x")]) == 2
    assert "refractory period in fixed point" in capsys.readouterr().err
    assert main(["deploy", model, "--target", "lava-sim", "--out", str(tmp_path / "y"), "--policy",
                 "approximate"]) == 0
    doc = json.loads((tmp_path / "y" / "deploy.json").read_text())
    assert any("refractory" in a for a in doc["approximations"])


def test_deploy_loihi2_without_the_proprietary_extension_says_so(tmp_path, capsys):
    assert main(["deploy", model_file(tmp_path), "--target", "loihi2", "--out", str(tmp_path / "hw")]) == 2
    err = capsys.readouterr().err
    assert "lava-loihi" in err and "not installed" in err and "NameError" not in err
    assert err.count("\n") == 1
    assert not (tmp_path / "hw" / "deploy.json").exists()


def test_run_backend_lava_writes_the_common_result_files(tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["run", model_file(tmp_path), "--backend", "lava", "--format", "fixed", "--duration", "5ms",
                 "--out", str(out), "--no-plot"]) == 0
    res = Result.load(out)
    assert res.backend == "lava" and res.options["format"] == "fixed"
    assert set(res.spikes) == {"e", "i"} and res.duration == 0.005
    summary = json.loads((out / "summary.json").read_text())
    assert summary["format"] == "fixed" and summary["lava"]["processes"]["LIF"] == 1
    assert np.all(np.diff(res.spikes["e"][0]) >= 0)
