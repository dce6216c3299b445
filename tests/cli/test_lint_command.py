"""``spikecore lint MODEL --target loihi2``: one line per finding, exit 1 on errors."""
from __future__ import annotations

from spikecore.cli import main
from spikecore.network import FixedProbability, Network, SpikeSource


def model_file(tmp_path, t_refrac="0 ms", tau_mem="8 ms"):
    net = Network("lintcli", dt="0.1 ms")
    net.population("a", 5, "lif_cuba", {"tau_mem": tau_mem, "v_leak": "-65 mV", "v_threshold": "-50 mV",
                                        "v_reset": "-60 mV", "t_refrac": t_refrac, "tau_syn": {"exc": "5 ms"}})
    net.add(SpikeSource(spike_times=[["1 ms"], ["2 ms"]], name="s"))
    net.project("s", "a", FixedProbability(1.0), weight="2 mV", delay="0.1 ms")
    path = tmp_path / "m.yaml"
    net.save(path)
    return str(path)


def test_clean_model_exits_0(tmp_path, capsys):
    assert main(["lint", model_file(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("lintcli on loihi2: 0 error(s), 0 warning(s), ")
    assert any(line.startswith("info: population a: 17-bit threshold: vth = 32768") for line in out)


def test_errors_exit_1_with_one_line_each(tmp_path, capsys):
    assert main(["lint", model_file(tmp_path, t_refrac="2 ms", tau_mem="20 ms"), "--target", "loihi2", "-q"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("error: population a: refractory period in fixed point: t_refrac = 2 ms (20 steps) -> ")
    assert "; fix: " in out[0]
    assert any(line.startswith("warning: population a: 12-bit decay rounding") for line in out)
    assert not any(line.startswith("info:") for line in out)       # --quiet
    assert "1 error(s), 1 warning(s)" in out[-1]


def test_bad_headroom_is_one_line_exit_2(tmp_path, capsys):
    assert main(["lint", model_file(tmp_path), "--headroom", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spikecore lint: error: headroom: got '0.5'") and err.count("\n") == 1
