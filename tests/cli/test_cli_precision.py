"""``spikecore precision`` on the command line (spikecore.cli.precision)."""
import json

import pytest

from spikecore.cli import main


def test_quick_iris_run_then_compare(tmp_path, capsys):
    out = tmp_path / "r"
    assert main(["precision", "--task", "iris", "--quick", "--seeds", "2", "--jobs", "1", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "float accuracy" in text and "min bits" in text and "sigma*" in text
    data = json.loads((out / "precision.json").read_text())
    assert data["quick"] and data["settings"]["seeds"] == 2
    assert (out / "report.html").exists() and (out / "report.md").exists()
    assert main(["precision", "compare", str(out / "precision.json"), str(out)]) == 0
    assert "B - A" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["precision", "--task", "mnist", "--out", "x"], "--task: got 'mnist'"),
    (["precision", "--profile", "loihi,truenorth", "--out", "x"], "profile: got 'truenorth'"),
    (["precision", "--task", "iris"], "--out"),
    (["precision", "compare", "a.json"], "two precision.json files"),
    (["precision", "summarize"], "compare A B"),
    (["precision", "--jobs", "0", "--out", "x", "--task", "iris"], "--jobs: got 0"),
    (["precision", "compare", "missing_a.json", "missing_b.json"], "no such precision report"),
])
def test_user_mistakes_are_one_line_and_exit_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_precision_runs_on_a_dask_scheduler(dask_cluster, tmp_path, capsys):
    """--scheduler: the sweeps' Dask machinery (a real local cluster of worker processes)."""
    out = tmp_path / "r"
    argv = ["precision", "--task", "iris", "--quick", "--seeds", "2", "--no-continuous", "--out", str(out)]
    assert main(argv + ["--scheduler", dask_cluster.client.scheduler.address]) == 0
    data = json.loads((out / "precision.json").read_text())
    assert data["jobs"] == f"dask:{dask_cluster.client.scheduler.address}"
    assert "min bits" in capsys.readouterr().out


def test_precision_with_an_unreachable_scheduler_is_one_line(tmp_path, capsys):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["precision", "--task", "iris", "--quick", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "--scheduler" in err and "none answered within" in err and err.count("\n") == 1
