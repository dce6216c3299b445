"""The intermediate representation every backend compiles.

A versioned graph of named nodes (populations, sources, current inputs,
monitors) and edges (projections with explicit synapse arrays). Everything is
realised: connectivity, weights, delays and initial states are arrays drawn from
the network seed by spikecore.network before any backend sees them. Values are
plain SI floats (seconds, volts, amperes, siemens, farads, ohms, hertz); field
names follow NIR where NIR has the concept.

Neighbours: spikecore.network lowers user objects to this; backends/* compile
it; hwmodels.passes rewrites it (IR -> IR); spikecore.models documents each
model's equations and parameters.

Semantics of one grid step n (time t = n*dt), shared by every grid backend and
matching Brian2's default schedule (groups -> thresholds -> synapses -> resets):

1. state monitors sample (Brian2 StateMonitor, when='start');
2. state update over [t, t+dt] with the current of step n, refractory v clamped;
3. threshold: spike where v > v_threshold and not refractory;
4. propagation: spikes of step n (neurons, spike sources, Poisson sources) are
   queued with their delay D = delay/dt >= 1 steps; everything due at step n is
   applied (syn += w, g += w, or v += w for delta synapses unless refractory);
5. reset of the neurons that spiked at step n.

So a spike at step n with delay D changes the target's synaptic variable at step
n+D and can first make it cross threshold at step n+D+1.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .errors import ValidationError

IR_VERSION = 1

# A spike source's spike at time t is emitted at step round(t / dt); times within
# this fraction of a step of the grid count as on it (floating-point slack only).
GRID_TOLERANCE = 1e-6


@dataclass
class PopulationNode:
    """A group of neurons of one model with scalar parameters and per-neuron initial state."""
    name: str
    size: int
    model: str
    params: dict            # name -> float (SI)
    receptors: dict         # receptor name -> {param: float}, e.g. {"exc": {"tau_syn": 0.005}}
    initial: dict           # state var -> float64 array of length size (SI)
    attrs: dict = field(default_factory=dict)   # pass- or backend-specific (e.g. Loihi integer params)


@dataclass
class SpikeSourceNode:
    """Neurons that spike at given times: parallel arrays (times in s, neuron indices)."""
    name: str
    size: int
    times: np.ndarray       # float64, seconds, sorted
    indices: np.ndarray     # int64


@dataclass
class PoissonSourceNode:
    """Independent Poisson processes, one per neuron; several spikes per step allowed.

    The spike count of neuron i in step n is Poisson(rates[i] * dt), defined by
    ``poisson_counts`` from ``seed`` (a counter-based stream: any step of any
    neuron can be drawn alone), so every backend that pre-generates trains gets
    the same ones as the native engine.
    """
    name: str
    size: int
    rates: np.ndarray       # float64 Hz, length size
    seed: int
    start: float = 0.0      # s
    stop: float = float("inf")


@dataclass
class CurrentInputNode:
    """Piecewise-constant current injected into some neurons of a population.

    ``amplitudes[k]`` (A) holds from ``times[k]`` (s) until ``times[k+1]``; before
    ``times[0]`` the current is 0. A constant current is ``times=[0]``.
    """
    name: str
    target: str
    neurons: np.ndarray     # int64 indices into the target population
    times: np.ndarray       # float64 seconds, strictly increasing
    amplitudes: np.ndarray  # float64 amperes


@dataclass
class ProjectionEdge:
    """Explicit synapses from ``pre`` (population or source) to ``post`` (population)."""
    name: str
    pre: str
    post: str
    receptor: str           # receptor of post ("default" for delta-synapse models)
    synapse: str            # "delta" | "current" | "conductance" (from post's model)
    i: np.ndarray           # int64 presynaptic indices
    j: np.ndarray           # int64 postsynaptic indices
    weight: np.ndarray      # float64: V (delta, current) or S (conductance)
    delay: np.ndarray       # float64 seconds
    attrs: dict = field(default_factory=dict)   # pass- or backend-specific (e.g. Loihi weight_exp)
    # None (static), or the plasticity rule and its SI parameters ({"rule": name, ...}:
    # spikecore.plasticity); the weights above are then the initial ones
    plasticity: dict | None = None

    @property
    def n_synapses(self) -> int:
        return int(self.i.size)


@dataclass
class SpikeMonitorNode:
    name: str
    target: str


@dataclass
class StateMonitorNode:
    name: str
    target: str
    variables: tuple
    neurons: np.ndarray     # int64 indices into target
    interval: float         # s, a multiple of dt


@dataclass
class WeightMonitorNode:
    """Weights of some synapses of a plastic projection (indices into its synapse arrays),
    sampled at the start of every step that is a multiple of ``interval``."""
    name: str
    projection: str
    synapses: np.ndarray    # int64
    interval: float         # s, a multiple of dt


@dataclass
class IRGraph:
    """A whole network, realised. ``dt`` is the grid the delays were checked against."""
    name: str
    dt: float
    seed: int
    populations: dict = field(default_factory=dict)     # name -> PopulationNode
    spike_sources: dict = field(default_factory=dict)   # name -> SpikeSourceNode
    poisson_sources: dict = field(default_factory=dict)  # name -> PoissonSourceNode
    currents: dict = field(default_factory=dict)        # name -> CurrentInputNode
    projections: dict = field(default_factory=dict)     # name -> ProjectionEdge
    spike_monitors: dict = field(default_factory=dict)
    state_monitors: dict = field(default_factory=dict)
    weight_monitors: dict = field(default_factory=dict)   # name -> WeightMonitorNode
    version: int = IR_VERSION
    # field path -> how many draws of a truncated distribution fell outside its bounds
    # and were drawn again (spikecore.network.Normal), e.g. {"projections.ee.delay": 12}
    redrawn: dict = field(default_factory=dict)

    # -- queries shared by backends -------------------------------------------
    def source_size(self, name: str) -> int:
        for table in (self.populations, self.spike_sources, self.poisson_sources):
            if name in table:
                return table[name].size
        raise KeyError(name)

    @property
    def n_neurons(self) -> int:
        return sum(p.size for p in self.populations.values())

    @property
    def n_synapses(self) -> int:
        return sum(e.n_synapses for e in self.projections.values())

    def recorded_populations(self) -> list:
        """Populations whose spikes are recorded (all of them when no spike monitor is given)."""
        if not self.spike_monitors:
            return list(self.populations)
        return [m.target for m in self.spike_monitors.values()]

    def edges(self):
        """(src, dst) pairs, NIR-style."""
        return [(e.pre, e.post) for e in self.projections.values()]


def steps(t: float, dt: float) -> int:
    """round(t/dt) as an int: the step of time t (Brian2 ``timestep``)."""
    return int(np.round(t / dt))


def duration_steps(duration, dt: float) -> int:
    """The number of steps a run of ``duration`` seconds covers (round(duration/dt), as
    ``steps``), checked once for every backend: a positive, finite duration of at least
    half a step (shorter ones would run zero steps)."""
    try:
        valid = duration > 0 and math.isfinite(duration)
    except TypeError:
        valid = False
    if not valid:
        raise ValidationError("duration", duration, "a positive, finite duration")
    n = steps(duration, dt)
    if n < 1:
        raise ValidationError("duration", f"{duration!r} s",
                              f"more than half a step of dt = {dt!r} s (it would run no step)")
    return n


# The most steps a delay or a sampling interval may span: every engine counts them in
# 64-bit integers, and longer than 2^31 steps (2.5 days at dt = 0.1 ms) is a unit mistake.
MAX_STEPS = 2**31 - 1


def delay_steps(delay: np.ndarray, dt: float) -> np.ndarray:
    """Delays as integer steps (they were validated as multiples of dt >= dt)."""
    return np.rint(np.asarray(delay) / dt).astype(np.int64)


# Largest expected count per step of one Poisson neuron (rate * dt) the CDF tables
# are built for: exp(-lam) must stay a normal double.
MAX_POISSON_MEAN = 700.0
_SPLITMIX_GAMMA = 0x9E3779B97F4A7C15
_SPLITMIX_M1 = 0xBF58476D1CE4E5B9
_SPLITMIX_M2 = 0x94D049BB133111EB


def poisson_cdf(lam: float) -> np.ndarray:
    """CDF table of Poisson(lam): entry k is P(X <= k), summed in this order from
    p_0 = exp(-lam), p_k = p_{k-1} * lam / k; entries that round to 1.0 are left
    out (no uniform variate in [0, 1) reaches them). Plain IEEE double arithmetic,
    so every machine builds the same table."""
    lam = float(lam)
    if not 0.0 <= lam <= MAX_POISSON_MEAN:
        raise ValueError(f"Poisson mean per step {lam!r} outside [0, {MAX_POISSON_MEAN}]")
    out = []
    p = math.exp(-lam)
    c = p
    k = 0
    while c < 1.0:
        out.append(c)
        k += 1
        p = p * lam / k
        if p == 0.0 and k > lam:
            break
        c = c + p
    return np.array(out, dtype=np.float64)


def poisson_uniforms(seed: int, counters: np.ndarray) -> np.ndarray:
    """Uniform variates in [0, 1): the top 53 bits of SplitMix64's output number
    ``counter`` (0-based) for the given seed (Steele, Lea & Flood 2014)."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * np.uint64(_SPLITMIX_GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_SPLITMIX_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_SPLITMIX_M2)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.int64).astype(np.float64) * 2.0 ** -53


def poisson_active_steps(node: PoissonSourceNode, dt: float) -> tuple:
    """[first, stop) steps in which the source may spike: t = n*dt with
    start - GRID_TOLERANCE*dt <= t < stop - GRID_TOLERANCE*dt (stop may be 2**62)."""
    def first_at_or_after(x):
        n = max(0, int(math.ceil(x / dt)) - 2)
        while n * dt < x:
            n += 1
        return n
    on = first_at_or_after(node.start - GRID_TOLERANCE * dt)
    off = 2 ** 62 if not math.isfinite(node.stop) else first_at_or_after(node.stop - GRID_TOLERANCE * dt)
    return on, max(on, off)


def poisson_counts(node: PoissonSourceNode, dt: float, start_step: int, n_steps: int, rng=None):
    """Spike counts (n_steps, size) of a Poisson source for steps [start_step, start_step+n_steps).

    The definition every backend follows (the native engine computes the same
    numbers in C, spikecore/engine/_kernel.c; tests compare them): the count of
    neuron k at step n is the number of entries of ``poisson_cdf(rates[k]*dt)``
    that are <= u, with u = ``poisson_uniforms(seed, n*size + k)`` — inversion of
    the Poisson CDF driven by a counter-based generator, so any step of any neuron
    can be drawn on its own (chunks, threads, pre-generated trains all agree).
    Counts are 0 outside ``poisson_active_steps``. ``rng`` is accepted for callers
    of the earlier sequential stream and unused.
    """
    size = node.size
    lam = np.asarray(node.rates, dtype=float) * dt
    n = np.arange(start_step, start_step + n_steps, dtype=np.int64)
    u = poisson_uniforms(node.seed, (n[:, None] * size + np.arange(size)[None, :]))
    counts = np.zeros((n_steps, size), dtype=np.uint16)
    values, inverse = np.unique(lam, return_inverse=True)
    for t, value in enumerate(values):
        cols = np.flatnonzero(inverse == t)
        table = poisson_cdf(value)
        counts[:, cols] = np.searchsorted(table, u[:, cols], side="right")
    on, off = poisson_active_steps(node, dt)
    counts[(n < on) | (n >= off)] = 0
    return counts


def poisson_rng(node: PoissonSourceNode):
    """Kept for callers written against the earlier sequential stream: the
    counter-based stream of ``poisson_counts`` needs no generator state."""
    return None


def current_at_steps(node: CurrentInputNode, dt: float):
    """Change points of a current input as (step, amplitude) pairs, the step being
    the first one whose time is >= the change time."""
    st = np.ceil(np.asarray(node.times) / dt - GRID_TOLERANCE).astype(np.int64)
    return st, np.asarray(node.amplitudes, dtype=float)
