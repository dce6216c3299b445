"""``spikecore export``: MODEL --format nir and RESULT_DIR --format neo, one-line errors."""
from __future__ import annotations

import nir
import numpy as np
import pytest

from spikecore.cli import main
from spikecore.io import load_network
from spikecore.io.neo import read_neo

MODEL = """
spikecore: 1
name: small
seed: 3
dt: 0.1 ms
duration: 100 ms
populations:
  exc: {size: 30, model: lif_cuba, params: {tau_mem: 20 ms, v_leak: -49 mV, v_threshold: -50 mV, v_reset: -60 mV,
        t_refrac: 2 ms, tau_syn: {exc: 5 ms, inh: 10 ms}}, initial: {v: {distribution: uniform, low: -60 mV, high: -50 mV}}}
sources:
  noise: {type: poisson, size: 10, rate: 50 Hz}
projections:
  in: {pre: noise, post: exc, connector: {type: fixed_probability, p: 0.5}, weight: 2 mV, receptor: exc}
  ee: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.2}, weight: -1 mV, delay: 0.5 ms, receptor: inh}
monitors:
  vm: {type: state, target: exc, variables: [v], neurons: [0, 1]}
"""


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(MODEL)
    return path


def test_help_teaches_both_directions(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    for text in ("MODEL --format nir", "RESULT_DIR --format neo", ".nix", "--keep-refractory"):
        assert text in out


def test_model_to_nir_and_run_it(model, tmp_path, capsys):
    out = tmp_path / "small.nir"
    assert main(["export", str(model), "--format", "nir", "-o", str(out), "--keep-refractory"]) == 0
    assert "wrote" in capsys.readouterr().out
    g = nir.read(str(out))
    assert {"exc", "exc_syn_exc", "exc_syn_inh", "noise"} <= set(g.nodes)
    a, b = load_network(model).to_ir(), load_network(out).to_ir()
    assert a.populations["exc"].params == b.populations["exc"].params
    assert a.n_synapses == b.n_synapses
    res_dir = tmp_path / "res"
    assert main(["run", str(out), "--out", str(res_dir), "--no-plot"]) == 0
    assert (res_dir / "spikes.npz").exists()


def test_result_to_neo(model, tmp_path, capsys):
    res_dir = tmp_path / "res"
    assert main(["run", str(model), "--out", str(res_dir), "--no-plot"]) == 0
    capsys.readouterr()
    assert main(["export", str(res_dir), "-o", str(tmp_path / "small.nix")]) == 0   # format from the suffix
    assert "NixIO" in capsys.readouterr().out
    block = read_neo(tmp_path / "small.nix")
    spikes = np.load(res_dir / "spikes.npz")
    assert sum(st.size for st in block.segments[0].spiketrains) == spikes["exc.times"].size
    assert main(["export", str(res_dir)]) == 0                                    # default: RESULT_DIR/result.nix
    assert (res_dir / "result.nix").exists()


@pytest.mark.parametrize("argv_tail,message", [
    (["--format", "nir"], "a model file"),
    (["--format", "neo", "-o", "x.h5"], "a name ending in .nix"),
])
def test_mistakes_are_one_line(model, tmp_path, capsys, argv_tail, message):
    res_dir = tmp_path / "res"
    main(["run", str(model), "--out", str(res_dir), "--no-plot"])
    capsys.readouterr()
    assert main(["export", str(res_dir), *argv_tail]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("spikecore export: error:") and message in err and "\n" not in err


def test_refused_model_and_bad_nir_file(model, tmp_path, capsys):
    assert main(["export", str(model), "-o", str(tmp_path / "x.nir")]) == 2
    assert "t_refrac" in capsys.readouterr().err
    bad = tmp_path / "bad.nir"
    bad.write_text("not hdf5")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert "not a NIR file" in err and "\n" not in err
