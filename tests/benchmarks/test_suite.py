"""The benchmark suite's own machinery (benchmarks/suite.py): a real native worker run on a
small network, the record it becomes, same-clock ratios and the scaling fit.
Benchmarks measure; this only checks that what they report is computed right."""
import json

import pytest

from benchmarks import suite


def test_native_worker_record_and_table():
    out = suite.worker("native", "scale_1000", 1, "float64", 0.02, 1)
    meta = out["meta"]
    assert meta["n_neurons"] == 1000 and meta["recurrent_synapses"] == 1000 * 1000
    assert meta["poisson_events_per_s"] == pytest.approx(1000 * 2e4)
    rec = suite.record("scale_1000", "native", 1, "float64", 0.02, out, meta)
    json.dumps(rec)   # bench.json must serialise
    for key in ("benchmark", "system", "threads", "sim_s_per_bio_s", "events_per_s", "peak_rss_mb", "rate_hz"):
        assert key in rec
    spikes = out["runs"][0]["spikes"]
    events = spikes * 1000 + 2e7 * 0.02
    assert rec["events_per_s"] == pytest.approx(events / rec["sim_s"])
    assert rec["rate_hz"] == pytest.approx(spikes / 1000 / 0.02)
    assert 0 < rec["bytes_per_synapse"] < 12 and rec["clock"] == "wall"
    assert "| scale_1000 | native | 1 | float64 |" in suite.markdown([rec])


def _rec(bench, system, threads, sim, cpu=None, n=1000, events=1e9):
    return {"benchmark": bench, "system": system, "threads": threads, "precision": "float64", "duration_s": 1.0,
            "sim_s": sim, "sim_s_per_bio_s": sim, "sim_s_min": sim, "cpu_s": cpu, "events_per_s": events / sim,
            "neuron_updates_per_s": 1.0, "peak_rss_mb": 1.0, "rate_hz": 1.0, "n_neurons": n}


def test_brian2_single_thread_is_compared_on_cpu_time():
    base = _rec("cuba", "native", 1, sim=0.09, cpu=0.03)
    b2 = suite.normalise([_rec("cuba", "brian2_cpp_standalone", 1, sim=0.06)])[0]
    assert b2["clock"] == "cpu" and suite.same_clock_ratio(b2, base) == pytest.approx(2.0)
    b2mt = suite.normalise([_rec("cuba", "brian2_cpp_standalone", 2, sim=0.18)])[0]
    assert b2mt["clock"] == "wall" and suite.same_clock_ratio(b2mt, base) == pytest.approx(2.0)
    assert "brian2_cpp_standalone 1t 2.00x (cpu)" in suite.target_ratios([base, b2, b2mt])


def test_scaling_fit_recovers_a_linear_cost():
    recs = [_rec(f"scale_{n}", "native", 1, sim=2e-9 * n * 1e4 + 0.01, cpu=2e-9 * n * 1e4 + 0.01, n=n,
                 events=n * 1e4) for n in (1000, 3000, 10000, 30000)]
    fit = suite.scaling_fit(recs)
    assert "2 ns x events" in fit and "R^2 = 1.0000" in fit


def test_nest_backend_worker_record():
    """The nest_backend row: the suite's IR compiled by backends/nest.py, timed like the native one."""
    pytest.importorskip("nest")
    out = suite.worker("nest", "scale_1000", 1, "float64", 0.01, 1)
    rec = suite.record("scale_1000", "nest_backend", 1, "float64", 0.01, out, out["meta"])
    assert out["n"] == 1000 and rec["sim_s"] > 0 and rec["rate_hz"] >= 0
    assert "| scale_1000 | nest_backend | 1 | float64 |" in suite.markdown([rec])
    assert ("scale_1000", "scale_1000", "nest_backend", 1, "float64", 0.2) in suite._jobs(
        "scale_1000", "scale_1000", 0.2, 0.2, ["nest_backend"], 1, scaling=True)


def test_microcircuit_runs_native_and_nest_only():
    import argparse

    args = argparse.Namespace(peer_threads="1", only="microcircuit", systems="native,brian2_cpp,brian2_cython,nest,lava",
                              scaling=[], peer_scaling_max=0)
    jobs = suite.plan(args)
    assert {j[2] for j in jobs} == {"native", "nest"} and all(j[1] == "microcircuit_small" for j in jobs)
