"""Results on disk as a user meets them (real processes): a failed or killed command never
damages an earlier result, outputs are checked before any work, reruns never mix runs,
damaged result files are named in one line."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from spikecore.cli import main

ROOT = Path(__file__).resolve().parents[2]
MODEL = """
name: tiny
duration: 50 ms
populations:
  n: {size: 2, model: lif_delta, params: {tau_mem: 10 ms, v_leak: 0 mV, v_threshold: 5 mV, v_reset: 0 mV}}
currents:
  c: {target: n, amplitude: 100 pA}
"""
MONITOR = """
monitors:
  vm: {type: state, target: n, variables: [v], interval: 1 ms}
"""
READ_ONLY = ["/proc/spikecore_test/R", "/sys/spikecore_test_R"]   # refused even to root


def cli(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}   # this tree's spikecore from any working directory
    return subprocess.run([sys.executable, "-m", "spikecore", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=600)


def one_line_error(p, *needles):
    lines = [ln for ln in p.stderr.strip().splitlines() if ln]
    assert p.returncode == 2, p.stderr
    assert len(lines) == 1 and "Traceback" not in p.stderr and "internal error" not in p.stderr, p.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def snapshot(directory: Path) -> dict:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def leftovers(directory: Path) -> list:
    return sorted(p.name for p in directory.parent.iterdir() if p.name.startswith((directory.name + ".tmp-",
                                                                                   directory.name + ".old-")))


@pytest.fixture
def model(tmp_path):
    m = tmp_path / "m.yaml"
    m.write_text(MODEL + MONITOR)
    return m


@pytest.fixture(scope="module")
def written_once(tmp_path_factory):
    base = tmp_path_factory.mktemp("written_once")
    (base / "m.yaml").write_text(MODEL + MONITOR)
    p = cli("run", base / "m.yaml", "--out", base / "R")
    assert p.returncode == 0, p.stderr
    return base / "R"


@pytest.fixture
def result(tmp_path, model, written_once):
    """A fresh copy of one `spikecore run` result (with traces and raster.png)."""
    return Path(shutil.copytree(written_once, tmp_path / "R"))


# ----------------------------------------------------------------------------- item 1: failures
def test_a_failed_run_leaves_the_earlier_result_intact(result, model):
    before = snapshot(result)
    p = cli("run", model, "--duration", "0.05ms", "--out", result)   # fails (a duration under half a step)
    assert p.returncode != 0
    assert snapshot(result) == before and leftovers(result) == []
    assert json.loads((result / "summary.json").read_text())["populations"]["n"]["spikes"] > 0


def test_memory_error_while_saving_leaves_the_earlier_result_intact(result, model, monkeypatch, capsys):
    before = snapshot(result)

    def savez(*args, **kwargs):
        raise MemoryError("simulated")

    monkeypatch.setattr(np, "savez", savez)
    assert main(["run", str(model), "--out", str(result)]) != 0
    capsys.readouterr()
    assert snapshot(result) == before and leftovers(result) == []


def test_a_killed_run_leaves_the_result_and_the_next_command_cleans_up(result, model, tmp_path):
    before = snapshot(result)
    slow = cli_popen("run", "examples/cuba.yaml", "--duration", "30s", "--out", result)
    try:
        while not leftovers(result):                      # the staging directory appears before the work
            assert slow.poll() is None, "the run ended without a staging directory: " + slow.stderr.read()
            time.sleep(0.05)
    finally:
        os.kill(slow.pid, signal.SIGKILL)                 # cannot be handled: only cleaned up after
        slow.wait()
    assert snapshot(result) == before and leftovers(result)
    p = cli("plot", result, "-o", tmp_path / "fig.png")   # any command touching R repairs it
    assert p.returncode == 0, p.stderr
    assert leftovers(result) == [] and snapshot(result) == before


def cli_popen(*args):
    return subprocess.Popen([sys.executable, "-m", "spikecore", *map(str, args)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)


def test_an_interrupted_swap_is_finished_by_the_next_command(result, tmp_path):
    """What a writer killed between its two renames leaves: R gone, R.old-ID and a complete R.tmp-ID."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    run = f"20260101T000000Z-{child.pid}-abcdef"
    new = tmp_path / f"R.tmp-{run}"
    p = cli("run", tmp_path / "m.yaml", "--seed", "7", "--no-plot", "--out", tmp_path / "other")
    assert p.returncode == 0, p.stderr
    (tmp_path / "other").rename(new)
    result.rename(tmp_path / f"R.old-{run}")
    p = cli("export", result, "-o", tmp_path / "r.nix")
    assert p.returncode == 0, p.stderr
    assert json.loads((result / "summary.json").read_text())["seed"] == 7 and leftovers(result) == []


# ----------------------------------------------------------------------------- item 2: outputs first
@pytest.mark.parametrize("bad", ["afile", "afile/R", READ_ONLY[0]])
def test_run_realises_nothing_before_out_is_checked(tmp_path, monkeypatch, capsys, bad):
    import spikecore.network

    (tmp_path / "afile").write_text("mine")
    realised = []
    real_to_ir = spikecore.network.Network.to_ir

    def recording_to_ir(self, *args, **kwargs):          # the real method, with a note that it ran
        realised.append(self.name)
        return real_to_ir(self, *args, **kwargs)

    monkeypatch.setattr(spikecore.network.Network, "to_ir", recording_to_ir)
    out = bad if bad.startswith("/") else str(tmp_path / bad)
    assert main(["run", str(ROOT / "examples" / "brunel.yaml"), "--duration", "5s", "--out", out]) == 2
    assert realised == [] and "--out" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "mine"


@pytest.mark.parametrize("where", READ_ONLY)
def test_run_out_in_a_read_only_system_location_fails_before_simulating(where):
    p = cli("run", "examples/brunel.yaml", "--duration", "5s", "--out", where)
    one_line_error(p, "--out", where, "writable")


@pytest.mark.parametrize("where", READ_ONLY)
def test_precision_out_is_checked_before_the_sweeps(where):
    p = cli("precision", "--task", "digits", "--quick", "--jobs", "1", "--out", where)
    one_line_error(p, "--out", where, "writable")


def test_precision_out_that_is_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    p = cli("precision", "--task", "digits", "--quick", "--jobs", "1", "--out", afile)
    one_line_error(p, "--out", "a directory")


def test_compare_out_is_checked_before_the_runs(model):
    p = cli("compare", model, "--backends", "native,brian2", "--duration", "5s", "--out", READ_ONLY[0])
    one_line_error(p, "--out", "writable")


def test_deploy_out_is_checked_before_building(model):
    pytest.importorskip("lava")
    p = cli("deploy", model, "--target", "lava-sim", "--policy", "approximate", "--out", READ_ONLY[1])
    one_line_error(p, "--out", "writable")


def test_export_and_plot_outputs_are_checked(result, model):
    one_line_error(cli("export", model, "-o", READ_ONLY[0] + ".nir"), "--output", "writable")
    one_line_error(cli("export", result, "-o", READ_ONLY[1] + ".nix"), "--output", "writable")
    one_line_error(cli("plot", result, "-o", READ_ONLY[1] + ".png"), "--output", "writable")


def test_a_directory_with_other_files_is_not_replaced(tmp_path, model):
    p = cli("run", model, "--out", tmp_path)                 # tmp_path holds m.yaml
    one_line_error(p, "--out", "m.yaml")
    assert model.read_text() == MODEL + MONITOR


# ----------------------------------------------------------------------------- item 3: names
def test_a_model_name_cannot_lead_outside_results(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for name in ("../../x", str(tmp_path / "abs")):
        m = tmp_path / "bad.yaml"
        m.write_text(MODEL.replace("name: tiny", f"name: {name}"))
        p = cli("run", m, "--no-plot", cwd=work)
        one_line_error(p, "bad.yaml", "name:")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "work"]
    assert list(work.iterdir()) == []


# ----------------------------------------------------------------------------- item 4: reruns
def test_rerun_never_mixes_runs(result, tmp_path):
    assert cli("plot", result).returncode == 0
    assert {"traces.npz", "raster.png", "overview.png"} <= {p.name for p in result.iterdir()}
    plain = tmp_path / "plain.yaml"
    plain.write_text(MODEL)                                  # no monitor: no traces
    p = cli("run", plain, "--seed", "5", "--no-plot", "--out", result)
    assert p.returncode == 0, p.stderr
    assert sorted(p.name for p in result.iterdir()) == ["manifest.json", "spikes.npz", "summary.json"]
    p = cli("export", result, "-o", tmp_path / "r.nix")
    assert p.returncode == 0 and "0 analog signals" in p.stdout, p.stdout + p.stderr


# ----------------------------------------------------------------------------- item 9: damaged files
def test_truncated_spikes_are_one_line_naming_the_file(result):
    spikes = result / "spikes.npz"
    spikes.write_bytes(spikes.read_bytes()[:100])
    for args in (("plot", result), ("export", result, "--format", "neo")):
        one_line_error(cli(*args), str(spikes))


def test_truncated_spikes_with_a_matching_manifest_are_named(result):
    spikes = result / "spikes.npz"
    spikes.write_bytes(spikes.read_bytes()[:100])
    manifest = json.loads((result / "manifest.json").read_text())
    manifest["files"]["spikes.npz"]["bytes"] = 100
    (result / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(cli("plot", result), str(spikes), "BadZipFile")


def test_summary_naming_a_population_spikes_lack_is_named(result):
    summary = result / "summary.json"
    s = json.loads(summary.read_text())
    s["populations"]["ghost"] = dict(s["populations"]["n"])
    summary.write_text(json.dumps(s))
    manifest = json.loads((result / "manifest.json").read_text())
    manifest["files"]["summary.json"]["bytes"] = summary.stat().st_size
    (result / "manifest.json").write_text(json.dumps(manifest))
    one_line_error(cli("plot", result), str(result / "spikes.npz"), "ghost")


def test_a_result_without_manifest_is_refused_by_readers(result):
    (result / "manifest.json").unlink()
    one_line_error(cli("plot", result), "manifest.json")
