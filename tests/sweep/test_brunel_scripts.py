"""The Brunel Fig. 8 example scripts' bookkeeping, on made-up rows (fast; the real runs are
tests/sweep/test_brunel_phase.py's, marked slow and long)."""
import importlib.util
import json
import math
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regime_table_names_each_point_by_the_second_and_third_classifications():
    bp = _load("brunel_phase")
    spec = bp.spec_for([4.5], [0.9])
    w, r = (a.column for a in spec.axes)
    row = {w: -0.45, r: 9.0, "exc.rate_hz": 4.64, "exc.cv_isi": 0.49, "exc.sync": 1.783, "exc.fano": 148.5,
           "exc.freq_hz": 24.0, "wall_s": 1.0}
    (t,) = bp.regime_table(spec, [row], [{**row, "exc.sync": 1.104}])
    assert (t["g"], t["nu"]) == (4.5, 0.9)
    assert t["regime"] == "AI"                      # the second: ratio 0.62 < 0.707
    assert t["regime_extrapolated"] == "SI slow"    # the third: a = 0.75 >= 0.25, 24 Hz
    assert (t["amplitude"], t["noise"]) == (pytest.approx(0.752, abs=1e-3), pytest.approx(1.617, abs=1e-3))
    (first,) = bp.regime_table(spec, [row])
    assert "regime_extrapolated" not in first and first["regime"] == "SR"


def test_scaling_check_compares_a_stored_run_with_the_prediction(tmp_path, capsys):
    check = _load("brunel_scaling_check")
    stored = {"point": "D", "g": 4.5, "nu": 0.9, "size": 2, "replicate": 0, "seed": 1, "rate_hz": 4.0,
              "cv_isi": 0.5, "sync": 1.30, "fano": 100.0, "freq_hz": 24.0, "wall_s": 60.0}
    (tmp_path / "D_size2_rep0.json").write_text(json.dumps(stored))
    assert check.run_point("D", 2, 0, tmp_path) == stored          # stored runs are not run again
    c = check.check(stored)
    assert c["predicted"] == pytest.approx(1.368, abs=1e-3)
    assert c["log_error"] == pytest.approx(math.log(1.30 / c["predicted"]))
    assert c["holds"] and not check.check({**stored, "sync": 1.0})["holds"]
    assert check.main(["--points", "D", "--size", "2", "--out", str(tmp_path)]) == 0
    assert "predictions all held" in capsys.readouterr().out
    (tmp_path / "D_size2_rep0.json").write_text(json.dumps({**stored, "sync": 1.0}))
    assert check.main(["--points", "D", "--size", "2", "--out", str(tmp_path)]) == 1


def test_scaling_check_names_each_replicate_from_its_own_two_sizes(tmp_path, capsys):
    check = _load("brunel_scaling_check")
    base = {"g": 4.5, "nu": 0.9, "seed": 1, "rate_hz": 4.6, "cv_isi": 0.5, "fano": 100.0, "freq_hz": 24.0,
            "wall_s": 1.0}
    for point, rep, size, sync in [("D", 1, 1, 1.783), ("D", 1, 4, 1.104), ("C", 1, 1, 0.537), ("C", 1, 4, 0.273),
                                   ("D", 2, 1, 1.9)]:           # replicate 2 has no 4N run: not named
        (tmp_path / f"{point}_size{size}_rep{rep}.json").write_text(json.dumps(
            {**base, "point": point, "size": size, "replicate": rep, "sync": sync}))
    named = check.classify_stored(tmp_path)
    assert [(p, r, regime) for p, r, _, _, regime in named] == [("C", 1, "AI"), ("D", 1, "SI slow")]
    assert named[1][2:4] == (pytest.approx(0.752, abs=1e-3), pytest.approx(1.617, abs=1e-3))


@pytest.mark.parametrize("argv", [["--points", "E"], ["--points", ","], ["--size", "0"]])
def test_scaling_check_refuses_bad_arguments(argv, capsys):
    with pytest.raises(SystemExit) as e:
        _load("brunel_scaling_check").main(argv)
    assert e.value.code == 2 and "expected" in capsys.readouterr().err
