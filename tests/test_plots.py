"""spikecore.plotting: one headless figure with raster, rate, ISI distribution and traces."""
from __future__ import annotations

import numpy as np
import pytest

import spikecore as sc
from spikecore.plotting import plot_result, population_isis


def _result(monitor=True, drive="600 pA"):
    net = sc.Network("plotnet", seed=2, dt="0.1 ms", duration="150 ms")
    net.population("exc", 20, "lif_cuba", {"tau_mem": "20 ms", "v_leak": "-60 mV", "v_threshold": "-50 mV",
                                           "v_reset": "-65 mV", "tau_syn": {"exc": "5 ms"}},
                   initial={"v": sc.Uniform("-65 mV", "-50 mV")})
    net.population("inh", 5, "lif_delta", {"tau_mem": "10 ms", "v_leak": "-60 mV", "v_threshold": "-50 mV",
                                           "v_reset": "-60 mV"})
    net.add(sc.CurrentSource("exc", amplitude=drive))
    net.project("exc", "inh", sc.AllToAll(), weight="1 mV")
    if monitor:
        net.add(sc.StateMonitor("exc", ("v", "syn_exc"), neurons=[0, 1], name="vm"))
    return net.run()


def _titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_figure_has_all_panels_and_is_written(tmp_path):
    res = _result()
    assert res.spikes["exc"][0].size > 20
    path = tmp_path / "sub" / "overview.png"
    fig = res.plot(path)
    titles = _titles(fig)
    for wanted in ("Raster", "Population rate (5 ms bins)", "ISI distribution", "Trace of v", "Trace of syn_exc"):
        assert wanted in titles
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 20_000
    raster = fig.axes[titles.index("Raster")]
    n_points = sum(len(c.get_offsets()) for c in raster.collections)
    assert n_points == sum(t.size for t, _ in res.spikes.values())
    trace = fig.axes[titles.index("Trace of v")]
    np.testing.assert_allclose(trace.lines[0].get_ydata(), res.traces["vm"]["variables"]["v"][:, 0] * 1e3)


def test_without_traces_or_spikes_it_still_draws(tmp_path):
    quiet = _result(monitor=False, drive="0 pA")
    assert sum(t.size for t, _ in quiet.spikes.values()) == 0
    fig = plot_result(quiet, tmp_path / "quiet.svg")
    assert "Trace of v" not in _titles(fig)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "no spikes" in texts and "no neuron fired twice" in texts
    assert (tmp_path / "quiet.svg").read_text().lstrip().startswith("<?xml")


def test_population_isis():
    t = np.array([0.1, 0.3, 0.15, 0.2, 0.6])
    i = np.array([0, 0, 1, 1, 0])
    assert sorted(population_isis(t, i).round(6).tolist()) == pytest.approx([0.05, 0.2, 0.3])
    assert population_isis(np.array([0.1]), np.array([0])).size == 0


def test_thinning_keeps_large_rasters_bounded():
    res = _result(monitor=False)
    fig = res.plot(max_points=10)
    raster = fig.axes[_titles(fig).index("Raster")]
    assert sum(len(c.get_offsets()) for c in raster.collections) <= 10 + len(res.spikes)
