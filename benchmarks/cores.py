"""What this machine's two CPUs give when both compute at once.

    python -m benchmarks.cores [--rounds 200] [--burst-ms 20] [--cpus 0,1]

Compiles benchmarks/native/cores.c (a throughput-bound loop of vector multiply-adds; two worker
threads, each pinned to one CPU; the caller blocks while they run) with the C compiler Python
was built with, and runs ``--rounds`` rounds of three bursts: the first CPU alone, the second
alone, both at once. It prints, over the rounds, the median and the 10th/90th percentiles of
each CPU's rate alone and while both ran, and two ratios per round:

* **both / one**: the two CPUs' rates while both ran, summed, over one CPU's rate alone (the
  mean of the two alone rates): 2.0 on two independent cores;
* **slower / alone**: the lower of the two CPUs' "rate while both ran / its own rate alone":
  1.0 on independent cores. A team of threads that splits its work evenly and meets often
  runs at that fraction of one thread per thread (benchmarks/RESULTS.md, "Thread scaling,
  round 6": on this VM one vCPU dropped to 0.5-0.6 of its rate while the other ran).

``python -m benchmarks.threads`` runs a short probe (about 2 s) of the same before its table,
so that the thread ratios can be judged against what the CPUs gave in the same minute.
"""
from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

SOURCE = Path(__file__).parent / "native" / "cores.c"
#: the ratios a summary reports, per round, from (alone A, alone B, both A, both B)
RATIOS = ("both_over_one", "slower_over_alone")


def compile_probe(out_dir: Path) -> Path:
    """Build cores.c into out_dir (native vectors where the compiler takes -march=native)."""
    cc = shlex.split(sysconfig.get_config_var("CC") or "cc")[0]
    exe = out_dir / "cores"
    for flags in (["-O2", "-march=native"], ["-O2"]):
        built = subprocess.run([cc, *flags, "-pthread", "-o", str(exe), str(SOURCE)], capture_output=True, text=True)
        if built.returncode == 0:
            return exe
    raise RuntimeError(f"could not compile {SOURCE} with {cc}: {built.stderr.strip().splitlines()[-1:]}")


def parse_rounds(text: str) -> list[tuple[float, float, float, float]]:
    """The probe's output: per round (alone A, alone B, both A, both B) in iterations/s."""
    rows = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 4:
            raise ValueError(f"cores probe: expected 4 rates per line, got {line!r}")
        rows.append(tuple(float(x) for x in parts))
    return rows


def percentile(xs, q: float) -> float:
    """The q-quantile (0..1) of xs, nearest rank below."""
    s = sorted(xs)
    return s[int(q * (len(s) - 1))]


def round_ratios(row) -> dict:
    """Both / one and slower / alone of one round (module docstring)."""
    a0, a1, b0, b1 = row
    return {"both_over_one": (b0 + b1) / ((a0 + a1) / 2), "slower_over_alone": min(b0 / a0, b1 / a1)}


def summarise(rows) -> dict:
    """Median, 10th and 90th percentiles over the rounds of each rate and each ratio."""
    if not rows:
        raise ValueError("cores probe: no rounds")
    cols = {"alone_a": [r[0] for r in rows], "alone_b": [r[1] for r in rows],
            "both_a": [r[2] for r in rows], "both_b": [r[3] for r in rows]}
    ratios = [round_ratios(r) for r in rows]
    for k in RATIOS:
        cols[k] = [x[k] for x in ratios]
    return {"rounds": len(rows),
            **{k: {"median": statistics.median(v), "p10": percentile(v, 0.1), "p90": percentile(v, 0.9)}
               for k, v in cols.items()}}


def lines(s: dict, cpus=(0, 1)) -> list[str]:
    """A summary as text."""
    a, b = cpus
    f = lambda d, scale=1e-6: f"{d['median'] * scale:.1f} (p10 {d['p10'] * scale:.1f}, p90 {d['p90'] * scale:.1f})"
    r = lambda d: f"{d['median']:.2f} (p10 {d['p10']:.2f}, p90 {d['p90']:.2f})"
    return [f"CPU {a} alone {f(s['alone_a'])}, CPU {b} alone {f(s['alone_b'])}; both at once: CPU {a} "
            f"{f(s['both_a'])}, CPU {b} {f(s['both_b'])} (million iterations/s, {s['rounds']} rounds)",
            f"both / one {r(s['both_over_one'])} (2.00 on independent cores); slower / alone "
            f"{r(s['slower_over_alone'])} (1.00 on independent cores)"]


def allowed_cpus() -> list:
    """The CPUs this process may run on."""
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:
        return list(range(os.cpu_count() or 1))


def default_cpus() -> tuple[int, int] | None:
    """The first two CPUs this process may run on (None with fewer than two)."""
    mask = allowed_cpus()
    return (mask[0], mask[1]) if len(mask) >= 2 else None


def probe(rounds: int, burst_ms: float, cpus=None) -> dict | None:
    """Compile and run the probe; its summary (None on a machine with one CPU)."""
    cpus = cpus or default_cpus()
    if cpus is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        exe = compile_probe(Path(tmp))
        out = subprocess.run([str(exe), str(rounds), str(burst_ms), str(cpus[0]), str(cpus[1])],
                             capture_output=True, text=True, check=True)
    return {"cpus": list(cpus), **summarise(parse_rounds(out.stdout))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cores", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=200, help="rounds of three bursts (A alone, B alone, both)")
    ap.add_argument("--burst-ms", type=float, default=20.0, help="milliseconds per burst")
    ap.add_argument("--cpus", default=None, help="the two CPUs, e.g. 0,1 (default: the first two of this process's)")
    args = ap.parse_args(argv)
    cpus = None
    if args.cpus:
        parts = args.cpus.split(",")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or parts[0] == parts[1]:
            print(f"--cpus: {args.cpus!r}; expected two different CPU numbers, e.g. 0,1", file=sys.stderr)
            return 2
        cpus = (int(parts[0]), int(parts[1]))
        allowed = allowed_cpus()
        if not set(cpus) <= set(allowed):
            print(f"--cpus: {args.cpus!r}; this process may run on CPUs {','.join(map(str, allowed))} only",
                  file=sys.stderr)
            return 2
    if args.rounds < 1 or args.burst_ms <= 0:
        print(f"--rounds {args.rounds} / --burst-ms {args.burst_ms}: expected a positive count and duration",
              file=sys.stderr)
        return 2
    load = lambda: " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at start: {load()} ({os.cpu_count()} CPUs)")
    s = probe(args.rounds, args.burst_ms, cpus)
    if s is None:
        print("one CPU: nothing to compare")
        return 0
    print("\n".join(lines(s, s["cpus"])))
    print(f"load average at end: {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
