"""The command line as a user meets it: real processes, exit codes, one-line errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "spikecore", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd or ROOT, timeout=600)


def test_run_writes_summary_spikes_and_plot(tmp_path):
    p = cli("run", "examples/cuba.yaml", "--duration", "200ms", "--seed", "3", "--out", tmp_path)
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    for key in ("backend", "duration_s", "dt_s", "wall_s", "rtf", "populations"):
        assert key in s
    assert s["backend"] == "native" and s["duration_s"] == pytest.approx(0.2) and s["dt_s"] == pytest.approx(1e-4)
    assert s["seed"] == 3
    for name in ("exc", "inh"):
        pop = s["populations"][name]
        assert set(pop) >= {"n", "spikes", "rate_hz", "cv_isi"}
    spikes = np.load(tmp_path / "spikes.npz")
    assert spikes["exc.times"].size == s["populations"]["exc"]["spikes"]
    assert spikes["exc.indices"].max() < 3200
    assert (tmp_path / "raster.png").stat().st_size > 10_000
    assert "rate (Hz)" in p.stdout and "real-time factor" in p.stdout


def test_run_with_dt_override_and_traces(tmp_path):
    model = tmp_path / "m.yaml"
    model.write_text("""
name: tiny
populations:
  n: {size: 2, model: lif_delta, params: {tau_mem: 10 ms, v_leak: 0 mV, v_threshold: 5 mV, v_reset: 0 mV}}
currents:
  c: {target: n, amplitude: 100 pA}
monitors:
  vm: {type: state, target: n, variables: [v], interval: 1 ms}
""")
    p = cli("run", model, "--duration", "50 ms", "--dt", "0.05ms", "--out", tmp_path / "o", "--no-plot")
    assert p.returncode == 0, p.stderr
    tr = np.load(tmp_path / "o" / "traces.npz")
    assert tr["vm.v"].shape == (50, 2)
    assert json.loads((tmp_path / "o" / "summary.json").read_text())["dt_s"] == pytest.approx(5e-5)


def test_info_prints_sizes():
    p = cli("info", "examples/cuba.yaml")
    assert p.returncode == 0, p.stderr
    assert "4000 neurons" in p.stdout and "synapses" in p.stdout and "MiB" in p.stdout


@pytest.mark.parametrize("args,needle", [
    (("run", "missing.yaml"), "no such file"),
    (("run", "examples/cuba.yaml", "--duration", "10 mV"), "--duration"),
    (("run", "examples/cuba.yaml", "--dt=-1ms"), "--dt"),
    (("run", "examples/cuba.yaml", "--backend", "nest2"), "backend"),
    (("run", "examples/cuba.yaml", "-O", "turbo=1"), "turbo"),
    (("info", "examples"), "directory"),
])
def test_bad_input_one_line_no_traceback(args, needle):
    p = cli(*args)
    assert p.returncode != 0
    assert "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if ln]
    assert len(lines) == 1 and needle in lines[0]


def test_malformed_model_and_debug_shows_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("populations:\n  a: {size: 10, model: lif_delta, params: {tau_mem: NaN ms}}\n")
    p = cli("run", bad)
    assert p.returncode != 0 and "Traceback" not in p.stderr and "bad.yaml" in p.stderr
    p = cli("--debug", "run", bad)
    assert p.returncode != 0 and "Traceback" in p.stderr


def test_help_teaches():
    p = cli("--help")
    assert p.returncode == 0 and "examples:" in p.stdout and "run" in p.stdout
    p = cli("run", "--help")
    assert p.returncode == 0 and "--duration" in p.stdout and "--seed" in p.stdout


def test_run_threads_and_precision_flags(tmp_path):
    p = cli("run", "examples/cuba.yaml", "--duration", "100ms", "--threads", "2", "--precision", "float32",
            "--out", tmp_path, "--no-plot")
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["options"]["threads"] == "2" and s["options"]["precision"] == "float32"
    p = cli("run", "examples/cuba.yaml", "--threads", "many")
    assert p.returncode == 2 and "threads" in p.stderr and "Traceback" not in p.stderr


@pytest.mark.parametrize("param, value, field", [
    ("tau_adapt", "-5 ms", "populations.a.params.tau_adapt"),
    ("tau_adapt", "[100 ms, 200 ms]", "populations.a.params.tau_adapt"),
    ("delta_threshold", "-1 mV", "populations.a.params.delta_threshold"),
])
def test_bad_alif_parameters_are_one_line_errors(tmp_path, param, value, field):
    model = tmp_path / "alif.yaml"
    model.write_text("spikecore: 1\npopulations:\n  a:\n    size: 3\n    model: alif\n    params: {tau_mem: 20 ms, "
                     "v_leak: -70 mV, v_threshold: -50 mV, v_reset: -65 mV, tau_syn: {e: 5 ms}, "
                     f"{param}: {value}}}\n")
    p = cli("run", model, "--duration", "10ms", "--out", tmp_path / "out")
    assert p.returncode == 2 and "Traceback" not in p.stderr, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], p.stderr
