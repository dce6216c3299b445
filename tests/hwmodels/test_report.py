"""precision.json, report.html and report.md (hwmodels.report), and comparing two reports."""
import base64
import json
import re

import pytest

from hwmodels.precision import Settings, condition, run_precision
from hwmodels.report import compare, load_json, write_report
from spikecore.io.results import ResultDirectory
from spikecore.errors import ModelFileError


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    s = Settings(seeds=2, classifiers=("mlp",), counter_bits=(1, 2, 3, 4), clock_bits=(1, 2, 3, 4), weight_bits=(2, 4),
                 reference_bits=4, conditions=(condition("noiseless"), condition("jitter", 8e-3)),
                 weight_conditions=("noiseless",), jitter_series=(2e-3,), max_test=20)
    out = {}
    for profs in (("ideal", "xylo"), ("loihi",)):
        rep = run_precision("iris", profs, settings=s, jobs=1)
        out[profs[0]] = write_report(rep, tmp_path_factory.mktemp(profs[0]))
    return out


def test_files_and_json_keys(reports):
    d = reports["ideal"]
    for name in ("precision.json", "report.html", "report.md", "accuracy_vs_bits.png", "theory.png", "clock_bits_vs_jitter.png",
                 "pareto.png", "profiles.png", "timing_error_vs_bits.png"):
        assert (d / name).stat().st_size > 0, name
    data = json.loads((d / "precision.json").read_text())
    assert isinstance(data["float_accuracy"], float)
    assert set(data["min_bits"]) == {"rate", "temporal"}
    assert set(data["min_bits"]["temporal"]["jitter_8ms"]) == {"clock"}
    assert set(data["by_profile"]) == {"ideal", "xylo"}
    assert "profiles" in {p.stem for p in d.glob("*.png")}
    assert not (reports["loihi"] / "profiles.png").exists()       # one profile: nothing to set side by side
    c = data["continuous"]
    assert c["profile"] == "ideal" and c["classifier"] == "mlp" and c["seeds"] == 2
    assert set(c["conditions"]) == {"noiseless", "jitter_8ms", "drift_20000ppm"}
    assert [p["bits"] for p in c["conditions"]["noiseless"]] == [1, 2, 3, 4]
    assert [p["bits"] for p in c["conditions"]["jitter_8ms"]] == [None, 1, 2, 3, 4]   # None: continuous, jittered
    assert c["reference"]["construction_agreement"] == 1.0


def test_html_is_self_contained(reports):
    text = (reports["ideal"] / "report.html").read_text()
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 6
    assert all(base64.b64decode(b)[:8] == b"\x89PNG\r\n\x1a\n" for b in images)
    assert not re.search(r'(src|href)="(http|/|\.)', text)
    for heading in ("Minimum bits", "Jitter", "Equal latency", "Equal spike budget", "Profiles and classifiers",
                    "Continuous-time reference (precise mode)"):
        assert heading in text


def test_markdown_tables(reports):
    md = (reports["ideal"] / "report.md").read_text()
    assert md.startswith("# Precision report: iris")
    assert "| code | condition | resource | min bits (measured) | predicted from noiseless |" in md
    assert "![pareto](pareto.png)" in md
    assert "![timing_error_vs_bits](timing_error_vs_bits.png)" in md
    assert "| condition | clock bits | tick (ms) | output RMS error (ms) |" in md
    assert re.search(r"\| jitter_8ms \| continuous \| +\| [0-9.e+]+ \|", md)
    assert "Against the continuous-time reference (precise mode" in md


def test_report_without_the_continuous_reference(reports, tmp_path):
    data = load_json(reports["ideal"])
    del data["continuous"]                       # a report from --no-continuous, or from before it existed
    out = write_report(data, tmp_path)
    assert not (out / "timing_error_vs_bits.png").exists()
    assert "Continuous-time reference" not in (out / "report.md").read_text()


def test_compare(reports):
    text = compare(reports["ideal"] / "precision.json", reports["loihi"])
    assert "A: iris/ideal" in text and "B: iris/loihi" in text
    assert "| rate | noiseless | counter |" in text and "float accuracy" in text


def test_load_json_errors(tmp_path):
    with pytest.raises(ModelFileError, match="no such precision report"):
        load_json(tmp_path / "nothing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"min_bits": {}}')
    with pytest.raises(ModelFileError, match="manifest.json: missing"):   # not written by a precision run
        load_json(bad)
    with ResultDirectory(tmp_path / "r", "precision") as staging:
        (staging.path / "precision.json").write_text('{"min_bits": {}}')
    with pytest.raises(ModelFileError, match="float_accuracy"):
        load_json(tmp_path / "r")
