"""``spikecore fi`` as a user meets it: files written through a result directory, one-line errors, a teaching --help."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args):
    return subprocess.run([sys.executable, "-m", "spikecore", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_fi_writes_json_png_and_manifest(tmp_path):
    out = tmp_path / "adex"
    p = cli("fi", "examples/adex_type2.yaml", "--population", "n", "--currents", "0nA:2nA:21", "--out", out)
    assert p.returncode == 0, p.stderr
    fi = json.loads((out / "fi.json").read_text())
    for key in ("model", "currents_A", "rates_hz", "first_spike_s", "rheobase_A", "rheobase_resolution_A",
                "onset", "exponent", "exponent_ci95", "min_rate_hz"):
        assert key in fi
    assert fi["model"] == "examples/adex_type2.yaml" and fi["onset"] == "type2" and len(fi["rates_hz"]) == 21
    assert fi["duration_s"] == pytest.approx(2.0)            # the model file's duration
    assert (out / "fi.png").stat().st_size > 10_000
    assert set(json.loads((out / "manifest.json").read_text())["files"]) == {"fi.json", "fi.png"}
    assert "onset type2" in p.stdout and "rheobase" in p.stdout


@pytest.mark.parametrize("args, needle", [
    (["--population", "m", "--currents", "0nA:2nA:21"], "--population: got 'm'"),
    (["--population", "n", "--currents", "2nA:0nA:21"], "reversed"),
    (["--population", "n", "--currents", "0nA:2nA:0"], "empty"),
    (["--population", "n", "--currents", "0nA:2nA:21", "--transient", "2s"], "--transient"),
    (["--population", "n", "--currents", "0nA:2nA:21", "--duration", "1s", "--transient", "1.5s"], "shorter than the duration"),
    (["--population", "n", "--currents", "0mV:2nA:21"], "--currents start"),
    (["--population", "n", "--currents", "0nA:2nA:21", "--resolution", "2"], "--resolution"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, needle):
    p = cli("fi", "examples/adex_type2.yaml", *args, "--out", tmp_path / "o")
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr
    assert not (tmp_path / "o").exists()


def test_out_is_checked_before_the_runs_and_a_rerun_replaces_the_result(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("mine")
    p = cli("fi", "examples/adex_type2.yaml", "--population", "n", "--currents", "0nA:2nA:5", "--out", afile)
    assert p.returncode == 2 and "--out" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert afile.read_text() == "mine"
    out = tmp_path / "o"
    for count in (5, 7):
        p = cli("fi", "examples/adex_type2.yaml", "--population", "n", "--currents", f"0nA:2nA:{count}",
                "--resolution", "1e-3", "--no-plot", "--out", out)
        assert p.returncode == 0, p.stderr
    assert len(json.loads((out / "fi.json").read_text())["rates_hz"]) == 7
    assert sorted(x.name for x in out.iterdir()) == ["fi.json", "manifest.json"]


def test_resolution_sets_the_rheobase_bracket(tmp_path):
    p = cli("fi", "examples/adex_type2.yaml", "--population", "n", "--currents", "0nA:2nA:5", "--resolution", "1e-4",
            "--no-plot", "--out", tmp_path / "o")
    assert p.returncode == 0, p.stderr
    fi = json.loads((tmp_path / "o" / "fi.json").read_text())
    assert 1e-4 * 2e-9 / 9 < fi["rheobase_resolution_A"] <= 1e-4 * 2e-9
    assert not (tmp_path / "o" / "fi.png").exists()


def test_help_teaches_units_and_onset_types():
    p = cli("fi", "--help")
    assert p.returncode == 0
    for needle in ("type1", "type2", "logarithmic", "SNIC", "Hopf", "1 pA is I = 1 mV/ms", "START:STOP:COUNT",
                   "--transient"):
        assert needle in p.stdout
    assert "fi" in cli("--help").stdout
