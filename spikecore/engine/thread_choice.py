"""How many threads the grid engine runs: a number the user gave, or the choice behind "all".

Threads of the grid engine meet once per *window* of W steps (W = the smallest delay of a
synapse from a neuron, at most 64; spikecore/engine/_kernel_impl.h). The meeting itself
costs under 0.2 µs while both threads hold a core (``python -m benchmarks.barrier``), but
each thread then walks every spike of the window, and that delivery does not halve with two
threads (benchmarks/RESULTS.md, "Thread scaling, round 4"); and whenever another process
takes one of the cores, the partner waits, spins and yields (≈10–20 µs per window while that
lasts; unpinned threads were even found sharing one CPU for whole runs: round 5).
Splitting a window's work pays only where each thread's share is well above that. So
``threads="all"`` is not always every core: it is

    T = min(cores, 1 + floor(window work / MIN_WORK_PER_EXTRA_THREAD_NS))

where the window work is an estimate from the network alone (made before anything is laid
out, so it never depends on the machine's load and the same network always gets the same
count):

    W × (NEURON_NS × neurons + POISSON_DRAW_NS × Poisson neurons
         + EVENT_NS × expected synaptic events per step)

with events from Poisson sources at their rates and from neurons at ASSUMED_RATE_HZ. The
constants are rounded from single-thread profiles of the benchmark networks on the
development machine (AMD EPYC, benchmarks/RESULTS.md, "Threads, round 3"): CUBA (4000
neurons, W = 1) comes to ≈5 µs per window and runs one thread, COBA ≈17 µs (one thread),
the microcircuit at scale 0.1 (W = 1) ≈40 µs and Brunel 10k ≈100 µs (all cores).

In bucket delivery (spikecore.engine.delivery) a spike leaves one item per delay group of its
row in the buckets, and each thread of a team appends and drains one per group of *its part*
of the row: the groups shrink with the parts but their number does not, so every thread pays
about the items one thread pays. An extra thread must then also cover that duplicated walk:

    T = the most threads (up to the cores) with
        window work >= (T - 1) × (MIN_WORK_PER_EXTRA_THREAD_NS + ITEM_NS × items per window per thread)

with the items from the neurons' spikes at ASSUMED_RATE_HZ times the delay groups expected in
a row's part (bucket_items_per_window). The microcircuit at scale 0.1 (≈ 300 items per window,
groups of ≈ 7 synapses per thread) runs one thread: two ran at 0.88-1.12× one thread's speed
on this project's machine (benchmarks/RESULTS.md); at full scale (≈ 5000 items per window of
≈ 50 synapses each per thread, ≈ 1.2 ms of work) it runs two.
Results are identical for any thread count, so the choice changes only the speed; it is
reported (``ThreadChoice.reason``) in the Result's summary and table.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from ..errors import UnsupportedFeature, ValidationError
from ._core import openmp_enabled

#: estimated cost of one neuron's update and threshold per step (ns)
NEURON_NS = 1.0
#: estimated cost of one Poisson neuron's count per step (ns)
POISSON_DRAW_NS = 3.0
#: estimated cost of one synaptic event: an addition into the input ring (ns)
EVENT_NS = 2.0
#: the firing rate assumed for neurons (unknown before the run), Hz
ASSUMED_RATE_HZ = 10.0
#: estimated work per window that each thread beyond the first needs before "all" runs it (ns)
MIN_WORK_PER_EXTRA_THREAD_NS = 25_000.0
#: estimated cost of one delay-group item in bucket delivery, which every thread of a team appends
#: and drains for its part of a row (ns, in the estimate's units, which run ≈2.5× above this
#: machine's measured bucket-mode work: an item's append and drain measured ≈ 40 ns)
ITEM_NS = 100.0
#: delay groups assumed in a row of a lazy projection (its delays are not drawn before the layout)
LAZY_DELAY_STEPS = 64
#: most steps the threads run apart (simulator.MAX_WINDOW)
MAX_WINDOW = 64


@dataclass(frozen=True)
class ThreadChoice:
    """The threads a grid engine runs and why: ``requested`` (an int or "all"), ``threads``,
    ``cores`` (the CPUs this process may use), the estimated ``window_steps`` and
    ``window_work_us`` (None where a number was requested), and a one-line ``reason``."""
    requested: object
    threads: int
    cores: int
    window_steps: int | None = None
    window_work_us: float | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        out = {"requested": self.requested, "threads": self.threads, "cores": self.cores, "reason": self.reason}
        if self.window_steps is not None:
            out["window_steps"] = self.window_steps
            out["window_work_us"] = round(self.window_work_us, 1)
        return out

    def line(self) -> str:
        """One line for a run's log: how many threads ran and why."""
        return f"threads: {self.threads} ({self.reason})"


#: the shares of every population in the parts of a team of 2 threads (part_shares). One part
#: per thread: on this project's 2-vCPU machine the CPUs ran at the same rate in the idle runs
#: of 2026-12-07 15:22-15:26 (benchmarks.cores: slower / alone 0.97-0.99), and there 4 parts of
#: 35/15/15/35 % (the adaptive split's layout: (7, 3, 3, 7)) were slower than 2 on CUBA (0.82x
#: against 1.04x one thread), Brunel 10k (1.52-1.61x against 1.70-1.78x) and the scale-0.1
#: microcircuit (1.02x against 1.06-1.14x): each part is one more walk of a window's spikes.
#: Set it to (7, 3, 3, 7) where one CPU is often slower than the other (`python -m
#: benchmarks.threads --settings 1,2,2q` compares both; benchmarks/RESULTS.md, round 6).
TWO_THREAD_SHARES = (1, 1)


def part_shares(threads: int) -> tuple:
    """The relative sizes of the parts the layout cuts every population into, for a team of
    ``threads``: one part for one thread; for 2 threads TWO_THREAD_SHARES (one equal part
    each by default; with 35, 15, 15 and 35 % the team's split, sc_split in _kernel.c, gives the
    threads 50/50, 65/35 or 35/65 of every population: one part moves 15 %, and each thread
    walks a window's spikes once per part it runs, so few parts); for more, two equal parts
    per thread. Results do not depend on the parts (every channel
    receives its inputs in the serial order), only the speed does."""
    if threads <= 1:
        return (1,)
    if threads == 2:
        return TWO_THREAD_SHARES
    return (1,) * (2 * threads)


def available_cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def estimated_window(g) -> int:
    """A lower bound of the engine's window in steps: the smallest delay of a synapse from a
    neuron (a lazy projection's delays are not drawn here: 1 step is assumed; a plastic
    projection's post delays may shorten the window: 1 step too), at most MAX_WINDOW."""
    w = MAX_WINDOW
    for e in g.projections.values():
        if e.pre not in g.populations:
            continue
        if e.is_lazy or e.plasticity is not None:
            return 1
        d = np.asarray(e.delay)
        if d.size:
            w = min(w, max(1, int(np.rint(d.min() / g.dt))))
    return w


def estimated_step_work_ns(g) -> float:
    """The estimated single-thread work of one step (module docstring), in ns."""
    neurons = sum(p.size for p in g.populations.values())
    draws = sum(s.size for s in g.poisson_sources.values())
    events = 0.0
    for e in g.projections.values():
        if e.pre in g.populations:
            rate = ASSUMED_RATE_HZ
        elif e.pre in g.poisson_sources:
            rate = float(np.mean(g.poisson_sources[e.pre].rates)) if g.poisson_sources[e.pre].size else 0.0
        else:
            continue        # spike sources: their events are listed, usually few
        n = e.stream.n_synapses if e.is_lazy and e.stream.n_synapses is not None else \
            e.stream.expected if e.is_lazy else e.n_synapses
        events += n * rate * g.dt
    return NEURON_NS * neurons + POISSON_DRAW_NS * draws + EVENT_NS * events


def bucket_items_per_window(g, w: int, parts: int) -> float:
    """Expected delay-group items each thread of a team cut into ``parts`` appends and drains per
    window of ``w`` steps in bucket delivery: every population's spikes (ASSUMED_RATE_HZ) times the
    groups expected in its row's part, D (1 - exp(-k / D)) for a row part of k synapses over D
    delay steps (the distinct steps of its projections' delays; LAZY_DELAY_STEPS where lazy)."""
    items = 0.0
    for p in g.populations.values():
        out = [e for e in g.projections.values() if e.pre == p.name]
        if not out or p.size == 0:
            continue
        k = sum(int(e.stream.n_synapses if e.is_lazy and e.stream.n_synapses is not None else
                    e.stream.expected if e.is_lazy else e.n_synapses) for e in out) / p.size / parts
        if any(e.is_lazy for e in out):
            steps = LAZY_DELAY_STEPS
        else:
            steps = np.unique(np.concatenate([np.rint(np.asarray(e.delay, dtype=np.float64).ravel() / g.dt)
                                              for e in out])).size
        if steps and k > 0:
            items += p.size * ASSUMED_RATE_HZ * g.dt * w * steps * (1.0 - math.exp(-k / steps))
    return items


def resolve_threads(threads) -> int:
    """The thread count for an option value: a positive int, or "all" (the CPUs this process
    may use; 1 when the engine was built without OpenMP). Digit strings (from the CLI) count."""
    if isinstance(threads, str) and threads.strip().isdigit():
        threads = int(threads)
    if threads == "all" and not openmp_enabled():
        threads = 1     # all the cores this build can use
    if threads == "all":
        try:
            threads = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            threads = os.cpu_count() or 1
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValidationError("threads", threads, 'a positive number of threads or "all"')
    threads = int(threads)
    if threads > 1 and not openmp_enabled():
        raise UnsupportedFeature("native", f"threads={threads}",
                                 "this build of the engine has no OpenMP (its C compiler lacked it); use threads=1")
    if threads > 256:
        raise ValidationError("threads", threads, "at most 256 threads")
    return threads


def choose_threads(g, requested, cores: int | None = None, buckets: bool = False) -> ThreadChoice:
    """The threads for option value ``requested`` (validated by resolve_threads): a number is
    taken as given; "all" is the available cores, fewer where the estimated work per window
    is small (module docstring; ``buckets``: the engine delivers through buckets, which adds the
    items every thread walks: delivery.likely_buckets). ``cores`` overrides the available CPUs."""
    if not (isinstance(requested, str) and requested.strip() == "all"):
        n = resolve_threads(requested)
        return ThreadChoice(requested, n, cores or available_cores(), reason="as requested")
    n_max = resolve_threads("all") if cores is None else max(1, int(cores))
    if n_max == 1:
        return ThreadChoice("all", 1, n_max, reason="one core available" if cores is not None or
                            available_cores() == 1 else "this build of the engine has no OpenMP")
    w = estimated_window(g)
    work = w * estimated_step_work_ns(g)
    n = int(min(n_max, 1 + math.floor(work / MIN_WORK_PER_EXTRA_THREAD_NS)))
    est = f"about {work / 1e3:.1f} µs of work per window of {w} step{'s' if w > 1 else ''}"
    items = None
    if n > 1 and buckets:
        def cost(t):        # what threads 2..t need of the window's work (module docstring)
            return (t - 1) * (MIN_WORK_PER_EXTRA_THREAD_NS + ITEM_NS * bucket_items_per_window(g, w, len(part_shares(t))))
        while n > 1 and work < cost(n):
            n -= 1
        items = bucket_items_per_window(g, w, len(part_shares(2)))
    if n == n_max:
        reason = f"all {n_max} cores: {est}"
    elif items is None:
        reason = (f"{n} of {n_max} cores: {est}, and each thread beyond the first needs "
                  f"{MIN_WORK_PER_EXTRA_THREAD_NS / 1e3:.0f} µs to pay for the threads' meeting once per window")
    else:
        reason = (f"{n} of {n_max} cores: {est}, and each thread beyond the first needs "
                  f"{MIN_WORK_PER_EXTRA_THREAD_NS / 1e3:.0f} µs for the threads' meeting once per window plus "
                  f"about {ITEM_NS * items / 1e3:.0f} µs for the {items:.0f} delay-group items it walks "
                  f"in bucket delivery")
    return ThreadChoice("all", n, n_max, w, work / 1e3, reason)
