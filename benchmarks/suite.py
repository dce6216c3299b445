"""The benchmark suite: spikecore's native engine against Brian2, NEST and Lava, same machine, same run.

    python -m benchmarks [--out DIR] [--repeats 3] [--only cuba,brunel] [--systems native,nest]
    make bench BENCH_ARGS="--out results/bench"

Networks (benchmarks/peers.py has the peers' scripts): CUBA 1 s and 10 s, COBA,
Brunel 10k, COBA with AdEx neurons (``adex``: ADEX_COBA below), the cortical microcircuit at
scale 0.1 (``--only microcircuit``: native and NEST only; benchmarks/microcircuit.py compares
their activity), and a scaling series of Brunel-like networks (fixed in-degree 1000)
from 10^3 to 10^5 neurons. Systems: native (1 thread and all cores, float64 and
float32, and threads="all", which runs fewer threads than cores where the work per window is
small: spikecore/engine/thread_choice.py), Brian2 cpp_standalone (1 thread and all cores via OpenMP), Brian2
runtime cython, NEST 3.10 (1 and all threads) where it imports (and, with
``--systems ...,nest_backend``, the same IR compiled by backends/nest.py), and Lava through
``backends.get_backend("lava")`` where that backend exists and can express the
network (skipped with the reason printed otherwise).

Every measurement runs in a fresh process (peak RSS is that process's); the
simulation phase is timed on its own (build separate), median of ``--repeats``.
Synaptic events are counted the same way for every system: spikes x mean
out-degree of the recurrent synapses + expected Poisson input events, so
events/s compares like with like; firing rates are printed beside every time, so
a fast wrong run is caught. Output: DIR/bench.json (a list of records) and
DIR/bench.md (the table); benchmarks/RESULTS.md keeps the latest.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BENCHMARKS = {
    # name: (network, simulated seconds for native and the fast peers, seconds for slow peers)
    "cuba": ("cuba", 1.0, 1.0),
    "cuba_10s": ("cuba", 10.0, 10.0),
    "coba": ("coba", 1.0, 1.0),
    "brunel": ("brunel", 1.0, 0.2),
    "adex": ("adex_coba", 1.0, 1.0),
    # Potjans & Diesmann 2014 at scale 0.1, Poisson drive (examples/microcircuit_small.yaml)
    "microcircuit": ("microcircuit_small", 1.0, 1.0),
}
#: benchmarks only some peers have a script of: name -> the systems that run it
PEERS_OF = {"microcircuit": {"native", "nest", "nest_backend"}}
SCALING = (1000, 3000, 10000, 30000, 100000)
SCALING_S = 0.2
SLOW = {"brian2_cython", "lava"}      # these get the shorter duration on big networks
PEER_THREADS = [1]


def all_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# ----------------------------------------------------------------------------- networks
#: Brette et al. (2007) benchmark 1 (COBA: 4000 neurons, 80% excitatory, p = 0.02, 6/67 nS,
#: the 50 ms Poisson kick of examples/coba.yaml) with AdEx neurons (adex_cond) of COBA's
#: membrane (200 pF, 10 nS, E_L -60 mV), V_T -50 mV, Delta_T 2 mV, V_peak -40 mV, reset
#: -60 mV, 5 ms refractory, a 2 nS, b 20 pA, tau_w 144 ms; forward Euler (integrator euler),
#: the scheme the Brian2 peer (method 'euler') runs: the same arithmetic on both sides.
ADEX_COBA = {"c_m": "200 pF", "g_l": "10 nS", "v_leak": "-60 mV", "v_t": "-50 mV", "delta_t": "2 mV",
             "v_threshold": "-40 mV", "v_reset": "-60 mV", "t_refrac": "5 ms", "a": "2 nS", "b": "20 pA",
             "tau_w": "144 ms", "integrator": "euler", "tau_syn": {"exc": "5 ms", "inh": "10 ms"},
             "e_rev": {"exc": "0 mV", "inh": "-80 mV"}}


def adex_coba_network():
    import spikecore as sc

    net = sc.Network("adex_coba", seed=1, dt="0.1 ms")
    init = {"v": sc.Uniform("-60 mV", "-50 mV")}
    net.add(sc.Population(3200, "adex_cond", dict(ADEX_COBA), init, name="exc"))
    net.add(sc.Population(800, "adex_cond", dict(ADEX_COBA), init, name="inh"))
    for pop, n in (("exc", 3200), ("inh", 800)):
        net.add(sc.PoissonSource(n, "100 Hz", stop="50 ms", name=f"kick_{pop}"))
        net.add(sc.Projection(f"kick_{pop}", pop, sc.OneToOne(), weight="30 nS", delay="0.1 ms", receptor="exc",
                              name=f"kick_{pop[0]}"))
    for pre, w, rec in (("exc", "6 nS", "exc"), ("inh", "67 nS", "inh")):
        for post in ("exc", "inh"):
            net.add(sc.Projection(pre, post, sc.FixedProbability(0.02), weight=w, delay="0.1 ms", receptor=rec,
                                  name=f"{pre}_{post}"))
    return net


def build_network(name: str):
    """The spikecore description of a benchmark network."""
    import spikecore as sc

    if name == "adex_coba":
        return adex_coba_network()
    if not name.startswith("scale_"):
        return sc.Network.load(ROOT / "examples" / f"{name}.yaml")
    n = int(name.split("_")[1])
    n_e, n_i = 4 * n // 5, n - 4 * n // 5
    net = sc.Network(name, seed=1, dt="0.1 ms")
    params = dict(tau_mem="20 ms", v_leak="0 mV", v_threshold="20 mV", v_reset="10 mV", t_refrac="2 ms")
    init = {"v": sc.Uniform("0 mV", "20 mV")}
    net.add(sc.Population(n_e, "lif_delta", params, init, name="exc"))
    net.add(sc.Population(n_i, "lif_delta", params, init, name="inh"))
    net.add(sc.PoissonSource(n_e, "20 kHz", name="ext_exc"), sc.PoissonSource(n_i, "20 kHz", name="ext_inh"))
    net.add(sc.Projection("ext_exc", "exc", sc.OneToOne(), weight="0.1 mV", delay="0.1 ms", name="ext_e"))
    net.add(sc.Projection("ext_inh", "inh", sc.OneToOne(), weight="0.1 mV", delay="0.1 ms", name="ext_i"))
    for pre, k, w in (("exc", 800, "0.1 mV"), ("inh", 200, "-0.5 mV")):
        for post in ("exc", "inh"):
            net.add(sc.Projection(pre, post, sc.FixedIndegree(k), weight=w, delay="1.5 ms", name=f"{pre}_{post}"))
    return net


def network_meta(g) -> dict:
    """Sizes that turn spike counts into synaptic events, the same for every system."""
    pops = set(g.populations)
    recurrent = sum(e.n_synapses for e in g.projections.values() if e.pre in pops)
    pois_rate = {s.name: float(s.rates.sum()) for s in g.poisson_sources.values()}
    pois_events = sum(pois_rate[e.pre] / g.poisson_sources[e.pre].size * e.n_synapses
                      for e in g.projections.values() if e.pre in pois_rate)
    return {"n_neurons": g.n_neurons, "n_synapses": g.n_synapses, "recurrent_synapses": recurrent,
            "poisson_events_per_s": pois_events,
            "poisson_stop_s": min([s.stop for s in g.poisson_sources.values()] or [float("inf")])}


def worker(system: str, name: str, threads: int, precision: str, duration: float, repeats: int) -> dict:
    """Runs inside a fresh process: build, then simulate ``repeats`` times."""
    import resource

    from backends import get_backend

    t0 = time.perf_counter()
    g = build_network(name).to_ir()
    ir_s = time.perf_counter() - t0
    meta = network_meta(g)
    be = get_backend(system)
    opts = {"threads": threads, "precision": precision} if system == "native" else \
        {"threads": threads, "poisson": "nest"} if system == "nest" else {}   # NEST draws, as its peer script
    runs, build, extra = [], [], {}
    for _ in range(repeats):
        exe = be.compile(g, **opts)
        build.append(exe.build_s)
        c0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = exe.sim.kernel.thread_cpu if system == "native" else None
        res = exe.run(duration)
        c1 = resource.getrusage(resource.RUSAGE_SELF)
        if system == "native":
            # the busiest thread's CPU time: the run time on free cores, up to barrier waits
            extra.setdefault("busiest_thread_cpu", []).append(float((exe.sim.kernel.thread_cpu - t0).max()))
        spikes = sum(t.size for t, _ in res.spikes.values())
        runs.append({"sim_s": res.wall_s, "spikes": spikes,
                     "cpu_s": c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime,
                     "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
        if system == "native":
            extra["bytes_per_synapse"] = exe.sim.bytes_per_synapse
            extra["thread_choice"] = exe.sim.thread_choice.as_dict()     # what "all" chose, and why
        del exe, res
    return {"runs": runs, "build_s": statistics.median(build) + ir_s, "n": g.n_neurons, "meta": meta, **extra}


def run_worker(system, name, threads, precision, duration, repeats, timeout=3600) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.suite", "--worker", system, name, str(threads), precision,
           str(duration), str(repeats)]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError((p.stderr or p.stdout).strip().splitlines()[-1] if (p.stderr or p.stdout) else "failed")
    return json.loads(lines[-1][len("RESULT "):])


# ----------------------------------------------------------------------------- records
def record(bench, system, threads, precision, duration, out, meta) -> dict:
    runs = out["runs"]
    sim = statistics.median(r["sim_s"] for r in runs)
    spikes = statistics.median(r["spikes"] for r in runs)
    n = meta["n_neurons"]
    steps = round(duration / 1e-4)
    pois_t = min(duration, meta["poisson_stop_s"])
    events = spikes * meta["recurrent_synapses"] / n + meta["poisson_events_per_s"] * pois_t
    rec = {
        "benchmark": bench, "system": system, "threads": threads, "precision": precision,
        "duration_s": duration, "sim_s": sim, "sim_s_per_bio_s": sim / duration,
        "sim_s_runs": [r["sim_s"] for r in runs], "sim_s_min": min(r["sim_s"] for r in runs),
        # CPU seconds of the simulating process over the simulation phase (all its threads),
        # where the system lets us isolate it: on a shared machine wall time includes waiting
        "cpu_s": statistics.median(r["cpu_s"] for r in runs) if all("cpu_s" in r for r in runs) else None,
        "build_s": out.get("build_s"),
        "events_per_s": events / sim, "neuron_updates_per_s": n * steps / sim,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "rate_hz": spikes / n / duration,
        "n_neurons": n, "n_synapses": meta["n_synapses"], "repeats": len(runs),
    }
    if "bytes_per_synapse" in out:
        rec["bytes_per_synapse"] = out["bytes_per_synapse"]
    if "busiest_thread_cpu" in out:
        rec["busiest_thread_cpu_s"] = statistics.median(out["busiest_thread_cpu"])
    if threads == "all" and "thread_choice" in out:
        # the native engine's "all": the threads it ran (an int, as every record's) and why
        rec["threads"] = out["thread_choice"]["threads"]
        rec["threads_option"] = "all"
        rec["threads_reason"] = out["thread_choice"]["reason"]
    # Brian2 cpp_standalone times a single-threaded run with std::clock(), i.e. CPU time
    # (brian2/devices/cpp_standalone/templates/network.cpp), and with OpenMP with
    # omp_get_wtime(), i.e. wall time; everyone else here reports wall time
    rec["clock"] = "cpu" if system == "brian2_cpp_standalone" and threads == 1 else "wall"
    if rec["clock"] == "cpu":
        rec["cpu_s"] = sim
    return rec


def normalise(records) -> list:
    """Fill fields of records written before they existed (clock of Brian2 single-thread runs)."""
    for r in records:
        if "clock" not in r:
            r["clock"] = "cpu" if r["system"] == "brian2_cpp_standalone" and r["threads"] == 1 else "wall"
            if r["clock"] == "cpu":
                r["cpu_s"] = r["sim_s"]
    return records


def _is_base(r) -> bool:
    """The record every other of its benchmark is compared with: native, 1 thread asked for, float64."""
    return (r["system"] == "native" and r["threads"] == 1 and r["precision"] == "float64"
            and r.get("threads_option") != "all")


def same_clock_ratio(r, base) -> float | None:
    """How many times slower r is than the native base record, on r's own clock
    (CPU against CPU where r reports CPU time, wall against wall otherwise)."""
    if r.get("clock") == "cpu":
        return r["cpu_s"] / base["cpu_s"] if base.get("cpu_s") else None
    return r["sim_s"] / base["sim_s"] * (base["duration_s"] / r["duration_s"])


def machine() -> str:
    cpu = platform.processor() or "cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        mem = float("nan")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{cpu}, {all_cores()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, load average {load:.1f} at start")


def markdown(records) -> str:
    head = ("| benchmark | system | threads | precision | sim s / bio s (median) | clock | min | "
            "time / native 1t (same clock) | CPU s / bio s | events/s | neuron upd/s | peak RSS MB | B/syn | "
            "rate Hz |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    rows = []
    base = {r["benchmark"]: r for r in records if _is_base(r)}
    for r in records:
        b = base.get(r["benchmark"])
        x = same_clock_ratio(r, b) if b else None
        ratio = f"{x:.2f}x" if x else "-"
        bps = f"{r['bytes_per_synapse']:.1f}" if "bytes_per_synapse" in r else "-"
        cpu = f"{r['cpu_s'] / r['duration_s']:.4f}" if r.get("cpu_s") else "-"
        threads = f"all: {r['threads']}" if r.get("threads_option") == "all" else r["threads"]
        rows.append(f"| {r['benchmark']} | {r['system']} | {threads} | {r['precision']} | "
                    f"{r['sim_s_per_bio_s']:.4f} | {r.get('clock', 'wall')} | {r['sim_s_min'] / r['duration_s']:.4f} | "
                    f"{ratio} | {cpu} | "
                    f"{r['events_per_s']:.3g} | "
                    f"{r['neuron_updates_per_s']:.3g} | {r['peak_rss_mb']:.0f} | {bps} | {r['rate_hz']:.2f} |")
    return head + "\n".join(rows) + "\n"


def scaling_fit(records) -> str:
    """Least-squares fit cost = a + b * events over the native scaling series, on CPU
    seconds of the simulation phase (wall seconds on a shared machine add waiting)."""
    import numpy as np

    lines = []
    for threads in sorted({r["threads"] for r in records if r["benchmark"].startswith("scale_")}):
        pts = [r for r in records if r["benchmark"].startswith("scale_") and r["system"] == "native"
               and r["threads"] == threads and r["precision"] == "float64" and r.get("cpu_s")]
        if len(pts) < 3:
            continue
        pts.sort(key=lambda r: r["n_neurons"])
        ev = np.array([r["events_per_s"] * r["sim_s"] for r in pts])
        t = np.array([r["cpu_s"] for r in pts])
        A = np.vstack([np.ones_like(ev), ev]).T
        (a, b), *_ = np.linalg.lstsq(A, t, rcond=None)
        pred = a + b * ev
        r2 = 1 - ((t - pred) ** 2).sum() / ((t - t.mean()) ** 2).sum()
        slope = np.polyfit(np.log(ev), np.log(t), 1)[0]
        per = ", ".join(f"N={r['n_neurons']}: {e:.3g} events {c:.3f} s ({c / e * 1e9:.2f} ns/event)"
                        for r, e, c in zip(pts, ev, t))
        lines.append(f"native {threads} thread(s), CPU s = {a:.3g} + {b * 1e9:.3g} ns x events "
                     f"(R^2 = {r2:.4f}; log-log slope {slope:.3f}, 1 = linear; worst residual "
                     f"{np.max(np.abs(t - pred) / t) * 100:.1f}%) [{per}]")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- main
def plan(args):
    T = all_cores()
    global PEER_THREADS
    PEER_THREADS = sorted({1 if x == "1" else T for x in args.peer_threads.split(",")})
    names = [b for b in args.only.split(",")] if args.only else list(BENCHMARKS) + ["scaling"]
    systems = args.systems.split(",")
    jobs = []
    for bench in names:
        if bench == "scaling":
            for n in args.scaling:
                sysl = ["native"] if n > args.peer_scaling_max else systems
                jobs += _jobs(f"scale_{n}", f"scale_{n}", SCALING_S, SCALING_S, sysl, T, scaling=True)
            continue
        net, d, d_slow = BENCHMARKS[bench]
        jobs += _jobs(bench, net, d, d_slow, [s for s in systems if s in PEERS_OF.get(bench, {s})], T)
    return jobs


def _jobs(bench, net, d, d_slow, systems, T, scaling=False):
    out = []
    thread_set = sorted({1, T})
    for s in systems:
        if s == "native":
            for t in thread_set:
                out.append((bench, net, "native", t, "float64", d))
            if not scaling:
                out.append((bench, net, "native", 1, "float32", d))
                # "all": every core, or fewer where the work per window is small (thread_choice.py)
                out.append((bench, net, "native", "all", "float64", d))
        elif s == "brian2_cpp":
            for t in PEER_THREADS:
                out.append((bench, net, "brian2_cpp_standalone", t, "float64", d))
        elif s == "brian2_cython" and not scaling:
            out.append((bench, net, "brian2_cython", 1, "float64", d_slow))
        elif s == "nest":
            for t in PEER_THREADS:
                out.append((bench, net, "nest", t, "float64", d if not scaling else d))
        elif s == "nest_backend":     # spikecore's nest backend: the IR compiled to NEST, beside NEST's own script
            for t in PEER_THREADS:
                out.append((bench, net, "nest_backend", t, "float64", d))
        elif s == "lava" and not scaling:
            out.append((bench, net, "lava", 1, "float64", min(d_slow, 0.1)))
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--report":
        # regenerate DIR/bench.md from DIR/bench.json
        out_dir = Path(argv[1])
        records = normalise(json.loads((out_dir / "bench.json").read_text()))
        (out_dir / "bench.json").write_text(json.dumps(records, indent=1))
        text = markdown(records) + "\nScaling: " + scaling_fit(records) + "\n\n" + target_ratios(records) + "\n"
        (out_dir / "bench.md").write_text(text)
        print(text)
        return
    if argv and argv[0] == "--worker":
        system, name, threads, precision, duration, repeats = argv[1:7]
        res = worker(system, name, threads if threads == "all" else int(threads), precision, float(duration),
                     int(repeats))
        print("RESULT " + json.dumps(res))
        return
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/bench", help="directory for bench.json and bench.md")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", help="comma-separated: " + ", ".join(list(BENCHMARKS) + ["scaling"]))
    ap.add_argument("--systems", default="native,brian2_cpp,brian2_cython,nest,lava",
                    help="comma-separated; also nest_backend (spikecore's nest backend, not in the default)")
    ap.add_argument("--scaling", type=lambda s: [int(x) for x in s.split(",")], default=list(SCALING),
                    help="network sizes of the scaling series")
    ap.add_argument("--peer-threads", default="1,all",
                    help="thread counts for Brian2 cpp_standalone and NEST: '1', 'all' or '1,all'")
    ap.add_argument("--append", action="store_true", help="add to the records already in DIR/bench.json")
    ap.add_argument("--peer-scaling-max", type=int, default=30000,
                    help="largest scaling network the peers run (Brian2 and NEST build 10^8 synapses slowly)")
    args = ap.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    from benchmarks import peers

    desc = machine()
    print(desc, flush=True)
    nest_missing = peers.nest_available() if "nest" in args.systems else None
    lava_missing = _lava_missing() if "lava" in args.systems else None
    records, meta = [], {}
    if args.append and (out_dir / "bench.json").exists():
        records = normalise(json.loads((out_dir / "bench.json").read_text()))
    for bench, net, system, threads, precision, d in plan(args):
        label = f"{bench:<12} {system:<22} {threads}t {precision:<8}"
        try:
            if system == "native":
                out = run_worker("native", net, threads, precision, d, args.repeats)
                meta[net] = out["meta"]
            elif system == "lava":
                if lava_missing:
                    print(f"{label} skipped: {lava_missing}", flush=True)
                    continue
                out = run_worker("lava", net, 1, precision, d, args.repeats)
            elif system == "nest_backend":
                out = run_worker("nest", net, threads, precision, d, args.repeats)
            elif system == "nest":
                if nest_missing:
                    print(f"{label} skipped: NEST does not import ({nest_missing})", flush=True)
                    continue
                out = peers.run_nest(net, d, threads, args.repeats)
            elif system == "brian2_cpp_standalone":
                out = peers.run_brian2(net, "cpp_standalone", d, threads if threads > 1 else 0, args.repeats)
            else:
                out = peers.run_brian2(net, "cython", d, 0, args.repeats)
        except Exception as e:  # a peer that fails is reported, not fatal to the suite
            print(f"{label} failed: {str(e).strip().splitlines()[-1] if str(e).strip() else e}", flush=True)
            continue
        if net not in meta:
            meta[net] = _meta_only(net)
        rec = record(bench, system, threads, precision, d, out, meta[net])
        records.append(rec)
        print(f"{label} {rec['sim_s_per_bio_s']:9.4f} s/bio-s  {rec['events_per_s']:9.3g} ev/s  "
              f"{rec['peak_rss_mb']:7.0f} MB  {rec['rate_hz']:6.2f} Hz", flush=True)
        (out_dir / "bench.json").write_text(json.dumps(records, indent=1))
    md = markdown(records)
    fit = scaling_fit(records)
    ratios = target_ratios(records)
    (out_dir / "bench.md").write_text(f"Machine: {desc}\n\nCommand: python -m benchmarks {' '.join(argv)}\n\n"
                                      + md + ("\nScaling: " + fit + "\n" if fit else "") + ratios + "\n")
    print()
    print(md)
    if fit:
        print("Scaling fit:", fit)
    print(ratios)


def target_ratios(records) -> str:
    """Native 1 thread against each peer on the peer's clock, and native all cores
    against its own single thread (issue 7's targets), wall and CPU."""
    lines = []
    for bench in sorted({r["benchmark"] for r in records}):
        rs = [r for r in records if r["benchmark"] == bench]
        base = next((r for r in rs if _is_base(r)), None)
        if base is None:
            continue
        parts = []
        for r in rs:
            if r["system"] != "native":
                x = same_clock_ratio(r, base)
                if x:
                    cpu = ""
                    if r.get("clock") == "wall" and r.get("cpu_s") and base.get("cpu_s"):
                        cpu = f", CPU {r['cpu_s'] / r['duration_s'] / (base['cpu_s'] / base['duration_s']):.2f}x"
                    parts.append(f"{r['system']} {r['threads']}t {x:.2f}x ({r.get('clock', 'wall')}{cpu})")
        for r in rs:
            if r["system"] == "native" and r is not base:
                cpu = ""
                if r["threads"] == 1 and r.get("cpu_s") and base.get("cpu_s"):
                    cpu = f", CPU {base['cpu_s'] / r['cpu_s']:.2f}x"
                if r["threads"] > 1 and r.get("busiest_thread_cpu_s") and base.get("busiest_thread_cpu_s"):
                    # on free cores a run takes about its busiest thread's CPU time (plus barrier waits)
                    cpu = (f", CPU-bound estimate {base['busiest_thread_cpu_s'] / r['busiest_thread_cpu_s']:.2f}x"
                           " (busiest thread)")
                elif r["threads"] > 1 and r.get("cpu_s") and base.get("cpu_s"):
                    cpu = f", CPU-bound estimate {base['cpu_s'] / (r['cpu_s'] / r['threads']):.2f}x (even split)"
                label = f"all ({r['threads']}t)" if r.get("threads_option") == "all" else f"{r['threads']}t"
                parts.append(f"native {label} {r['precision']} {base['sim_s'] / r['sim_s']:.2f}x faster "
                             f"(wall{cpu})")
        lines.append(f"{bench}: native 1t float64 vs " + ", ".join(parts))
        for r in rs:
            if r.get("threads_option") == "all":
                lines.append(f"{bench}: native threads=all ran {r['threads']} thread(s): {r.get('threads_reason', '')}")
    return "\n".join(lines)


def _meta_only(net):
    """Network sizes when native was not run in this suite (peers only)."""
    g = build_network(net).to_ir()
    return network_meta(g)


def _lava_missing():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", "from backends import get_backend; get_backend('lava')"],
                       capture_output=True, text=True, cwd=ROOT, env=env)
    if p.returncode == 0:
        return None
    return (p.stderr.strip().splitlines() or ["backends.get_backend('lava') failed"])[-1]


if __name__ == "__main__":
    main()
