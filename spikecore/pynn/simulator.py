"""The state of a spikecore.pynn simulation: the PyNN objects created since setup(), the
spikecore network built from them, and the data recorded so far.

PyNN describes a network object by object (Population, Projection, current sources);
spikecore compiles a whole network. So ``State`` collects the objects, and the first
``run`` realises them into a spikecore IR (``build_ir``), compiles it on the chosen backend
and runs it. Later runs continue the same compiled network (docs/run_control.md):
``initialize`` between runs writes state variables, ``set`` of parameters and changed
currents recompile with the same connectivity and carry the state over. ``reset`` goes back
to t = 0 by compiling again from the initial values. Adding populations or projections
after the first run, before a reset, raises NotImplementedError (PyNN's own), naming it.

Units: PyNN's (ms, mV, nA, nF, uS) at this module's edges; the IR is in SI.
"""
from __future__ import annotations

import zlib
from contextlib import contextmanager

import numpy as np
from pyNN import common

from .. import ir as _ir
from ..registry import get_backend

name = "spikecore"
BACKENDS = ("native", "brian2", "lava")
#: integrators of the Izhikevich and EIF cells (spikecore's izhikevich, adex_cond: both have these)
INTEGRATORS = ("rk4", "euler")
MS = 1e-3


class ID(int, common.IDMixin):

    def __init__(self, n):
        """Create an ID object with numerical value `n`."""
        int.__init__(n)
        common.IDMixin.__init__(self)


class State(common.control.BaseState):
    """Everything of the current simulation (module docstring)."""

    def __init__(self):
        common.control.BaseState.__init__(self)
        self.mpi_rank = 0
        self.num_processes = 1
        self.dt = 0.1
        self.min_delay = self.max_delay = "auto"
        self.backend, self.options, self.seed, self.integrator = "native", {}, 0, "rk4"
        self.clear()

    def clear(self):
        """Forget the whole network (setup() and end())."""
        self.recorders = set()
        self.populations = []
        self.projections = []
        self.current_sources = []
        self.id_counter = 0
        self.segment_counter = -1
        self.exe = None
        self.ir = None
        self.built_structure = None
        self.reset()

    def reset(self):
        """Back to t = 0 (PyNN's reset): the next run compiles from the initial values;
        recorded data start afresh (PyNN has cached the segment before)."""
        for rec in self.recorders:
            rec._clear_simulator()
        self.running = False
        self.t = 0.0
        self.t_start = 0.0
        self.segment_counter += 1
        self.exe = None
        self.ir = None
        self.changed = False

    # -- ids ---------------------------------------------------------------------------
    def population_of(self, ids: np.ndarray):
        """(population, indices) groups of global cell ids."""
        ids = np.asarray(ids, dtype=np.int64)
        firsts = np.array([p.first_id for p in self.populations])
        k = np.searchsorted(firsts, ids, side="right") - 1
        for q in np.unique(k):
            sel = k == q
            pop = self.populations[q]
            yield pop, ids[sel] - pop.first_id, sel

    # -- running -----------------------------------------------------------------------
    def structure(self):
        """What cannot change between runs without a reset: the objects that exist."""
        return (tuple(id(p) for p in self.populations), tuple(id(p) for p in self.projections),
                tuple(len(p) for p in self.projections))

    def run(self, simtime):
        self.run_until(self.t + simtime)

    def run_until(self, tstop):
        steps = int(round((tstop - self.t) / self.dt))
        if steps <= 0:
            self.running = True
            return
        if self.ir is None:
            self.ir = self.build_ir()
            if self.ir.populations:
                with _pynn_errors():
                    self.exe = get_backend(self.backend).compile(self.ir, **self.options)
            self.built_structure = self.structure()
            self.changed = False
            if self.min_delay == "auto":     # PyNN's "auto": the smallest delay there is
                delays = [float(e.delay.min()) / MS for e in self.ir.projections.values() if e.delay.size]
                self.min_delay = round(min(delays), 9) if delays else self.dt
        elif self.structure() != self.built_structure:
            raise NotImplementedError("adding populations, projections or connections after run() "
                                      "on spikecore (call reset() first; the network is compiled whole)")
        elif self.changed and self.exe is not None:
            replace = getattr(self.exe, "replace_network", None)
            if replace is None:
                raise NotImplementedError(f"changing parameters or currents between runs on the "
                                          f"{self.backend} backend of spikecore (the native backend can)")
            groups = [p.ir_parts() for p in self.populations]
            ir = self.build_ir()
            if any(not _same_groups(old, p.ir_parts()) for p, old in zip(self.populations, groups)):
                for p, parts in zip(self.populations, groups):    # still those of the compiled network
                    p._parts = parts
                raise NotImplementedError(
                    "changing synaptic parameters (tau_syn_E/I, e_rev_E/I) between runs so that the neurons "
                    "sharing them are grouped differently on spikecore (a group is one compiled population: "
                    "call reset() first)")
            with _pynn_errors():
                replace(ir)
            self.ir = ir
            self.changed = False
        elif self.changed and self.exe is None:     # spike sources only: nothing is compiled
            self.ir = self.build_ir()
            self.changed = False
        if self.exe is not None:
            with _pynn_errors():
                result = self.exe.run(steps * self.dt * MS)
        else:
            result = _NoNeurons(steps * self.dt * MS)
        for rec in self.recorders:
            rec._store_result(result)
        self.t = round(self.t + steps * self.dt, 9)
        self.running = True

    # -- the IR ------------------------------------------------------------------------
    def build_ir(self) -> _ir.IRGraph:
        """The spikecore IR of the PyNN objects created so far."""
        g = _ir.IRGraph(name="pynn", dt=self.dt * MS, seed=self.seed)
        for pop in self.populations:
            pop._add_to_ir(g, self.seed)
        for source in self.current_sources:
            source._add_to_ir(g)
        for prj in self.projections:
            prj._add_to_ir(g)
        for rec in self.recorders:
            rec._add_to_ir(g)
        return g


def _same_groups(a: list, b: list) -> bool:
    """Whether two ``Population.ir_parts()`` group the same neurons under the same names."""
    return len(a) == len(b) and all(n == m and np.array_equal(i, j) for (n, i), (m, j) in zip(a, b))


@contextmanager
def _pynn_errors():
    """spikecore's refusals as PyNN's error types, as PyNN's other backends raise them: a
    feature the chosen backend cannot express (e.g. per-neuron thresholds on Lava, which
    holds them once per process) is NotImplementedError, a bad value
    InvalidParameterValueError; the message is spikecore's, naming the feature or field."""
    from pyNN.errors import InvalidParameterValueError

    from ..errors import UnsupportedFeature, ValidationError
    try:
        yield
    except UnsupportedFeature as exc:
        raise NotImplementedError(str(exc)) from None
    except ValidationError as exc:
        raise InvalidParameterValueError(str(exc)) from None


class _NoNeurons:
    """The Result of a run of a network of spike sources only (nothing to compile)."""

    def __init__(self, duration):
        self.duration, self.spikes, self.traces = duration, {}, {}


def seed_for(seed: int, kind: str, label: str) -> int:
    """A per-element seed (spikecore's scheme: the run's seed and the element's name)."""
    ss = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(f"{kind}:{label}".encode()),))
    return int(ss.generate_state(1, np.uint64)[0]) >> 1


state = State()
