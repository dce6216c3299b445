"""Result directories and output files written whole or not at all (spikecore.io.results),
and the checks readers make before they combine files."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spikecore as sc
from spikecore.errors import ModelFileError, ValidationError
from spikecore.io import load_network
from spikecore.io.results import (MANIFEST_FILE, OutputFile, ResultDirectory, check_output_file, repair,
                                  verify_result_directory, write_manifest)
from spikecore.result import Result


def small_result(n_spikes=4, traces=True, model="x") -> Result:
    t = np.linspace(0.01, 0.4, n_spikes)
    tr = {"m": {"target": "a", "neurons": np.array([0]), "times": np.arange(5) * 1e-4,
                "variables": {"v": np.zeros((5, 1))}}} if traces else {}
    return Result(backend="native", duration=0.5, dt=1e-4, wall_s=0.1, sizes={"a": 3},
                  spikes={"a": (t, np.arange(n_spikes) % 3)}, traces=tr, seed=4, model=model)


def snapshot(directory: Path) -> dict:
    """Every file under ``directory`` with its bytes."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def siblings(directory: Path) -> list:
    return sorted(p.name for p in directory.parent.iterdir() if p.name != directory.name
                  and p.name.startswith((directory.name + ".", "." + directory.name)))


def dead_run_id() -> str:
    """A run id whose owner process has exited (and was reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return f"20260101T000000Z-{child.pid}-abcdef"


# ----------------------------------------------------------------------------- writing
def test_save_writes_manifest_last_and_run_id_in_every_data_file(tmp_path):
    out = small_result().save(tmp_path / "R")
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    assert set(manifest["files"]) == {"summary.json", "spikes.npz", "traces.npz"}
    for name, entry in manifest["files"].items():
        assert entry["bytes"] == (out / name).stat().st_size and len(entry["sha256"]) == 64
    run = manifest["run_id"]
    assert json.loads((out / "summary.json").read_text())["run_id"] == run
    assert str(np.load(out / "spikes.npz")["run_id"]) == run == str(np.load(out / "traces.npz")["run_id"])
    assert siblings(out) == []


def test_rerun_replaces_the_whole_directory(tmp_path):
    R = tmp_path / "R"
    with ResultDirectory(R, "run") as staging:            # a run with traces and a plot
        small_result(traces=True).write_files(staging.path, staging.run_id)
        (staging.path / "raster.png").write_bytes(b"old plot")
    small_result(n_spikes=7, traces=False).save(R)
    assert sorted(p.name for p in R.iterdir()) == ["manifest.json", "spikes.npz", "summary.json"]
    back = Result.load(R)
    assert back.traces == {} and back.spikes["a"][0].size == 7
    assert siblings(R) == []


@pytest.mark.parametrize("failure", [MemoryError, KeyboardInterrupt])
def test_failure_while_saving_leaves_the_earlier_result_byte_identical(tmp_path, monkeypatch, failure):
    R = tmp_path / "R"
    small_result().save(R)
    before = snapshot(R)

    def savez(*args, **kwargs):
        raise failure()

    monkeypatch.setattr(np, "savez", savez)
    with pytest.raises(failure):
        small_result(n_spikes=9).save(R)
    assert snapshot(R) == before and siblings(R) == []


def test_ctrl_c_between_the_two_renames_of_a_swap_waits_for_the_second(tmp_path, monkeypatch):
    R = tmp_path / "R"
    small_result(n_spikes=4).save(R)
    real_rename = os.rename

    def rename_then_interrupt(src, dst):
        real_rename(src, dst)
        if ".old-" in str(dst):                              # R has just moved aside
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(os, "rename", rename_then_interrupt)
    # Python's own Ctrl-C handler, whatever an earlier test's library (Brian2, Dask) left installed
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            small_result(n_spikes=6).save(R)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert Result.load(R).spikes["a"][0].size == 6 and siblings(R) == []


def test_result_directory_with_subdirectories_gives_each_its_manifest(tmp_path):
    with ResultDirectory(tmp_path / "C", "compare") as staging:
        for name in ("native", "brian2"):
            small_result(model=name).write_files(staging.subdirectory(name), staging.run_id)
        (staging.path / "compare.json").write_text("{}")
    top = json.loads((tmp_path / "C" / MANIFEST_FILE).read_text())
    assert {"compare.json", "native/summary.json", "native/manifest.json", "brian2/spikes.npz"} <= set(top["files"])
    assert Result.load(tmp_path / "C" / "brian2").model == "brian2"
    assert verify_result_directory(tmp_path / "C" / "native")["run_id"] == top["run_id"]


def test_a_directory_holding_other_files_is_refused_not_replaced(tmp_path):
    mine = tmp_path / "notes.txt"
    mine.write_text("keep me")
    with pytest.raises(ValidationError, match=r"out_dir: .*notes\.txt"):
        small_result().save(tmp_path)
    assert mine.read_text() == "keep me"
    R = tmp_path / "R"
    small_result().save(R)
    (R / "mine.txt").write_text("keep me too")              # added by hand to a result
    with pytest.raises(ValidationError, match="mine.txt"):
        small_result().save(R)
    assert (R / "mine.txt").read_text() == "keep me too"


def test_a_result_written_before_manifests_existed_is_replaced(tmp_path):
    R = tmp_path / "R"
    R.mkdir()
    for name in ("summary.json", "spikes.npz", "traces.npz", "raster.png"):
        (R / name).write_bytes(b"old")
    small_result(traces=False).save(R)
    assert sorted(p.name for p in R.iterdir()) == ["manifest.json", "spikes.npz", "summary.json"]


@pytest.mark.parametrize("bad", ["/proc/spikecore_test/R", "/sys/spikecore_test_R"])
def test_unwritable_locations_are_refused_naming_the_flag(bad):
    with pytest.raises(ValidationError, match="--out: got .*expected a writable directory"):
        ResultDirectory(bad, "run", flag="--out")
    with pytest.raises(ValidationError, match="--output: got .*expected a file in a writable directory"):
        check_output_file(bad + ".png", "--output")


def test_a_file_where_a_directory_is_needed(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(ValidationError, match="--out: .*a directory"):
        ResultDirectory(f, "run", flag="--out")
    with pytest.raises(ValidationError, match="--out: .*a file stands where a directory is needed"):
        ResultDirectory(f / "R", "run", flag="--out")
    with pytest.raises(ValidationError, match="--output: .*a directory of that name exists"):
        check_output_file(tmp_path, "--output")
    assert f.read_text() == "x"


# ----------------------------------------------------------------------------- single files
def test_output_file_failure_keeps_the_earlier_file(tmp_path):
    target = tmp_path / "m.yaml"
    target.write_text("old")
    with pytest.raises(MemoryError):
        with OutputFile(target, "path") as tmp:
            tmp.write_text("half")
            raise MemoryError
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["m.yaml"]


def test_a_file_written_into_a_result_joins_its_manifest(tmp_path):
    R = small_result().save(tmp_path / "R")
    with OutputFile(R / "overview.png", "--output") as tmp:
        tmp.write_bytes(b"png")
    assert json.loads((R / MANIFEST_FILE).read_text())["files"]["overview.png"]["bytes"] == 3
    small_result().save(R)                                   # and goes with it on a rerun
    assert not (R / "overview.png").exists()


# ----------------------------------------------------------------------------- repair
def _interrupted(tmp_path, new_complete: bool):
    """The state a writer killed between its two renames leaves: R moved to R.old-ID,
    the new result still at R.tmp-ID (complete or not)."""
    R = tmp_path / "R"
    small_result(n_spikes=4).save(R)
    run = dead_run_id()
    old = R.rename(tmp_path / f"R.old-{run}")
    staging = tmp_path / f"R.tmp-{run}"
    staging.mkdir()
    small_result(n_spikes=6).write_files(staging, run)
    if new_complete:
        write_manifest(staging, run, "run")
    return R, old, staging


def test_repair_rolls_back_an_incomplete_swap(tmp_path):
    R, old, staging = _interrupted(tmp_path, new_complete=False)
    before = snapshot(old)
    repair(R)
    assert snapshot(R) == before and not old.exists() and not staging.exists()


def test_repair_finishes_a_complete_swap(tmp_path):
    R, old, staging = _interrupted(tmp_path, new_complete=True)
    assert Result.load(R).spikes["a"][0].size == 6          # readers repair first
    assert not old.exists() and not staging.exists()


def test_repair_removes_dead_leftovers_and_spares_live_ones(tmp_path):
    R = small_result().save(tmp_path / "R")
    dead = dead_run_id()
    (tmp_path / f"R.old-{dead}").mkdir()
    (tmp_path / f"R.tmp-{dead}").mkdir()
    (tmp_path / f".R.tmp-{dead}").write_text("")          # a single-file writer's temporary file
    live = "20260101T000000Z-1-abcdef"                      # pid 1 is alive as long as the system
    (tmp_path / f"R.tmp-{live}").mkdir()
    (tmp_path / "R.tmp-not-a-run-id").mkdir()              # not named by spikecore: left alone
    repair(R)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["R", f"R.tmp-{live}", "R.tmp-not-a-run-id"]


# ----------------------------------------------------------------------------- readers
def test_reader_requires_the_manifest(tmp_path):
    R = small_result().save(tmp_path / "R")
    (R / MANIFEST_FILE).unlink()
    with pytest.raises(ModelFileError, match=r"manifest\.json: missing"):
        Result.load(R)


def test_truncated_spikes_are_named(tmp_path):
    R = small_result().save(tmp_path / "R")
    data = (R / "spikes.npz").read_bytes()
    (R / "spikes.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match=r"spikes\.npz: .*truncated"):
        Result.load(R)
    manifest = json.loads((R / MANIFEST_FILE).read_text())     # the sizes agree, the zip is still broken
    manifest["files"]["spikes.npz"]["bytes"] = len(data) // 2
    (R / MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelFileError, match=r"spikes\.npz: unreadable \(BadZipFile"):
        Result.load(R)


def _rewrite(R: Path, name: str, data: bytes) -> None:
    """Replace one file of a result and update its manifest to match, as a careless tool would."""
    (R / name).write_bytes(data)
    manifest = json.loads((R / MANIFEST_FILE).read_text())
    manifest["files"][name]["bytes"] = len(data)
    (R / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_summary_naming_a_population_without_spikes_is_named(tmp_path):
    R = small_result().save(tmp_path / "R")
    s = json.loads((R / "summary.json").read_text())
    s["populations"]["b"] = dict(s["populations"]["a"])
    _rewrite(R, "summary.json", json.dumps(s).encode())
    with pytest.raises(ModelFileError, match=r"spikes\.npz: no spikes of population 'b'"):
        Result.load(R)


def test_files_of_two_runs_are_not_combined(tmp_path):
    A = small_result(n_spikes=4).save(tmp_path / "A")
    B = small_result(n_spikes=8).save(tmp_path / "B")
    _rewrite(A, "traces.npz", (B / "traces.npz").read_bytes())
    with pytest.raises(ModelFileError, match=r"traces\.npz: belongs to run .*files of different runs are mixed"):
        Result.load(A)


# ----------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["../../x", "/tmp/x", "a/b", "", "results/x", "..", 3])
def test_network_names_are_plain_identifiers(name):
    with pytest.raises(ValidationError, match="^name: got"):
        sc.Network(name)


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "a/b", "''"])
def test_model_file_names_are_plain_identifiers(tmp_path, name):
    f = tmp_path / "m.yaml"
    f.write_text(f"name: {name}\npopulations:\n  a: {{size: 1, model: lif_delta, params: {{tau_mem: 10 ms, "
                 "v_leak: 0 mV, v_threshold: 5 mV, v_reset: 0 mV}}\n")
    with pytest.raises(ModelFileError, match=r"m\.yaml: name: got .*a name made of letters"):
        load_network(f)
