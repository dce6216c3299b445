"""Thread scaling of the native grid engine: 1 thread against 2 threads and ``threads="all"``.

    python -m benchmarks.threads                      # brunel, cuba, coba, adex, microcircuit
    python -m benchmarks.threads --only cuba --repeats 5 --bursts 40

Per network, one process compiles the network once per thread setting (1, 2, "all") and
then runs them in turn, ``--repeats`` times, so that each setting meets the same machine
conditions; it reports the median and the fastest wall time, the busiest thread's CPU time
(``Kernel.thread_cpu``: what a run would take on free cores, up to the waits at barriers),
the speed-up over one thread, how many threads "all" ran and why
(spikecore/engine/thread_choice.py), and the load average before and after. ``--bursts N``
adds N short runs of ``--burst-duration`` per setting, in turn: on a loaded machine the
fastest short burst is the one that found both cores free. ``--settings`` changes which
thread options run and in what order (e.g. ``all,1,2``: an effect that follows a setting
and not its place in the turn is the engine's). ``--phases W`` profiles W windows per
setting (``Kernel.profile_windows``): per thread the median ns of a window's own steps, of
the wait at the barrier, of the drawing ahead done while waiting and of the delivery of the
window's spikes, how many of the layout's parts each thread ran (the team's split, which moves
to the measured speed of each thread: spikecore/engine/_kernel.c, sc_split), and the median over windows of the busiest thread's work (own + drawing +
delivery): a window's cost on free cores without the barrier's wait, which preemption by
other processes does not inflate the way it inflates wall time; and which CPU each thread
ran on (the windows where two threads shared one). A setting ``2p`` is 2 threads pinned,
one per CPU (``Kernel.pin_threads = True``; a team is not pinned by default), ``2u`` 2
threads explicitly unpinned: ``--settings 1,2,2p`` compares the spread of unpinned and
pinned runs in the same minutes. ``2e`` is 2 threads that keep the even split of the layout's
parts (``Kernel.split = "even"``: the team before the split adapted to each thread's speed),
so ``--settings 1,2q,2qe`` shows what the adaptive split gains in the same minutes; ``2q`` is 2
threads sharing 4 parts of 35/15/15/35 % (``thread_choice.TWO_THREAD_SHARES = (7, 3, 3, 7)``: the
layout the split can move), ``2h`` 2 threads with one equal part each (the default layout:
``--settings 1,2h,2q`` shows what the parts cost where the CPUs are equal and gain where not).
Per setting it also counts the threads' migrations between CPUs and their involuntary
context switches (a spinning thread's ``sched_yield`` to another process counts as one),
from /proc/self/task/*/sched, where Linux has it.

Before its table it runs a short probe of the CPUs themselves (``--cores-rounds`` rounds of
``python -m benchmarks.cores``, about 2 s): each CPU's rate alone and while both compute, so
that a reader can judge the thread ratios against what the machine gave in the same minute
(a team that meets every window runs at its slower CPU's pace).

Targets (issue 20; judge them on an idle machine): 2 threads ≥ 1.7× one thread on Brunel 10k
and the microcircuit, ≥ 1.3× on CUBA; "all" never slower than one thread (median, 5 %
tolerance) on every network. Timings never go into the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from . import cores
from .suite import BENCHMARKS, build_network

#: the speed-up of 2 threads over 1 each network should reach (issue 20)
TWO_THREAD_TARGET = {"brunel": 1.7, "microcircuit": 1.7, "cuba": 1.3}
#: "all" may be this much slower than one thread (median of the repeats) and still count as not slower
ALL_TOLERANCE = 0.05
DEFAULT = "brunel,cuba,coba,adex,microcircuit"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def sched_counts() -> tuple[int, int] | None:
    """Migrations between CPUs and involuntary context switches of this process's threads so
    far (sums over /proc/self/task/*/sched; None where the kernel does not show them)."""
    mig = invol = 0
    try:
        for tid in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{tid}/sched") as f:
                for line in f:
                    key, _, value = line.partition(":")
                    key = key.strip()
                    if key == "se.nr_migrations":
                        mig += int(float(value))
                    elif key == "nr_involuntary_switches":
                        invol += int(float(value))
    except OSError:
        return None
    return mig, invol


def parse_setting(x: str):
    """A --settings entry: "all", a thread count, or a count > 1 with letters: "p" (pinned) or
    "u" (unpinned), "e" (the even split of the parts, never moved: Kernel.split = "even"), and
    "h" (one part per thread, equal: the default layout) or "q" (2 threads share 4 parts of
    35/15/15/35 %, the layout the adaptive split moves), e.g. "2pqe"."""
    if x == "all":
        return x
    if x.isdigit() and int(x) > 0:
        return int(x)
    digits = x.rstrip("puehq")
    letters = x[len(digits):]
    if digits.isdigit() and int(digits) > 1 and letters and len(set(letters)) == len(letters) \
            and not {"p", "u"} <= set(letters) and not {"q", "h"} <= set(letters):
        return x
    return None


def compile_setting(be, g, s):
    from spikecore.engine import simulator

    if not isinstance(s, str) or s == "all":
        return be.compile(g, threads=s)
    digits = s.rstrip("puehq")
    letters, threads = s[len(digits):], int(digits)
    if "h" in letters or "q" in letters:   # the layout's parts: one per thread, or 35/15/15/35 % for 2
        four = "q" in letters and threads == 2
        shares, simulator.part_shares = simulator.part_shares, lambda n: (7, 3, 3, 7) if four else (1,) * n
        try:
            exe = be.compile(g, threads=threads)
        finally:
            simulator.part_shares = shares
    else:
        exe = be.compile(g, threads=threads)
    if "p" in letters or "u" in letters:
        exe.sim.kernel.pin_threads = "p" in letters
    if "e" in letters:
        exe.sim.kernel.split = "even"
    return exe


def measure(bench: str, repeats: int, bursts: int, burst_s: float, duration: float | None = None,
            settings=(1, 2, "all"), phases: int = 0) -> dict:
    """Every thread setting of one benchmark network, in one process, runs alternating."""
    from backends import get_backend

    net, d, _ = BENCHMARKS[bench]
    d = duration or d
    g = build_network(net).to_ir()
    be = get_backend("native")
    exes = {s: compile_setting(be, g, s) for s in settings}
    out = {"benchmark": bench, "duration_s": d, "load_before": load(), "settings": {}}
    for s, exe in exes.items():
        exe.run(min(d, 0.01))        # first touch of every array, OpenMP's team started
        out["settings"][str(s)] = {"threads": exe.sim.threads, "choice": exe.sim.thread_choice.as_dict(),
                                   "pinned": exe.sim.kernel.pin_threads and exe.sim.threads > 1,
                                   "wall_s": [], "busiest_cpu_s": [], "cpu_s": [], "burst_s": [],
                                   "migrations": [], "involuntary_switches": []}
    for _ in range(repeats):
        for s, exe in exes.items():
            rec = out["settings"][str(s)]
            c0 = exe.sim.kernel.thread_cpu
            k0 = sched_counts()
            res = exe.run(d)
            k1 = sched_counts()
            cpu = exe.sim.kernel.thread_cpu - c0
            rec["wall_s"].append(res.wall_s)
            rec["busiest_cpu_s"].append(float(cpu.max()))
            rec["cpu_s"].append(float(cpu.sum()))
            if k0 and k1:
                rec["migrations"].append(k1[0] - k0[0])
                rec["involuntary_switches"].append(k1[1] - k0[1])
    for _ in range(bursts):
        for s, exe in exes.items():
            t0 = time.perf_counter()
            exe.run(burst_s)
            out["settings"][str(s)]["burst_s"].append(time.perf_counter() - t0)
    for s, exe in exes.items():
        if phases:
            out["settings"][str(s)]["phases"] = phase_profile(exe, g.dt, phases)
    out["load_after"] = load()
    return out


def phase_profile(exe, dt: float, windows: int) -> dict:
    """Profile ``windows`` windows of one executable (Kernel.profile_windows): per thread the
    median ns of each phase, and the median over windows of the busiest thread's work."""
    import numpy as np

    k = exe.sim.kernel
    k.profile_windows(windows)
    exe.run(windows * int(exe.sim.arrays["window"]) * dt)
    ph = k.phase_profile()
    cpus = k.phase_cpus()
    parts = k.phase_parts()
    k.profile_windows(0)
    busy = ph[:, :, 0] + ph[:, :, 2] + ph[:, :, 3]
    shared = int((cpus == cpus[:1]).all(0).sum()) if cpus.shape[0] > 1 else 0
    return {"windows": int(ph.shape[1]), "window_steps": int(exe.sim.arrays["window"]),
            "cpus": [{int(c): int(n) for c, n in zip(*np.unique(cpus[t], return_counts=True))}
                     for t in range(cpus.shape[0])],
            "windows_on_one_cpu": shared,
            "parts": [{int(c): int(n) for c, n in zip(*np.unique(parts[t], return_counts=True))}
                      for t in range(parts.shape[0])],
            "layout_parts": int(exe.sim.parts),
            "own_ns": [float(x) for x in np.median(ph[:, :, 0], 1)],
            "wait_ns": [float(x) for x in np.median(ph[:, :, 1], 1)],
            "draw_ns": [float(x) for x in ph[:, :, 2].mean(1)],
            "deliver_ns": [float(x) for x in np.median(ph[:, :, 3], 1)],
            "busiest_work_ns": float(np.median(busy.max(0)))}


def phase_lines(m: dict) -> list[str]:
    """One line per setting with a phase profile."""
    st = m["settings"]
    base = st.get("1", {}).get("phases")
    lines = []
    for key, r in st.items():
        p = r.get("phases")
        if not p:
            continue
        per = "; ".join(f"thread {t}: own {p['own_ns'][t]:.0f}, wait {p['wait_ns'][t]:.0f}, draw ahead "
                        f"{p['draw_ns'][t]:.0f} (mean), deliver {p['deliver_ns'][t]:.0f}"
                        for t in range(len(p["own_ns"])))
        ratio = f" ({base['busiest_work_ns'] / p['busiest_work_ns']:.2f}x one thread's)" if base else ""
        where = "; ".join(f"thread {t} on CPU " + ", ".join(f"{c} ({n})" for c, n in p["cpus"][t].items())
                          for t in range(len(p["cpus"])))
        split = ""
        if p.get("parts") and len(p["parts"]) > 1:
            split = "; parts run (of {}): ".format(p["layout_parts"]) + "; ".join(
                f"thread {t} " + ", ".join(f"{c} in {n} windows" for c, n in p["parts"][t].items())
                for t in range(len(p["parts"])))
        lines.append(f"{m['benchmark']} {key} ({len(p['own_ns'])} thread(s), {p['windows']} windows of "
                     f"{p['window_steps']} step(s)), median ns per window -- {per}; busiest thread's work "
                     f"{p['busiest_work_ns']:.0f} ns{ratio}; windows: {where}; both threads on one CPU at the "
                     f"end of {p['windows_on_one_cpu']} windows{split}")
    return lines


def summarise(m: dict) -> tuple[list[str], list[str]]:
    """Table rows and verdicts of one network's measurement."""
    st = m["settings"]
    if "1" not in st:
        return [], []
    base = statistics.median(st["1"]["wall_s"])
    base_cpu = statistics.median(st["1"]["busiest_cpu_s"])
    base_burst = min(st["1"]["burst_s"]) if st["1"]["burst_s"] else None
    rows = []
    for key, r in st.items():
        med = statistics.median(r["wall_s"])
        bc = statistics.median(r["busiest_cpu_s"])
        burst = f"{min(r['burst_s']) * 1e3:.2f} ms ({base_burst / min(r['burst_s']):.2f}x)" if r["burst_s"] else "-"
        sched = (f"{statistics.median(r['migrations']):.0f} / {statistics.median(r['involuntary_switches']):.0f}"
                 if r.get("migrations") else "-")
        rows.append(f"| {m['benchmark']} | {key} | {r['threads']} | {med:.4f} | {min(r['wall_s']):.4f} | "
                    f"{max(r['wall_s']):.4f} | {base / med:.2f}x | {bc:.4f} | {base_cpu / bc:.2f}x | {burst} | {sched} | "
                    f"{m['load_before']} / {m['load_after']} |")
    verdicts = []
    target = TWO_THREAD_TARGET.get(m["benchmark"])
    if target and "2" in st:
        two = base / statistics.median(st["2"]["wall_s"])
        verdicts.append(f"{m['benchmark']}: 2 threads {two:.2f}x one thread (target >= {target}x): "
                        f"{'met' if two >= target else 'NOT met'}")
    if "all" not in st:
        return rows, verdicts
    al = base / statistics.median(st["all"]["wall_s"])
    verdicts.append(f"{m['benchmark']}: all = {st['all']['threads']} thread(s), {al:.2f}x one thread "
                    f"(target >= {1 / (1 + ALL_TOLERANCE):.3f}x): {'met' if al >= 1 / (1 + ALL_TOLERANCE) else 'NOT met'}"
                    f"; {st['all']['choice']['reason']}")
    return rows, verdicts


HEADER = ("| network | threads option | threads run | wall s (median) | wall s (min) | wall s (max) | "
          "speed-up (median) | busiest thread CPU s | CPU-bound speed-up | fastest burst | "
          "migrations / involuntary switches per run (median) | load before / after |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.threads", description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", default=DEFAULT, help=f"comma-separated networks of the suite (default {DEFAULT})")
    ap.add_argument("--repeats", type=int, default=5, help="runs per setting (median and min are reported)")
    ap.add_argument("--duration", type=float, default=None, help="simulated s per run (default: the suite's)")
    ap.add_argument("--bursts", type=int, default=0, help="short runs per setting, in turn (fastest reported)")
    ap.add_argument("--burst-duration", type=float, default=0.05, help="simulated s per burst")
    ap.add_argument("--settings", default="1,2,all",
                    help="thread options in the order each turn runs them (must include 1); "
                         "'2p': 2 threads pinned, '2u': not pinned, '2e': the even split of the parts, "
                         "'2h': one part per thread (the default), '2q': 4 parts of 35/15/15/35 %% that the split "
                         "moves; letters combine, e.g. '2pqe'")
    ap.add_argument("--phases", type=int, default=0, metavar="W",
                    help="profile W windows per setting: median ns per phase and thread")
    ap.add_argument("--cores-rounds", type=int, default=30, metavar="N",
                    help="rounds of the CPU probe before the table (benchmarks.cores; 0: none)")
    ap.add_argument("--out", default=None, help="write the measurements as JSON here")
    args = ap.parse_args(argv)
    settings = [parse_setting(x) for x in args.settings.split(",") if x]
    if 1 not in settings or None in settings or len(set(map(str, settings))) != len(settings):
        print(f"--settings: {args.settings!r}; expected distinct positive thread counts, counts > 1 with 'p' "
              f"(pinned), 'u' (unpinned), 'e' (even split), 'h' (a part per thread) or 'q' (4 parts), or 'all', "
              f"1 among them", file=sys.stderr)
        return 2
    names = [x for x in args.only.split(",") if x]
    unknown = [x for x in names if x not in BENCHMARKS]
    if unknown:
        print(f"--only: unknown network(s) {', '.join(unknown)}; expected some of {', '.join(BENCHMARKS)}",
              file=sys.stderr)
        return 2
    print(f"load average at start: {load()} ({os.cpu_count()} CPUs)")
    cores_probe = None
    if args.cores_rounds > 0:
        cores_probe = cores.probe(args.cores_rounds, 20.0)
        if cores_probe:
            print("the CPUs, alone and both at once (python -m benchmarks.cores):")
            print("\n".join("  " + x for x in cores.lines(cores_probe, cores_probe["cpus"])))
    print(HEADER)
    results, verdicts, phases = [], [], []
    for name in names:
        m = measure(name, args.repeats, args.bursts, args.burst_duration, args.duration, settings, args.phases)
        results.append(m)
        rows, v = summarise(m)
        verdicts += v
        phases += phase_lines(m)
        print("\n".join(rows), flush=True)
    print()
    print("\n".join(verdicts))
    if phases:
        print()
        print("\n".join(phases))
    print(f"load average at end: {load()}")
    if args.out:
        Path(args.out).write_text(json.dumps([{**m, "cores": cores_probe} for m in results], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
