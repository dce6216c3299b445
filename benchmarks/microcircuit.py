"""The cortical microcircuit (Potjans & Diesmann 2014) on spikecore's native engine and on
NEST 3.10 running INM-6's own PyNEST implementation (PyPI ``microcircuit`` 1.0), same
machine, same scale, several network seeds each.

    python -m benchmarks.microcircuit [--scale 0.1] [--seeds 1-8] [--threads 1]
                                      [--presim 0.5] [--sim 2.0] [--out DIR]
    python -m benchmarks.microcircuit --write-reference benchmarks/data/microcircuit_nest_0.1.json
    python -m benchmarks.microcircuit --against benchmarks/data/microcircuit_nest_0.1.json
    python -m benchmarks.microcircuit --streams-check --seeds 1-8 --sim 1.0

Each run is a fresh process. spikecore runs the model file examples/microcircuit.py
writes (examples/microcircuit_small.yaml at scale 0.1); NEST runs the package's
``Network`` with ``N_scaling = K_scaling = scale`` and Poisson background, its spike
recorders kept in memory. Both discard the first ``presim`` seconds (the package's
presimulation) and measure over the next ``sim`` seconds, per population:

* rate: spikes per neuron per second;
* CV of ISI: mean over neurons with at least three spikes (helpers.single_neuron_isi_cvs);
* pairwise spike-count correlation: mean Pearson coefficient over pairs of up to
  ``CORR_NEURONS`` neurons with spikes, counts in ``CORR_BIN_S`` bins (the measure of
  helpers.pairwise_spike_count_correlations; near 0 in the asynchronous-irregular state).

Asynchronous-irregular (``asynchronous_irregular``): every population's mean CV of ISI at
least ``AI_MIN_CV`` and its mean pairwise correlation at most ``AI_MAX_CORR``.

``compare(native, nest)`` is the verdict: per population the seed-mean rates within
``RATE_TOLERANCE`` and CVs within ``CV_TOLERANCE``. Network realisations differ by several
per cent in rate (L2/3e most), so the verdict needs several seeds on each side; NEST takes
minutes per seed on this machine, so ``--write-reference`` records NEST's per-seed numbers
(benchmarks/data/microcircuit_nest_0.1.json) and ``--against`` compares fresh native runs
with them. tests/test_microcircuit.py (slow) does that, and reruns one NEST seed live to
check that the recorded reference is what NEST 3.10 computes (NEST is deterministic for a
given seed and thread count).
``--streams-check`` runs native only: the model file with ``streams: per_target`` on every
recurrent projection (examples/microcircuit.py --streams per_target, what MPI ranks can draw
for their own neurons alone) against the default stream, same seeds, same verdict (compare()).
Timings (simulation phase, build separate), peak RSS and events/s go to the table; the
bench suite's ``--only microcircuit`` runs the same model through benchmarks/suite.py.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"]
RATE_TOLERANCE = 0.05      # relative, seed means
CV_TOLERANCE = 0.05        # absolute, seed means
CORR_BIN_S = 10e-3
CORR_NEURONS = 200
AI_MIN_CV = 0.4            # Poisson firing is 1, clock-like firing 0
AI_MAX_CORR = 0.05         # synchronous firing approaches 1


def generator():
    """examples/microcircuit.py as a module (its name would clash with the PyPI package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("microcircuit_generator", ROOT / "examples" / "microcircuit.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------- statistics
def population_statistics(times: np.ndarray, senders: np.ndarray, n: int, t0: float, t1: float,
                          rng: np.random.Generator | None = None) -> dict:
    """rate (Hz), mean CV of ISI, mean pairwise spike-count correlation of one population's
    spikes (times in s, senders 0..n-1) in [t0, t1)."""
    keep = (times >= t0) & (times < t1)
    times, senders = times[keep], senders[keep]
    rate = times.size / n / (t1 - t0)
    order = np.lexsort((times, senders))
    times, senders = times[order], senders[order]
    counts = np.bincount(senders, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)])
    cvs = []
    for k in np.flatnonzero(counts >= 3):
        isi = np.diff(times[starts[k]:starts[k + 1]])
        cvs.append(isi.std() / isi.mean())
    active = np.flatnonzero(counts > 0)
    corr = None
    if active.size >= 2:
        rng = rng or np.random.default_rng(0)
        pick = np.sort(rng.choice(active, size=min(CORR_NEURONS, active.size), replace=False))
        nbins = int(round((t1 - t0) / CORR_BIN_S))
        binned = np.zeros((pick.size, nbins))
        for r, k in enumerate(pick):
            b = ((times[starts[k]:starts[k + 1]] - t0) / CORR_BIN_S).astype(int)
            np.add.at(binned[r], np.minimum(b, nbins - 1), 1)
        c = np.corrcoef(binned)
        corr = float(np.nanmean(c[np.triu_indices(pick.size, 1)]))
    return {"rate_hz": float(rate), "cv_isi": float(np.mean(cvs)) if cvs else None,
            "corr": corr, "n": int(n), "spikes": int(times.size)}


def all_statistics(spikes: dict, sizes: dict, t0: float, t1: float) -> dict:
    return {name: population_statistics(np.asarray(spikes[name][0]), np.asarray(spikes[name][1], dtype=np.int64),
                                        sizes[name], t0, t1) for name in NAMES}


# ----------------------------------------------------------------------------- runs
NATIVE_SCRIPT = r'''
import json, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np
from spikecore.io import load_network
from backends import get_backend
from benchmarks.microcircuit import all_statistics
path, threads, presim, sim = {path!r}, {threads}, {presim}, {sim}
t0 = time.perf_counter()
g = load_network(path).to_ir()
exe = get_backend("native").compile(g, threads=threads)
build = time.perf_counter() - t0
t0 = time.perf_counter()
res = exe.run(presim + sim)
run_s = time.perf_counter() - t0
sizes = {{k: p.size for k, p in g.populations.items()}}
stats = all_statistics({{k: (t, i) for k, (t, i) in res.spikes.items()}}, sizes, presim, presim + sim)
recurrent = sum(e.n_synapses for e in g.projections.values() if e.pre in g.populations)
print("RESULT " + json.dumps({{"build_s": build, "sim_s": run_s, "stats": stats, "n_synapses": g.n_synapses,
      "recurrent_synapses": recurrent, "n": g.n_neurons, "bytes_per_synapse": exe.sim.bytes_per_synapse,
      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
'''

NEST_SCRIPT = r'''
import json, os, resource, sys, time
sys.path.insert(0, {root!r})
import numpy as np
import nest
nest.set_verbosity("M_ERROR")
from microcircuit.network import Network
from microcircuit.network_params import default_net_dict
from microcircuit.sim_params import default_sim_dict
from microcircuit.stimulus_params import default_stim_dict
from benchmarks.microcircuit import NAMES, all_statistics
scale, seed, threads, presim, sim, data = {scale}, {seed}, {threads}, {presim}, {sim}, {data!r}
net_dict, sim_dict, stim_dict = dict(default_net_dict), dict(default_sim_dict), dict(default_stim_dict)
net_dict.update(N_scaling=scale, K_scaling=scale, bg_input_type="poisson")
sim_dict.update(rng_seed=seed, local_num_threads=threads, data_path=data, rec_dev=[], print_time=False,
                store_metadata=False)
t0 = time.perf_counter()
net = Network(sim_dict, net_dict, stim_dict)
net.create()
recorders = nest.Create("spike_recorder", 8, params={{"record_to": "memory"}})
net.connect()   # creates and connects everything, then nest.Prepare() and nest.Cleanup()
for pop, rec in zip(net.pops, recorders):
    nest.Connect(pop, rec)
nest.Prepare()
build = time.perf_counter() - t0
t0 = time.perf_counter()
nest.Run((presim + sim) * 1000.0)
run_s = time.perf_counter() - t0
nest.Cleanup()
spikes, sizes = {{}}, {{}}
for name, pop, rec in zip(NAMES, net.pops, recorders):
    ev = rec.events
    first = pop[0].global_id
    spikes[name] = (np.asarray(ev["times"]) * 1e-3, np.asarray(ev["senders"]) - first)
    sizes[name] = len(pop)
stats = all_statistics(spikes, sizes, presim, presim + sim)
print("RESULT " + json.dumps({{"build_s": build, "sim_s": run_s, "stats": stats,
      "n_synapses": int(nest.num_connections), "n": int(sum(sizes.values())),
      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
'''


def _run(src: str, threads: int, timeout: float) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, timeout=timeout,
                       cwd=ROOT)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("RESULT ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError((p.stderr or p.stdout)[-2000:])
    return json.loads(lines[-1][len("RESULT "):])


def run_native(scale: float, seed: int, threads: int = 1, presim: float = 0.5, sim: float = 1.0,
               timeout: float = 3600, streams: str = "projection") -> dict:
    """One native run of the generator's model file (``streams``: its --streams switch)."""
    text = generator().model_file(scale=scale, seed=seed, duration_ms=(presim + sim) * 1e3, streams=streams)
    with tempfile.TemporaryDirectory(prefix="microcircuit-native-") as tmp:
        path = os.path.join(tmp, "microcircuit.yaml")
        with open(path, "w") as f:
            f.write(text)
        src = NATIVE_SCRIPT.format(root=str(ROOT), path=path, threads=threads, presim=presim, sim=sim)
        return _run(src, threads, timeout)


def run_nest(scale: float, seed: int, threads: int = 1, presim: float = 0.5, sim: float = 1.0,
             timeout: float = 3600) -> dict:
    with tempfile.TemporaryDirectory(prefix="microcircuit-nest-") as data:
        src = NEST_SCRIPT.format(root=str(ROOT), scale=scale, seed=seed, threads=threads, presim=presim,
                                 sim=sim, data=data + os.sep)
        return _run(src, threads, timeout)


# ----------------------------------------------------------------------------- verdict
def seed_means(runs: list) -> dict:
    """Per population and measure: (mean over seeds, standard error over seeds)."""
    out = {}
    for name in NAMES:
        out[name] = {}
        for key in ("rate_hz", "cv_isi", "corr"):
            xs = [r["stats"][name][key] for r in runs if r["stats"][name][key] is not None]
            if not xs:
                out[name][key] = (None, None)
                continue
            se = statistics.stdev(xs) / len(xs) ** 0.5 if len(xs) > 1 else float("nan")
            out[name][key] = (statistics.fmean(xs), se)
    return out


def compare(native: list, nest: list) -> list:
    """The populations (and why) where native's seed means differ from NEST's by more than
    RATE_TOLERANCE (rates, relative) or CV_TOLERANCE (CV of ISI, absolute); empty if none."""
    a, b = seed_means(native), seed_means(nest)
    bad = []
    for name in NAMES:
        ra, rb = a[name]["rate_hz"][0], b[name]["rate_hz"][0]
        if not abs(ra - rb) <= RATE_TOLERANCE * rb:
            bad.append(f"{name}: rate {ra:.3f} Hz vs NEST {rb:.3f} Hz ({(ra / rb - 1) * 100:+.1f} %)")
        ca, cb = a[name]["cv_isi"][0], b[name]["cv_isi"][0]
        if ca is None or cb is None or not abs(ca - cb) <= CV_TOLERANCE:
            bad.append(f"{name}: CV of ISI {ca} vs NEST {cb}")
    return bad


def asynchronous_irregular(run: dict) -> list:
    """The populations of one run that are not asynchronous-irregular, with their numbers."""
    bad = []
    for name in NAMES:
        st = run["stats"][name]
        if st["cv_isi"] is None or st["cv_isi"] < AI_MIN_CV or st["corr"] is None or st["corr"] > AI_MAX_CORR:
            bad.append(f"{name}: CV of ISI {st['cv_isi']}, correlation {st['corr']}")
    return bad


def parse_seeds(text: str) -> list:
    """'1,2,5' or '1-8'."""
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def write_reference(path: Path, seeds: list, scale: float, threads: int, presim: float, sim: float):
    """NEST's per-seed runs, appended to ``path`` (JSON) one seed at a time."""
    import importlib.metadata as md

    ref = json.loads(path.read_text()) if path.exists() else {
        "what": "NEST 3.10 running PyPI microcircuit 1.0 (Poisson background), per network seed; "
                "written by python -m benchmarks.microcircuit --write-reference",
        "nest": md.version("nest-simulator"), "microcircuit": md.version("microcircuit"),
        "scale": scale, "threads": threads, "presim_s": presim, "sim_s": sim,
        "corr_bin_s": CORR_BIN_S, "corr_neurons": CORR_NEURONS, "runs": []}
    if (ref["scale"], ref["threads"], ref["presim_s"], ref["sim_s"]) != (scale, threads, presim, sim):
        raise SystemExit(f"{path} holds another setting: scale {ref['scale']}, threads {ref['threads']}, "
                         f"window [{ref['presim_s']}, {ref['presim_s'] + ref['sim_s']}) s")
    done = {r["seed"] for r in ref["runs"]}
    for seed in seeds:
        if seed in done:
            continue
        r = run_nest(scale, seed, threads, presim, sim)
        r["seed"] = seed
        ref["runs"].append(r)
        path.write_text(json.dumps(ref, indent=1) + "\n")
        print(f"seed {seed} nest   build {r['build_s']:6.1f} s  sim {r['sim_s']:6.1f} s  rates "
              + " ".join(f"{n} {r['stats'][n]['rate_hz']:.2f}" for n in NAMES), flush=True)
    return ref


def table(native: list, nest: list, labels=("native", "NEST")) -> str:
    a, b = seed_means(native), seed_means(nest)
    x, y = labels
    rows = [f"| population | rate {x} (Hz) | rate {y} (Hz) | diff | CV ISI {x} | CV ISI {y} | "
            f"corr {x} | corr {y} |", "|---|---|---|---|---|---|---|---|"]
    for name in NAMES:
        (ra, sa), (rb, sb) = a[name]["rate_hz"], b[name]["rate_hz"]
        rows.append(f"| {name} | {ra:.3f} ± {sa:.3f} | {rb:.3f} ± {sb:.3f} | {(ra / rb - 1) * 100:+.1f} % | "
                    f"{a[name]['cv_isi'][0]:.3f} | {b[name]['cv_isi'][0]:.3f} | "
                    f"{a[name]['corr'][0]:.4f} | {b[name]['corr'][0]:.4f} |")
    return "\n".join(rows)


def timing(runs: list, presim: float, sim: float) -> dict:
    sim_s = statistics.median(r["sim_s"] for r in runs)
    spikes = statistics.median(sum(s["spikes"] for s in r["stats"].values()) for r in runs)
    return {"sim_s_per_bio_s": sim_s / (presim + sim), "build_s": statistics.median(r["build_s"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "n_synapses": runs[0]["n_synapses"],
            "spikes_in_window": spikes}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.microcircuit", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--seeds", default="1-8", help="network seeds (NEST's rng_seed): '1-8' or '1,2,5'")
    ap.add_argument("--threads", type=int, default=None,
                    help="threads of both simulators (default 1; with --against, native's threads, "
                         "default the reference's)")
    ap.add_argument("--presim", type=float, default=0.5, help="transient discarded, s")
    ap.add_argument("--sim", type=float, default=2.0, help="measured window, s")
    ap.add_argument("--out", default="results/microcircuit", help="directory for microcircuit.json")
    ap.add_argument("--write-reference", metavar="JSON", help="run NEST only, adding its seeds to JSON")
    ap.add_argument("--against", metavar="JSON", help="compare native runs with NEST's recorded runs in JSON "
                    "(its scale, threads and window) instead of running NEST")
    ap.add_argument("--streams-check", action="store_true",
                    help="native only: the model file with streams: per_target (examples/microcircuit.py --streams "
                         "per_target) against the default stream, seed by seed, with the same verdict")
    args = ap.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if args.threads is None and not args.against:
        args.threads = 1
    if args.write_reference:
        write_reference(Path(args.write_reference), seeds, args.scale, args.threads, args.presim, args.sim)
        return
    if args.streams_check:
        streams_check(seeds, args)
        return
    native, nest = [], []
    if args.against:
        ref = json.loads(Path(args.against).read_text())
        args.scale, args.presim, args.sim = ref["scale"], ref["presim_s"], ref["sim_s"]
        if args.threads is None:     # NEST's full-scale reference needs 4 threads; native may run 2
            args.threads = ref["threads"]
        nest = ref["runs"]
    for seed in seeds:
        systems = [("native", run_native, native)] + ([] if args.against else [("nest", run_nest, nest)])
        for label, fn, runs in systems:
            r = fn(args.scale, seed, args.threads, args.presim, args.sim)
            runs.append(r)
            print(f"seed {seed} {label:<6} build {r['build_s']:6.1f} s  sim {r['sim_s']:6.1f} s  "
                  f"RSS {r['peak_rss_mb']:6.0f} MB  rates " +
                  " ".join(f"{n} {r['stats'][n]['rate_hz']:.2f}" for n in NAMES), flush=True)
    print()
    threads = f"native {args.threads}, NEST {ref['threads']}" if args.against else args.threads
    print(f"scale {args.scale}, {len(native)} native and {len(nest)} NEST seeds, {threads} thread(s), "
          f"window [{args.presim}, {args.presim + args.sim}) s; mean ± standard error over seeds")
    print(table(native, nest))
    for label, runs in (("native", native), ("NEST", nest)):
        t = timing(runs, args.presim, args.sim)
        print(f"{label}: {t['sim_s_per_bio_s']:.2f} s per simulated s (median), build {t['build_s']:.1f} s, "
              f"peak RSS {t['peak_rss_mb']:.0f} MB, {t['n_synapses']} synapses")
    bad = compare(native, nest)
    print("verdict:", "equivalent" if not bad else "; ".join(bad))
    not_ai = [f"{label} seed {i}: {b}" for label, runs in (("native", native), ("NEST", nest))
              for i, r in enumerate(runs) for b in asynchronous_irregular(r)]
    print("asynchronous-irregular:", "every population of every run" if not not_ai else "; ".join(not_ai))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "microcircuit.json").write_text(json.dumps({"args": vars(args), "native": native, "nest": nest},
                                                      indent=1))


def streams_check(seeds: list, args):
    """Native runs of the default stream and of per-target streams (streams: per_target on every
    recurrent projection), one fresh process each, per seed; the table, paired rate differences
    and compare()'s verdict (per-target against the default)."""
    runs = {"projection": [], "per_target": []}
    for seed in seeds:
        for streams, done in runs.items():
            r = run_native(args.scale, seed, args.threads, args.presim, args.sim, streams=streams)
            r["seed"] = seed
            done.append(r)
            print(f"seed {seed} {streams:<10} build {r['build_s']:6.1f} s  sim {r['sim_s']:6.1f} s  rates "
                  + " ".join(f"{n} {r['stats'][n]['rate_hz']:.3f}" for n in NAMES), flush=True)
    default, per_target = runs["projection"], runs["per_target"]
    print()
    print(f"scale {args.scale}, {len(seeds)} seeds each, {args.threads} thread(s), window "
          f"[{args.presim}, {args.presim + args.sim}) s; mean ± standard error over seeds")
    print(table(per_target, default, ("per-target", "default")))
    print("paired rate differences (per-target - default, same seed: same sources and inputs), mean ± sd: "
          + "; ".join(f"{n} {statistics.fmean(d):+.2%} ± {statistics.stdev(d):.2%}" for n, d in (
              (n, [a["stats"][n]["rate_hz"] / b["stats"][n]["rate_hz"] - 1 for a, b in zip(per_target, default)])
              for n in NAMES) if len(d) > 1))
    bad = compare(per_target, default)
    print("verdict:", "equivalent" if not bad else "; ".join(bad))
    not_ai = [f"{label} seed {r['seed']}: {b}" for label, rs in runs.items() for r in rs
              for b in asynchronous_irregular(r)]
    print("asynchronous-irregular:", "every population of every run" if not not_ai else "; ".join(not_ai))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "microcircuit_streams.json").write_text(json.dumps({"args": vars(args), **runs}, indent=1))


if __name__ == "__main__":
    main()
