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


def test_the_all_row_reports_the_threads_it_ran_and_why():
    """threads="all" is a row of its own: the threads it ran (scale_1000 has plenty of work per
    window for two), its reason, never taken as the single-thread base."""
    out = suite.worker("native", "scale_1000", "all", "float64", 0.02, 1)
    rec = suite.record("scale_1000", "native", "all", "float64", 0.02, out, out["meta"])
    json.dumps(rec)
    assert rec["threads_option"] == "all" and rec["threads"] == out["thread_choice"]["threads"] >= 1
    assert "µs of work per window" in rec["threads_reason"] or "core" in rec["threads_reason"]
    base = dict(_rec("scale_1000", "native", 1, sim=2 * rec["sim_s"]), duration_s=0.02)
    one = dict(rec, threads=1)          # "all" that ran one thread is still not the base
    text = suite.markdown([base, one])
    assert f"| scale_1000 | native | all: 1 | float64 |" in text and "| 0.50x |" in text
    ratios = suite.target_ratios([base, one])
    assert "native all (1t) float64 2.00x faster" in ratios and "threads=all ran 1 thread(s)" in ratios
    assert ("cuba", "cuba", "native", "all", "float64", 1.0) in suite._jobs("cuba", "cuba", 1.0, 1.0, ["native"], 2)


def test_thread_benchmark_verdicts():
    """benchmarks/threads.py: speed-ups over the single thread and the targets' verdicts."""
    from benchmarks import threads

    def setting(n, wall, reason="as requested"):
        return {"threads": n, "choice": {"reason": reason}, "wall_s": [wall] * 3, "busiest_cpu_s": [wall] * 3,
                "cpu_s": [wall] * 3, "burst_s": []}
    m = {"benchmark": "cuba", "load_before": "0.1", "load_after": "0.2",
         "settings": {"1": setting(1, 0.03), "2": setting(2, 0.02), "all": setting(1, 0.0312, "1 of 2 cores")}}
    rows, verdicts = threads.summarise(m)
    assert len(rows) == 3 and "| cuba | 2 | 2 | 0.0200 |" in rows[1] and "1.50x" in rows[1]
    assert verdicts[0].startswith("cuba: 2 threads 1.50x") and verdicts[0].endswith(": met")
    assert "all = 1 thread(s), 0.96x" in verdicts[1] and ": met; 1 of 2 cores" in verdicts[1]
    m["settings"]["all"] = setting(2, 0.04)
    assert "NOT met" in threads.summarise(m)[1][1]


def test_thread_benchmark_settings_and_where_threads_ran():
    """benchmarks/threads.py: "2p" and "2u" are two pinned and two unpinned threads; the phase lines say which CPU each
    thread ran on and in how many windows two threads shared one; sched counts where Linux has them."""
    from benchmarks import threads

    assert [threads.parse_setting(x) for x in ("1", "2", "2u", "2p", "2e", "2h", "2pe", "2uh", "2q", "2pqe", "all",
                                               "1u", "1p", "1e", "u", "x", "0", "2pu", "2qh", "2pp")] \
        == [1, 2, "2u", "2p", "2e", "2h", "2pe", "2uh", "2q", "2pqe", "all"] + [None] * 9
    assert threads.main(["--settings", "1,1u"]) == 2
    counts = threads.sched_counts()
    assert counts is None or all(isinstance(c, int) and c >= 0 for c in counts)
    p = {"windows": 10, "window_steps": 1, "own_ns": [100.0, 50.0], "wait_ns": [0.0, 10.0], "draw_ns": [0.0, 0.0],
         "deliver_ns": [20.0, 10.0], "busiest_work_ns": 60.0, "cpus": [{0: 10}, {0: 4, 1: 6}], "windows_on_one_cpu": 4,
         "parts": [{2: 7, 3: 3}, {1: 3, 2: 7}], "layout_parts": 4}
    line = threads.phase_lines({"benchmark": "cuba", "settings": {"2u": {"phases": p}}})[0]
    assert "thread 1 on CPU 0 (4), 1 (6)" in line and "both threads on one CPU at the end of 4 windows" in line
    assert "parts run (of 4): thread 0 2 in 7 windows, 3 in 3 windows; thread 1 1 in 3 windows, 2 in 7" in line


def test_cores_probe_parsing_and_summary():
    """benchmarks/cores.py: the probe's lines parse into (alone A, alone B, both A, both B); a round's "both / one" is
    the two rates while both ran over one CPU's alone (their mean), "slower / alone" the lower of each CPU's rate
    while both ran over its own alone; medians and 10th/90th percentiles over rounds."""
    from benchmarks import cores

    rows = cores.parse_rounds("1.0e8 1.0e8 1.0e8 5.0e7\n2.0e8 1.0e8 1.0e8 1.0e8\n1.0e8 1.0e8 1.0e8 1.0e8\n")
    assert rows[1] == (2.0e8, 1.0e8, 1.0e8, 1.0e8)
    assert cores.round_ratios(rows[0]) == {"both_over_one": 1.5, "slower_over_alone": 0.5}
    assert cores.round_ratios(rows[1])["both_over_one"] == pytest.approx(2 / 1.5)
    assert cores.round_ratios(rows[1])["slower_over_alone"] == 0.5
    s = cores.summarise(rows)
    assert s["rounds"] == 3 and s["alone_a"]["median"] == 1.0e8 and s["alone_a"]["p90"] == 1.0e8
    assert s["both_b"] == {"median": 1.0e8, "p10": 5.0e7, "p90": 1.0e8}
    assert s["both_over_one"]["median"] == 1.5 and s["both_over_one"]["p90"] == 1.5
    assert s["slower_over_alone"] == {"median": 0.5, "p10": 0.5, "p90": 0.5}
    text = "\n".join(cores.lines(s, (0, 1)))
    assert "CPU 0 alone 100.0 (p10 100.0, p90 100.0)" in text and "both / one 1.50" in text
    assert "slower / alone 0.50" in text
    with pytest.raises(ValueError):
        cores.parse_rounds("1.0 2.0\n")
    with pytest.raises(ValueError):
        cores.summarise([])
    assert cores.main(["--cpus", "0,0"]) == 2
    assert cores.main(["--cpus", f"0,{max(cores.allowed_cpus()) + 1}"]) == 2   # a CPU outside the process's mask


def test_thread_benchmark_settings_compile_as_named():
    """benchmarks/threads.py: "2q" lays out 4 parts of 35/15/15/35 % that the adaptive split moves, "2e" keeps the
    even split, "2h" one part per thread (the default layout), "2p" pins."""
    import spikecore as sc
    from backends import get_backend
    from benchmarks import threads
    from spikecore.engine import simulator
    from spikecore.engine._core import openmp_enabled

    if not openmp_enabled():
        pytest.skip("engine built without OpenMP")
    net = sc.Network("tiny", seed=1, dt="0.1 ms")
    net.add(sc.Population(64, "lif_delta", dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV",
                                                 t_refrac="2 ms"), name="a"))
    g = net.to_ir()
    be = get_backend("native")
    k = {s: threads.compile_setting(be, g, s).sim for s in (2, "2q", "2qe", "2h", "2p", "2pq")}
    assert (k[2].parts, k[2].kernel.split, k[2].kernel.pin_threads) == (2, "adaptive", False)
    assert (k["2q"].parts, k["2q"].kernel.split) == (4, "adaptive")
    assert (k["2qe"].parts, k["2qe"].kernel.split) == (4, "even")
    assert (k["2h"].parts, k["2h"].threads, k["2h"].kernel.split) == (2, 2, "adaptive")
    assert k["2p"].kernel.pin_threads and k["2p"].parts == 2 and simulator.part_shares(2) == (1, 1)
    assert k["2pq"].kernel.pin_threads and k["2pq"].parts == 4
