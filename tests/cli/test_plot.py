"""``spikecore plot RESULT_DIR``: one PNG with raster, rate, ISI and traces."""
from __future__ import annotations

import pytest

from spikecore.cli import main

MODEL = """
spikecore: 1
name: tiny
dt: 0.1 ms
duration: 50 ms
populations:
  p: {size: 5, model: lif_delta, params: {tau_mem: 10 ms, v_leak: -50 mV, v_threshold: -55 mV, v_reset: -70 mV}}
monitors:
  vm: {type: state, target: p, variables: [v], neurons: [0]}
"""


@pytest.fixture
def result_dir(tmp_path):
    model = tmp_path / "tiny.yaml"
    model.write_text(MODEL)
    assert main(["run", str(model), "--out", str(tmp_path / "res"), "--no-plot"]) == 0
    return tmp_path / "res"


def test_plot_writes_png(result_dir, tmp_path, capsys):
    assert main(["plot", str(result_dir)]) == 0
    assert (result_dir / "overview.png").read_bytes()[:4] == b"\x89PNG"
    out = tmp_path / "fig.png"
    assert main(["plot", str(result_dir), "-o", str(out), "--bin", "1ms", "--max-traces", "1"]) == 0
    assert out.exists() and f"wrote {out}" in capsys.readouterr().out


@pytest.mark.parametrize("argv_tail,message", [
    (["-o", "fig.txt"], "an image file"),
    (["--bin", "5"], "--bin"),
])
def test_plot_mistakes_are_one_line(result_dir, capsys, argv_tail, message):
    assert main(["plot", str(result_dir), *argv_tail]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_not_a_result_dir(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a result directory" in capsys.readouterr().err
