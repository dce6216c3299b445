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

from dataclasses import dataclass, field

import numpy as np

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

    The spike count of neuron i in step n is Poisson(rates[i] * dt), drawn with
    ``poisson_counts`` from ``seed`` so every backend that pre-generates trains
    gets the same ones.
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
    version: int = IR_VERSION

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


def delay_steps(delay: np.ndarray, dt: float) -> np.ndarray:
    """Delays as integer steps (they were validated as multiples of dt >= dt)."""
    return np.rint(np.asarray(delay) / dt).astype(np.int64)


def poisson_counts(node: PoissonSourceNode, dt: float, start_step: int, n_steps: int,
                   rng: np.random.Generator | None = None):
    """Spike counts (n_steps, size) of a Poisson source for steps [start_step, start_step+n_steps).

    Pass the same ``rng`` for consecutive chunks (created by ``poisson_rng``): drawing
    chunk by chunk gives exactly the stream of one long draw.
    """
    if rng is None:
        rng = poisson_rng(node)
        if start_step:
            rng.poisson(np.broadcast_to(node.rates * dt, (start_step, node.size)))
    lam = np.broadcast_to(node.rates * dt, (n_steps, node.size))
    counts = rng.poisson(lam).astype(np.uint16)
    t = (start_step + np.arange(n_steps)) * dt
    inactive = (t < node.start - GRID_TOLERANCE * dt) | (t >= node.stop - GRID_TOLERANCE * dt)
    if inactive.any():
        counts[inactive] = 0
    return counts


def poisson_rng(node: PoissonSourceNode) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(node.seed))


def current_at_steps(node: CurrentInputNode, dt: float):
    """Change points of a current input as (step, amplitude) pairs, the step being
    the first one whose time is >= the change time."""
    st = np.ceil(np.asarray(node.times) / dt - GRID_TOLERANCE).astype(np.int64)
    return st, np.asarray(node.amplitudes, dtype=float)
