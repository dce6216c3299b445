"""Tests of ``spikecore compare`` (spikecore/cli/compare.py) on real backends (Brian2's numpy target)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from spikecore.cli import main as cli_main

pytest.importorskip("brian2")

NOISY = """spikecore: 1
name: noisy
seed: 1
dt: 0.1 ms
duration: 50 ms
populations:
  b: {size: 50, model: lif_delta, params: {tau_mem: 20 ms, v_leak: 0 mV, v_threshold: 20 mV, v_reset: 10 mV}}
sources:
  ext: {type: poisson, size: 50, rate: 20 kHz}
projections:
  eb: {pre: ext, post: b, connector: {type: one_to_one}, weight: 0.1 mV, delay: 0.1 ms}
"""


def _model(tmp_path, text, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return str(path)


def test_compare_deterministic_network_agrees_exactly(tmp_path, capsys, deterministic_model_file):
    out = tmp_path / "cmp"
    rc = cli_main(["compare", str(deterministic_model_file), "--backends", "native,brian2",
                   "-O", "brian2:target=numpy", "--exact", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    doc = json.loads((out / "compare.json").read_text())
    assert doc["agree"] is True and doc["backends"] == ["native", "brian2"] and doc["mode"] == "exact"
    m = doc["populations"]["a"]["comparisons"]["brian2"]
    assert m["matched_fraction"] == 1.0 and m["first_mismatch_s"] is None
    assert doc["populations"]["a"]["rate_hz"]["native"] > 0
    assert (out / "native" / "spikes.npz").exists() and (out / "brian2" / "summary.json").exists()
    assert "agree" in printed and "matched" in printed


def test_compare_alif_example_agrees_exactly(tmp_path, capsys):
    """examples/alif.yaml (both adaptation forms, per-neuron distributions): identical spikes."""
    out = tmp_path / "cmp"
    example = Path(__file__).resolve().parents[2] / "examples" / "alif.yaml"
    rc = cli_main(["compare", str(example), "--backends", "native,brian2", "-O", "brian2:target=numpy", "--exact",
                   "--out", str(out)])
    assert rc == 0, capsys.readouterr().out
    doc = json.loads((out / "compare.json").read_text())
    for pop in ("exc", "inh"):
        m = doc["populations"][pop]["comparisons"]["brian2"]
        assert m["matched_fraction"] == 1.0 and m["first_mismatch_s"] is None
        assert doc["populations"][pop]["rate_hz"]["native"] > 5


def test_compare_exit_status_1_when_spikes_differ(tmp_path, capsys):
    """Unbounded Poisson input is drawn by Brian2 itself: the trains differ, so --exact must fail."""
    out = tmp_path / "cmp"
    rc = cli_main(["compare", _model(tmp_path, NOISY, "noisy"), "-O", "brian2:target=numpy", "--exact",
                   "--out", str(out)])
    assert rc == 1
    doc = json.loads((out / "compare.json").read_text())
    m = doc["populations"]["b"]["comparisons"]["brian2"]
    assert doc["agree"] is False and m["matched_fraction"] < 0.99 and not m["checks"]["matched_fraction"]["ok"]
    assert "DISAGREE" in capsys.readouterr().out


@pytest.mark.parametrize("args, field", [
    (["--backends", "native"], "--backends"),
    (["--backends", "native,native"], "--backends"),
    (["-O", "device=cpp_standalone"], "--option"),
    (["-O", "lava:x=1"], "--option"),
    (["--rate-tol", "-1"], "--rate-tol"),
    (["--backends", "native,neuron"], "backend"),
])
def test_compare_usage_errors(tmp_path, capsys, args, field, deterministic_model_file):
    rc = cli_main(["compare", str(deterministic_model_file), "--out", str(tmp_path / "o")] + args)
    assert rc == 2
    assert field in capsys.readouterr().err


@pytest.mark.parametrize("example", ["izhikevich_network", "adex_network"])
def test_compare_agrees_spike_for_spike_on_the_model_examples(tmp_path, capsys, examples_dir, example):
    """examples/izhikevich_network.yaml and adex_network.yaml: the same spikes on native and Brian2."""
    out = tmp_path / "cmp"
    rc = cli_main(["compare", str(examples_dir / f"{example}.yaml"), "--backends", "native,brian2",
                   "-O", "brian2:target=numpy", "--exact", "--duration", "200 ms", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    doc = json.loads((out / "compare.json").read_text())
    for pop in ("exc", "inh"):
        m = doc["populations"][pop]["comparisons"]["brian2"]
        assert m["matched_fraction"] == 1.0 and m["first_mismatch_s"] is None, (pop, m)
