"""benchmarks/microcircuit_full.py's summary (rates against NEST's full-scale rates, work per
simulated second) on made-up counts whose answers are known, and
benchmarks/microcircuit_nest_full.py's refusal to start on a busy machine."""
import json
from pathlib import Path

import pytest

from benchmarks import microcircuit_full as mf
from benchmarks import microcircuit_nest_full as nf

ROOT = Path(__file__).resolve().parents[2]


def fake_result(scale_rates):
    sizes = {name: 1000 for name in mf.NAMES}
    sim, presim = 0.5, 0.25
    spikes = {n: round(mf.FULL_MEAN_RATES[n] * scale_rates.get(n, 1.0) * 1000 * sim) for n in mf.NAMES}
    return {"sizes": sizes, "spikes": spikes, "spikes_total": {n: 2 * spikes[n] for n in mf.NAMES},
            "out_synapses": {n: 1000 * 100 for n in mf.NAMES}, "poisson_rate_hz": {"bg": 1e6},
            "n": 8000, "run_s": 1.5, "run_cpu_s": 3.0}, presim, sim


def test_rates_within_ten_per_cent_pass_and_outside_fail():
    r, presim, sim = fake_result({"L5e": 1.05})
    s = mf.summary(r, presim, sim)
    assert s["bad"] == [] and s["rates"]["L5e"][1] == pytest.approx(0.05, abs=1e-3)
    r, presim, sim = fake_result({"L23e": 0.85, "L6i": 1.2})
    bad = mf.summary(r, presim, sim)["bad"]
    assert len(bad) == 2 and bad[0].startswith("L23e") and bad[1].startswith("L6i")


def test_work_per_simulated_second():
    r, presim, sim = fake_result({})
    s = mf.summary(r, presim, sim)
    # each population: spikes_total * out-degree 100, over presim + sim = 0.75 s
    assert s["recurrent_events_per_bio_s"] == pytest.approx(sum(r["spikes_total"].values()) * 100 / 0.75)
    assert s["neuron_updates_per_bio_s"] == 8000 * 10_000 and s["rtf_wall"] == pytest.approx(2.0)
    assert s["rtf_cpu"] == pytest.approx(4.0)


def test_the_nest_reference_refuses_a_busy_machine(monkeypatch, capsys):
    monkeypatch.setattr(nf, "NEED_GIB", 10**6)
    assert "needs about" in nf.refusal(False) and nf.refusal(True) is None
    with pytest.raises(SystemExit) as e:
        nf.main(["--out", "/nonexistent/x.json"])
    assert e.value.code == 2 and capsys.readouterr().err.count("\n") == 1
    monkeypatch.setattr(nf, "NEED_GIB", 0.0)
    monkeypatch.setattr(nf, "MAX_LOAD", -1.0)
    assert "not idle" in nf.refusal(False)


def test_the_nest_reference_refuses_too_few_threads_for_nests_connection_limit(capsys):
    # NEST 3.10 raises "Too many connections" above 134,217,726 per thread and synapse model:
    # 2.99e8 synapses need 3 threads; 2 must be refused before NEST starts, in one line
    assert nf.min_threads() == 3
    with pytest.raises(SystemExit) as e:
        nf.main(["--threads", "2", "--out", "/nonexistent/x.json"])
    err = capsys.readouterr().err
    assert e.value.code == 2 and "--threads 3 or more" in err and "Traceback" not in err


def test_against_a_reference_native_threads_are_its_own_or_the_references(monkeypatch, tmp_path):
    # the full-scale NEST reference ran 4 threads (NEST's connection limit); native may run 2
    from benchmarks import microcircuit as mc
    ref = json.loads((ROOT / "benchmarks" / "data" / "microcircuit_nest_1.0.json").read_text())
    assert ref["threads"] >= nf.min_threads() and len(ref["runs"]) >= 3
    seen = []

    def native(scale, seed, threads, presim, sim):
        seen.append(threads)
        return next(r for r in ref["runs"] if r["seed"] == seed)   # NEST's own run stands in: equivalent

    monkeypatch.setattr(mc, "run_native", native)
    path = str(ROOT / "benchmarks" / "data" / "microcircuit_nest_1.0.json")
    mc.main(["--against", path, "--seeds", "1", "--threads", "2", "--out", str(tmp_path)])
    mc.main(["--against", path, "--seeds", "1", "--out", str(tmp_path)])
    assert seen == [2, ref["threads"]]
