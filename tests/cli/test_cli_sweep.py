"""``spikecore sweep`` on the command line (spikecore.cli.sweep)."""
import socket

import pytest

from spikecore.cli import main
from spikecore.io.results import verify_result_directory
from spikecore.sweep.runner import read_table


@pytest.fixture
def model(small_model_file):
    return str(small_model_file)


def test_sweep_writes_table_and_plot_and_a_rerun_runs_nothing(model, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["sweep", model, "--set", "projections.inh_exc.weight+projections.inh_inh.weight=-0.5mV:-1.5mV:2",
            "--duration", "100ms", "--jobs", "1", "--out", str(out)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "2 runs (2 run now, 0 stored before)" in text and "sweep.png" in text
    rows = read_table(out / "sweep.csv")
    assert [r["projections.inh_exc.weight+projections.inh_inh.weight (mV)"] for r in rows] == [-0.5, -1.5]
    assert {"exc.rate_hz", "exc.cv_isi", "exc.sync", "exc.fano", "exc.freq_hz", "inh.rate_hz", "seed",
            "wall_s"} <= set(rows[0])
    assert (out / "sweep.png").stat().st_size > 0 and (out / "sweep.json").exists()
    assert "sweep.png" in verify_result_directory(out)["files"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "2 runs (0 run now, 2 stored before)" in captured.out and "nothing to run" in captured.err


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("extra, message", [
    (["--set", "populations.exc.params.v_lek=1mV:2mV:2"], "expected a value of the model file, e.g. "
                                                          "'populations.exc.params.v_leak' (the nearest)"),
    (["--set", "sources.ext_exc.rat=1kHz,2kHz"], "'sources.ext_exc.rate' (the nearest)"),
    (["--set", "populations.exc.params.v_leak=1mV:1mV:4"], "an empty range"),
    (["--set", "populations.exc.params.v_leak=1mV:2mV:0"], "at least one value"),
    (["--set", "populations.exc.params.v_leak=1mV:2mV:two"], "whole number"),
    (["--set", "populations.exc.params.v_leak=1:2:3"], "with a unit"),
    (["--set", "populations.exc.params.v_leak"], "KEY=START:STOP:N"),
    ([], "at least one axis"),
    (["--set", "sources.ext_exc.rate=1kHz", "--backend", "lava"], "Lava starts processes of its own"),
    (["--set", "sources.ext_exc.rate=1kHz", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    (["--set", "sources.ext_exc.rate=1kHz", "--backend", "nest2"], "backend: got 'nest2'"),
    (["--set", "sources.ext_exc.rate=1kHz", "--jobs", "0"], "--jobs: got 0"),
    (["--set", "sources.ext_exc.rate=1kHz", "--seeds", "0"], "--seeds: got 0"),
    (["--set", "sources.ext_exc.rate=1kHz", "--transient", "1s"], "--transient"),
    (["--set", "sources.ext_exc.rate=1kHz", "--population", "pyr"], "--population: got 'pyr'"),
])
def test_user_mistakes_are_one_line_and_exit_2(model, tmp_path, extra, message, capsys):
    assert main(["sweep", model, "--out", str(tmp_path / "o")] + extra) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_an_unreachable_scheduler_fails_in_one_line(model, tmp_path, capsys):
    address = f"tcp://127.0.0.1:{free_port()}"
    assert main(["sweep", model, "--set", "sources.ext_exc.rate=1kHz", "--scheduler", address,
                 "--connect-timeout", "0.5", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"spikecore sweep: error: --scheduler: got '{address}'")
    assert "none answered within 0.5 s" in err[-1]


def test_an_out_that_is_a_file_is_refused_before_work(model, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("mine")
    assert main(["sweep", model, "--set", "sources.ext_exc.rate=1kHz", "--out", str(taken)]) == 2
    assert "--out: got" in capsys.readouterr().err and taken.read_text() == "mine"


def test_missing_out_and_non_yaml_models(tmp_path, capsys):
    assert main(["sweep", "x.yaml", "--set", "a=1"]) == 2
    assert "--out" in capsys.readouterr().err
    nir = tmp_path / "m.nir"
    nir.write_text("")
    assert main(["sweep", str(nir), "--set", "a=1", "--out", str(tmp_path / "o")]) == 2
    assert "a .yaml, .yml or .json model file" in capsys.readouterr().err
