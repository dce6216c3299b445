"""Check the third classification's predictions: sync of Brunel's Fig. 8 points at a new size or seed.

    OMP_NUM_THREADS=1 .venv/bin/python examples/brunel_scaling_check.py --size 2 --out results/brunel_2n
    OMP_NUM_THREADS=1 .venv/bin/python examples/brunel_scaling_check.py --points D --replicates 4,5 \
        --out results/brunel_seeds

spikecore.sweep.regimes.classify_extrapolated reads the synchrony of the paper's size N and
of 4N as an oscillation of amplitude a plus finite-size noise b: sync(f N)^2 = a^2 + b^2 / f.
From the N and 4N values recorded in examples/brunel_phase.md (``RECORDED_SYNC``) this
predicts sync at any other size f (and, a and b not depending on the seed, at N for
another seed); this script runs the Fig. 8 points (``--points``, letters as in
examples/brunel_phase.md) at ``--size`` times the paper's size (every population and
source, in-degrees kept: examples/brunel_phase.py's spec_for) for the replicates
``--replicates`` (the seeds spikecore.sweep gives a point's replicates; replicate 0 is
the seed of the recorded runs), one run at a time in this process, and prints measured
against predicted sync with the accepted bound (regimes.prediction_tolerance). Each run's
excitatory measures are stored as OUT/POINT_size*_rep*.json, and a rerun skips those.
Then every point and replicate with both a paper-size and a SCALE_FACTOR-size run in OUT
is named by the third classification from its own two runs (``classify_stored``).
Exit status 0 when every run is within its bound.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from spikecore.sweep.regimes import (SCALE_FACTOR, classify_extrapolated, extrapolate_sync,  # noqa: E402
                                     predicted_sync, prediction_tolerance)
from spikecore.sweep.runner import plan, point_task, run_task  # noqa: E402

#: the Fig. 8 points by the letters of examples/brunel_phase.md: (g, nu_ext/nu_thr)
POINTS = {"A": (3.0, 2.0), "B": (6.0, 4.0), "C": (5.0, 2.0), "D": (4.5, 0.9)}
#: excitatory sync at the paper's size and at SCALE_FACTOR times it, replicate 0
#: (examples/brunel_phase.md, the finite-size scaling table)
RECORDED_SYNC = {"A": (0.780, 0.774), "B": (1.019, 0.826), "C": (0.537, 0.273), "D": (1.783, 1.104)}


def _brunel_phase():
    spec = importlib.util.spec_from_file_location("brunel_phase", ROOT / "examples" / "brunel_phase.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_point(letter: str, size: int, replicate: int, out: Path) -> dict:
    """The excitatory measures of one Fig. 8 point at ``size`` N, replicate ``replicate`` (stored in ``out``)."""
    path = out / f"{letter}_size{size}_rep{replicate}.json"
    if path.exists():
        return json.loads(path.read_text())
    g, nu = POINTS[letter]
    spec = _brunel_phase().spec_for([g], [nu], size_factor=size)
    spec.seeds = replicate + 1
    point = next(p for p in plan(spec) if p.replicate == replicate)
    result = run_task(point_task(spec, point))
    record = {"point": letter, "g": g, "nu": nu, "size": size, "replicate": replicate, "seed": point.seed,
              **result["populations"]["exc"], "wall_s": result["wall_s"]}
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    return record


def check(record: dict) -> dict:
    """``record`` with the prediction for its size from RECORDED_SYNC, the bound and whether it held."""
    sync_n, sync_big = RECORDED_SYNC[record["point"]]
    predicted = predicted_sync(sync_n, sync_big, record["size"], SCALE_FACTOR)
    bound = prediction_tolerance(sync_n, sync_big, record["size"], SCALE_FACTOR)
    log_error = math.log(record["sync"] / predicted) if record["sync"] else math.inf
    return {**record, "predicted": predicted, "bound": bound, "log_error": log_error,
            "holds": abs(log_error) <= bound}


def classify_stored(out: Path) -> list:
    """[(point, replicate, a, b, regime)] for each point and replicate with runs at N and SCALE_FACTOR N in ``out``."""
    named = []
    for small in sorted(out.glob("*_size1_rep*.json")):
        big = out / small.name.replace("_size1_", f"_size{SCALE_FACTOR}_")
        if not big.exists():
            continue
        m, scaled = json.loads(small.read_text()), json.loads(big.read_text())
        a, b = extrapolate_sync(m["sync"], scaled["sync"])
        named.append((m["point"], m["replicate"], a, b, classify_extrapolated(m, scaled)))
    return named


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", default="A,B,C,D", help="Fig. 8 points by letter (A SR, B SI fast, C AI, D SI slow)")
    p.add_argument("--size", type=int, default=2, help="times the paper's size (populations and sources)")
    p.add_argument("--replicates", default="0", help="replicates (seeds) to run, e.g. 0 or 4,5")
    p.add_argument("--out", default="results/brunel_scaling_check")
    a = p.parse_args(argv)
    letters = [x.strip().upper() for x in a.points.split(",") if x.strip()]
    unknown = [x for x in letters if x not in POINTS]
    if unknown or not letters:
        p.error(f"--points {a.points!r}: letters among {', '.join(POINTS)} expected")
    if a.size < 1:
        p.error(f"--size {a.size}: a positive whole factor expected")
    replicates = [int(x) for x in a.replicates.split(",") if x.strip()]
    out = Path(a.out)
    ok = True
    print("point  size  replicate     seed  rate(Hz)  freq(Hz)  sync  predicted  log error  bound  wall(s)")
    for letter in letters:
        for r in replicates:
            t0 = time.perf_counter()
            c = check(run_point(letter, a.size, r, out))
            ok &= c["holds"]
            print(f"{letter:>5}  {a.size:4d}  {r:9d}  {c['seed']:>7}  {c['rate_hz']:8.2f}  {c['freq_hz']:8.1f}  "
                  f"{c['sync']:.3f}  {c['predicted']:9.3f}  {c['log_error']:+9.3f}  {c['bound']:5.3f}  "
                  f"{c['wall_s']:7.1f}  {'holds' if c['holds'] else 'FAILS'}"
                  f"{'' if time.perf_counter() - t0 > 1 else '  (stored)'}", flush=True)
    for letter, r, amp, noise, regime in classify_stored(out):
        print(f"{letter} replicate {r}: amplitude {amp:.3f}, noise {noise:.3f} -> {regime}")
    print(f"predictions {'all held' if ok else 'NOT all held'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
