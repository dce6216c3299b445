"""The command line on user mistakes in flags and model files: exit 2, one line, nothing written."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

MODEL = """\
name: m
dt: 0.1 ms
duration: 20 ms
populations:
  exc: {size: 20, model: lif_cuba, params: {tau_mem: 20 ms, v_leak: -60 mV, v_threshold: -50 mV, v_reset: -60 mV, tau_syn: {exc: 5 ms}}}
currents:
  c: {target: exc, amplitude: 150 pA}
projections:
  p1: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.2}, weight: 0.5 mV, delay: 1 ms, receptor: exc}
"""


def cli(*args):
    return subprocess.run([sys.executable, "-m", "spikecore", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def one_line_error(p, needle):
    assert p.returncode == 2, (p.stdout, p.stderr)
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0], p.stderr
    assert "internal error" not in p.stderr and "Traceback" not in p.stderr


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(MODEL)
    return path


@pytest.mark.parametrize("flag,value", [("--duration", "-1s"), ("--dt", "-0.1ms"), ("--duration", "-inf s")])
def test_negative_flag_values_reach_validation(model, tmp_path, flag, value):
    out = tmp_path / "out"
    one_line_error(cli("run", model, flag, value, "--out", out), f"{flag}: got '{value}'")
    assert not out.exists()


def test_infinite_model_duration_is_refused_by_info_as_by_run(model):
    model.write_text(MODEL.replace("duration: 20 ms", "duration: inf s"))
    one_line_error(cli("info", model), "duration: got 'inf s'")
    one_line_error(cli("run", model, "--no-plot", "--out", model.parent / "o"), "duration: got 'inf s'")


def test_native_loihi_refusal_names_the_native_backend():
    p = cli("run", "examples/cuba.yaml", "--format", "loihi", "--duration", "1ms", "--no-plot", "--out", "unused")
    one_line_error(p, "backend 'native --format loihi' does not support")
    assert "'lava'" not in p.stderr


@pytest.mark.parametrize("old,new,needle", [
    ("params: {tau_mem: 20 ms, v_leak: -60 mV, v_threshold: -50 mV, v_reset: -60 mV, tau_syn: {exc: 5 ms}}",
     "params: abc", "populations.exc.params: got 'abc'"),
    ("{type: fixed_probability, p: 0.2}", "{type: sparse, shape: [20, 20], i: [0]}", "projections.p1.connector.j"),
    ("amplitude: 150 pA}", "amplitude: 150 pA, neuronz: [0]}", "did you mean 'neurons'"),
    ("delay: 1 ms", "delay: {distribution: normal, mean: 0.2 ms, std: 1 ms}", "projections.p1.delay"),
])
def test_model_mistakes_give_one_line_and_write_nothing(model, tmp_path, old, new, needle):
    model.write_text(MODEL.replace(old, new))
    out = tmp_path / "out"
    one_line_error(cli("run", model, "--out", out, "--no-plot"), needle)
    assert not out.exists()


def test_redraw_counts_in_info_and_in_the_run_summary(model, tmp_path):
    model.write_text(MODEL.replace("delay: 1 ms", "delay: {distribution: normal, mean: 0.2 ms, std: 1 ms, low: 0.1 ms}"))
    p = cli("info", model)
    assert p.returncode == 0, p.stderr
    assert "projections.p1.delay:" in p.stdout and "drawn again" in p.stdout
    p = cli("run", model, "--out", tmp_path / "o", "--no-plot")
    assert p.returncode == 0, p.stderr
    redrawn = json.loads((tmp_path / "o" / "summary.json").read_text())["redrawn"]
    assert set(redrawn) == {"projections.p1.delay"} and redrawn["projections.p1.delay"] > 0
