"""spikecore.analysis.fi: rates from spikes, the rheobase's bisection and the onset type of
each kind of neuron (Type I izhikevich class 1, Type II AdEx, logarithmic LIF)."""
import math

import numpy as np
import pytest

from spikecore.analysis import fi as fia
from spikecore.errors import ValidationError
from spikecore.io import load_network
from spikecore.network import Network, Population, Uniform


def test_rate_is_one_over_mean_isi_after_the_transient():
    # neuron 0: spikes every 0.3 s from 0.1 s; neuron 1: one spike after the transient;
    # neuron 2: fires at 10 Hz until 0.9 s, then stops (2 s run); neuron 3: never
    t0 = np.arange(0.1, 2.0, 0.3)
    t2 = np.arange(0.5, 0.95, 0.1)
    times = np.r_[t0, 0.2, 1.0, t2]
    idx = np.r_[np.zeros(t0.size), 1, 1, np.full(t2.size, 2)].astype(int)
    rates, first = fia.spike_rates(times, idx, 4, duration=2.0, transient=0.5)
    assert rates[0] == pytest.approx(1 / 0.3)
    assert rates[1] == 0.0 and rates[2] == 0.0 and rates[3] == 0.0
    assert first[0] == pytest.approx(0.1) and first[1] == pytest.approx(0.2) and math.isnan(first[3])


def test_current_range_parses_units_and_count():
    assert np.allclose(fia.current_range("0nA:1nA:41"), np.linspace(0, 1e-9, 41))
    assert np.allclose(fia.current_range("-10 pA:10pA:3"), [-1e-11, 0, 1e-11])


@pytest.mark.parametrize("text, needle", [
    ("1nA:0nA:41", "reversed"), ("0nA:1nA:0", "empty"), ("0nA:0nA:5", "reversed"),
    ("0nA:1nA", "START:STOP:COUNT"), ("0nA:1nA:x", "integer COUNT"), ("0mV:1nA:5", "A"),
])
def test_bad_current_ranges_are_refused(text, needle):
    with pytest.raises(ValidationError, match=needle):
        fia.current_range(text)


def test_transient_not_shorter_than_duration_is_refused():
    with pytest.raises(ValidationError, match="--transient"):
        fia.check_times(1.0, 1.0)


def _lif(size=1, **extra):
    net = Network("lif", dt="0.1 ms", duration="2 s")
    params = {"tau_mem": "20 ms", "v_leak": "-70 mV", "v_threshold": "-50 mV", "v_reset": "-60 mV",
              "t_refrac": "2 ms", "tau_syn": {"e": "5 ms"}, **extra}
    net.add(Population(size, "lif_cuba", params, name="p"))
    return net


def test_lif_onset_is_logarithmic_at_its_analytic_rheobase():
    """A LIF fires for r I > v_threshold - v_leak: I_c = 20 mV / 100 Mohm = 200 pA; above it
    1/f = t_ref + tau ln((r I - 10 mV) / (r I - 20 mV)) (reset 10 mV above rest): continuous, logarithmic."""
    fi = fia.fi_curve(_lif(), "p", np.linspace(0, 1e-9, 41))
    assert fi["onset"] == "logarithmic" and abs(fi["onset_statistic"]) < fia.ONSET_SLOPE
    assert fi["exponent"] is None and fi["min_rate_hz"] is None
    lo, hi = fi["rheobase_bracket_A"]
    assert hi - lo == fi["rheobase_resolution_A"] <= 1e-7 * 1e-9 * 1.0001
    assert lo - 1e-21 <= 200e-12 <= hi + 1e-21
    currents, rates = np.asarray(fi["currents_A"]), np.asarray(fi["rates_hz"])
    above = currents > 210e-12
    drive = currents[above] * 1e8
    period = 2e-3 + 20e-3 * np.log((drive - 10e-3) / (drive - 20e-3))
    assert np.all(np.abs(1 / rates[above] - period) <= 1e-4 + 1e-9)      # a spike lands on the step after its crossing


def test_class1_izhikevich_is_type1_with_exponent_near_one_half(examples_dir):
    net = load_network(examples_dir / "izhikevich_class1.yaml")
    fi = fia.fi_curve(net, "n", fia.current_range("0pA:10pA:41"), duration=net.duration)
    assert fi["onset"] == "type1" and fi["onset_statistic"] < -fia.ONSET_SLOPE
    # its saddle-node: 0.04 v^2 + 4.2 v + 108 + I = 0 has one root at I = 0.36 / 0.16 = 2.25 (mV/ms = pA)
    assert fi["threshold_fit_A"] == pytest.approx(2.25e-12, rel=1e-4)
    assert 0.45 < fi["exponent"] < 0.55
    lo, hi = fi["exponent_ci95"]
    assert lo < fi["exponent"] < hi and hi - lo < 0.05
    assert any("continuous down to" in n for n in fi["notes"])


def test_adex_with_strong_subthreshold_adaptation_is_type2(examples_dir):
    net = load_network(examples_dir / "adex_type2.yaml")
    fi = fia.fi_curve(net, "n", fia.current_range("0nA:2nA:41"), duration=2.0)
    assert fi["onset"] == "type2" and fi["onset_statistic"] > fia.ONSET_SLOPE
    assert fi["min_rate_hz"] > 10 * fi["rate_floor_hz"]       # a jump, far above what a run resolves
    assert fi["exponent"] is None


def test_izhikevich_regular_spiking_is_not_type1():
    """RS loses rest through a Hopf point just below its saddle-node: a jump to about 4 Hz at 1e-7 of the range."""
    net = Network("rs", dt="0.1 ms", duration="2 s")
    net.add(Population(1, "izhikevich", {"preset": "RS"}, name="n"))
    fi = fia.fi_curve(net, "n", fia.current_range("0pA:10pA:41"))
    assert fi["onset"] == "type2"
    assert 3.5 < fi["min_rate_hz"] < 4.5
    assert fi["rheobase_A"] == pytest.approx(3.7744e-12, rel=1e-4)


def test_bisection_brackets_the_rheobase_within_its_resolution():
    fi = fia.fi_curve(_lif(), "p", np.linspace(0, 1e-9, 41), rel_resolution=1e-4)
    lo, hi = fi["rheobase_bracket_A"]
    assert 0 < hi - lo <= 1e-4 * 1e-9
    net = _lif()
    drive = fia.NetworkDrive(net, "p", 2.0)
    rates, _ = fia.spike_rates(*drive(np.array([lo, hi])), 2, 2.0, 0.5)
    assert rates[0] == 0 and rates[1] > 0


def test_a_range_that_does_not_bracket_the_rheobase_gives_no_onset():
    fi = fia.fi_curve(_lif(), "p", np.linspace(0, 100e-12, 5))
    assert fi["onset"] is None and fi["rheobase_A"] is None and "raise the range's STOP" in fi["notes"][0]
    fi = fia.fi_curve(_lif(), "p", np.linspace(300e-12, 400e-12, 5))
    assert fi["onset"] is None and "lower the range's START" in fi["notes"][0]


def test_per_neuron_parameters_are_refused_and_per_neuron_initial_values_dropped():
    net = Network("x", dt="0.1 ms")
    net.add(Population(2, "izhikevich", {"preset": "RS", "a": [0.02, 0.03]}, name="n"))
    with pytest.raises(ValidationError, match="populations.n.params.a"):
        fia.fi_curve(net, "n", np.linspace(0, 10e-12, 5))
    net = Network("y", dt="0.1 ms")
    net.add(Population(3, "izhikevich", {"preset": "RS"}, {"v": Uniform("-70 mV", "-60 mV")}, name="n"))
    fi = fia.fi_curve(net, "n", np.linspace(0, 10e-12, 5), rel_resolution=1e-3)
    assert any("initial values of v dropped" in n for n in fi["notes"])


def test_unknown_population_is_refused_with_the_nearest_name():
    with pytest.raises(ValidationError, match="did you mean 'p'"):
        fia.fi_curve(_lif(), "pp", np.linspace(0, 1e-9, 5))


def test_save_fi_writes_json_and_png_with_a_manifest(tmp_path):
    import json
    fi = fia.fi_curve(_lif(), "p", np.linspace(0, 1e-9, 11), rel_resolution=1e-5)
    fia.save_fi(fi, tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "fi.json").read_text())
    assert doc["onset"] == "logarithmic" and len(doc["rates_hz"]) == 11
    assert (tmp_path / "out" / "fi.png").stat().st_size > 10_000
    assert set(json.loads((tmp_path / "out" / "manifest.json").read_text())["files"]) == {"fi.json", "fi.png"}


def test_a_resolution_finer_than_float64_stops_at_adjacent_currents():
    fi = fia.fi_curve(_lif(), "p", np.linspace(0, 1e-9, 5), rel_resolution=1e-30)
    lo, hi = fi["rheobase_bracket_A"]
    assert 0 < hi - lo <= 4 * np.spacing(hi)


def test_progress_bar_counts_the_runs(capsys):
    fia.fi_curve(_lif(), "p", np.linspace(0, 1e-9, 5), rel_resolution=1e-3, progress=True)
    err = capsys.readouterr().err
    assert "fi:" in err and "run" in err and "onset" in err
