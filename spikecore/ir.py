"""The intermediate representation every backend compiles.

A versioned graph of named nodes (populations, sources, current inputs,
monitors) and edges (projections with synapse arrays, or for large projections a stream that
produces them in chunks). Everything is realised or defined: connectivity,
weights, delays and initial states are drawn from the network seed by
spikecore.network, the same on every backend. Values are
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


# Static projections expected to have at least this many synapses stay a SynapseStream in
# the IR instead of arrays (spikecore.network): drawn whenever a backend reads them
LAZY_SYNAPSES = 2**22
# ... and, in a network whose static projections are expected to hold at least
# LAZY_NETWORK_SYNAPSES in all, every one of at least LAZY_IN_LARGE_NETWORK (many medium
# projections would otherwise sit in the IR at 32 B per synapse: the full-scale cortical
# microcircuit has 36 below LAZY_SYNAPSES, 4.3e7 synapses, 1.4 GB)
LAZY_NETWORK_SYNAPSES = 2**25
LAZY_IN_LARGE_NETWORK = 2**16


def is_lazy(expected: int, network_expected: int) -> bool:
    """Whether a static projection expected to have ``expected`` synapses, in a network whose
    static projections expect ``network_expected``, stays a SynapseStream."""
    return expected >= LAZY_SYNAPSES or (network_expected >= LAZY_NETWORK_SYNAPSES
                                         and expected >= LAZY_IN_LARGE_NETWORK)


class SynapseStream:
    """A projection's synapses, produced on demand in chunks instead of held as arrays.

    ``generate()`` returns an iterator of chunks ``(i, j, weight, delay)`` (int64, int64,
    float64, float64 arrays of one length); their concatenation is the projection's synapse
    list, the same on every call (everything is drawn from the network seed). The grid
    engine fills its synapse table from the chunks, two passes, without ever holding the
    whole list; other backends ask ``ProjectionEdge.i`` etc., which joins them once.
    ``generate(counts)`` adds to ``counts`` the redraws of truncated draws per field path,
    which each full pass writes into ``redrawn`` (the graph's IRGraph.redrawn).
    ``generate_any_order(counts)``, where given, yields the same synapses in another order
    that is cheaper to draw (e.g. by target, unsorted), and the same weights and delays,
    but each value in its place of the list, so not with its own synapse: only a pass
    that counts synapses (per row) and takes ranges of the values may use it
    (``chunks(ordered=False)``: the grid engine's counting pass).

    ``generate_onto(hosted, counts)``, where given, yields only the synapses onto the target
    neurons marked in the mask ``hosted``, drawing only theirs (``onto``: what one MPI rank
    builds; for each target its synapses and values, in their order in the list), and
    ``value_chunks()`` chunks (j, weight, delay) holding every weight and delay of the projection
    with no source drawn (one per target when its synapses all carry the same values, else, with
    ``streams: per_target``, every synapse's from its target's stream), and ``in_degrees()`` the synapses
    per target (``ProjectionEdge.n_synapses`` then draws no source), and ``weight_signs()`` the
    signs (+1, -1) its nonzero weights can take as the projection's declaration fixes them (a
    constant's sign, a distribution's bounds; None where only the draws can tell), with no weight
    drawn (spikecore.network). ``rank_local_reason``: why a
    stream without ``generate_onto`` cannot draw by target (spikecore.network.rank_local_reason);
    ``per_target``: the projection's random numbers come from per-target streams.
    """

    def __init__(self, generate, expected: int = 0, redrawn: dict | None = None, generate_any_order=None,
                 generate_onto=None, value_chunks=None, in_degrees=None, rank_local_reason: str | None = None,
                 per_target: bool = False, weight_signs=None):
        self.generate = generate
        self.generate_any_order = generate_any_order
        self.generate_onto = generate_onto
        self.value_chunks = value_chunks
        self.in_degrees = in_degrees
        self.weight_signs = weight_signs
        self.rank_local_reason = rank_local_reason
        self.per_target = per_target      # drawn from per-target streams (Projection.streams "per_target")
        self.expected = int(expected)     # the connector's expected synapse count (a hint)
        self.n_synapses = None            # known after the first full pass
        self.redrawn = redrawn            # the graph's IRGraph.redrawn, updated after each pass

    def chunks(self, ordered: bool = True):
        n = 0
        counts: dict = {}
        generate = self.generate if ordered or self.generate_any_order is None else self.generate_any_order
        for chunk in generate(counts):
            n += int(chunk[0].size)
            yield chunk
        self.n_synapses = n
        if self.redrawn is not None:
            self.redrawn.update(counts)

    @property
    def rank_local(self) -> bool:
        """Whether ``onto`` draws only the hosted targets' synapses (else it draws all and filters)."""
        return self.generate_onto is not None

    def onto(self, hosted: np.ndarray):
        """Chunks (i, j, weight, delay) of the synapses onto the targets marked in the bool mask
        ``hosted``: for every hosted target, its synapses with their values in the list's
        order. Rank-local streams draw only those targets' synapses; the others draw the
        whole list piece by piece and keep the hosted targets' (memory: one piece)."""
        hosted = np.asarray(hosted, dtype=bool)
        if self.generate_onto is not None:
            counts: dict = {}
            yield from self.generate_onto(hosted, counts)
            return
        for i, j, w, d in self.chunks():
            keep = hosted[j]
            yield i[keep], j[keep], w[keep], d[keep]

    def materialise(self) -> tuple:
        parts = list(self.chunks())
        if not parts:
            return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))
        if len(parts) == 1:
            return parts[0]
        return tuple(np.concatenate([p[k] for p in parts]) for k in range(4))


class ProjectionEdge:
    """Synapses from ``pre`` (population or source) to ``post`` (population).

    ``i``, ``j`` (int64 pre- and postsynaptic indices), ``weight`` (float64: V for delta and
    current synapses, S for conductance) and ``delay`` (float64 s), one entry per synapse.
    An edge is either explicit (the four arrays) or lazy (``stream``, a SynapseStream:
    large projections, spikecore.network): a lazy edge joins its chunks into the arrays the
    first time one of them is read or written, and ``chunks()`` hands out the synapses
    without doing so. ``weight_precision`` "float32": every weight is a float32 value (the
    description asked for it; engines may then store them in 4 bytes).
    ``plasticity``: None (static), or the rule and its SI parameters ({"rule": name, ...}:
    spikecore.plasticity); the weights are then the initial ones. ``attrs``: pass- or
    backend-specific (e.g. Loihi weight_exp).
    """

    def __init__(self, name: str, pre: str, post: str, receptor: str, synapse: str,
                 i=None, j=None, weight=None, delay=None, attrs: dict | None = None,
                 plasticity: dict | None = None, stream: SynapseStream | None = None,
                 weight_precision: str = "float64"):
        self.name, self.pre, self.post = name, pre, post
        self.receptor = receptor            # receptor of post ("default" for delta-synapse models)
        self.synapse = synapse              # "delta" | "current" | "conductance" (from post's model)
        self.attrs = {} if attrs is None else attrs
        self.plasticity = plasticity
        self.weight_precision = weight_precision
        if stream is None:
            if any(x is None for x in (i, j, weight, delay)):
                raise ValueError("a projection edge needs i, j, weight and delay, or a stream")
            self._arrays = [i, j, weight, delay]
        else:
            self._arrays = None
        self.stream = stream

    @property
    def is_lazy(self) -> bool:
        """True while the synapses exist only as a stream (no arrays joined yet)."""
        return self._arrays is None

    def _materialise(self) -> list:
        if self._arrays is None:
            self._arrays = list(self.stream.materialise())
        return self._arrays

    def _array(k):
        def get(self):
            return self._materialise()[k]

        def set_(self, value):   # a new list: a copy.copy of the edge keeps the original's arrays
            arrays = list(self._materialise())
            arrays[k] = value
            self._arrays = arrays
        return property(get, set_)

    i = _array(0)
    j = _array(1)
    weight = _array(2)
    delay = _array(3)
    del _array

    def chunks(self, ordered: bool = True):
        """The synapses as chunks (i, j, weight, delay), in order, without joining a lazy edge;
        ``ordered=False``: the same synapses in any order, and the same weights and delays but
        not necessarily each with its own synapse (SynapseStream.generate_any_order): for
        counting synapses and taking ranges of values only."""
        if self._arrays is not None:
            yield tuple(self._arrays)
        else:
            yield from self.stream.chunks(ordered)

    @property
    def n_synapses(self) -> int:
        if self._arrays is not None:
            return int(np.size(self._arrays[0]))
        if self.stream.n_synapses is None:
            if self.stream.in_degrees is not None:     # counted from the in-degrees, no source drawn
                self.stream.n_synapses = int(self.stream.in_degrees().sum())
            else:
                for _ in self.stream.chunks(ordered=False):
                    pass
        return self.stream.n_synapses

    def __repr__(self):
        kind = "lazy" if self.is_lazy else f"{self.n_synapses} synapses"
        return f"ProjectionEdge({self.name!r}, {self.pre!r} -> {self.post!r}, {self.receptor!r}, {kind})"


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


def splitmix64(seed: int, counters: np.ndarray) -> np.ndarray:
    """SplitMix64's output numbers ``counters`` (0-based) for the given seed, as uint64
    (Steele, Lea & Flood 2014): a counter-based stream, any number drawn on its own."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + (np.asarray(counters, dtype=np.uint64) + np.uint64(1)) * np.uint64(_SPLITMIX_GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(_SPLITMIX_M1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(_SPLITMIX_M2)
        return z ^ (z >> np.uint64(31))


def poisson_uniforms(seed: int, counters: np.ndarray) -> np.ndarray:
    """Uniform variates in [0, 1): the top 53 bits of SplitMix64's output number
    ``counter`` (0-based) for the given seed (``splitmix64``)."""
    return (splitmix64(seed, counters) >> np.uint64(11)).astype(np.int64).astype(np.float64) * 2.0 ** -53


# Per-target streams (fixed_total_number's sources, the per-target weights and delays of
# spikecore.distributions.TargetValueStream): number k of target j is SplitMix64 number
# j * TARGET_STREAM + k of the stream's key, so any set of targets is drawn on its own.
TARGET_STREAM = 2 ** 32


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


def poisson_counts(node: PoissonSourceNode, dt: float, start_step: int, n_steps: int):
    """Spike counts (n_steps, size) of a Poisson source for steps [start_step, start_step+n_steps).

    The definition every backend follows (the native engine computes the same
    numbers in C, spikecore/engine/_kernel.c; tests compare them): the count of
    neuron k at step n is the number of entries of ``poisson_cdf(rates[k]*dt)``
    that are <= u, with u = ``poisson_uniforms(seed, n*size + k)`` — inversion of
    the Poisson CDF driven by a counter-based generator, so any step of any neuron
    can be drawn on its own (chunks, threads, pre-generated trains all agree).
    Counts are 0 outside ``poisson_active_steps``.
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


def current_at_steps(node: CurrentInputNode, dt: float):
    """Change points of a current input as (step, amplitude) pairs, the step being
    the first one whose time is >= the change time."""
    st = np.ceil(np.asarray(node.times) / dt - GRID_TOLERANCE).astype(np.int64)
    return st, np.asarray(node.amplitudes, dtype=float)
