"""PyNN's standard cell, synapse and current-source types on spikecore.

Each PyNN cell type maps onto a spikecore model through one entry of ``CELL_MAPPINGS``:
the spikecore model, the conversion of PyNN's parameters (ms, mV, nF, nA, uS) to the
model's SI parameters and receptors, the scale of a weight and of each state variable.
A PyNN type without an entry exists here too, and refuses construction with PyNN's
NotImplementedError naming it; adding its entry (once its spikecore model exists) is all
it takes to support it. Synapse types work the same way through ``SYNAPSE_TYPES``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from pyNN.errors import InvalidParameterValueError
from pyNN.standardmodels import build_translations, cells, electrodes, synapses
from pyNN.standardmodels.base import StandardCurrentSource

from .simulator import MS, state

MV, NA, NF, US = 1e-3, 1e-9, 1e-9, 1e-6
RECEPTORS = {"excitatory": "exc", "inhibitory": "inh"}


@dataclass(frozen=True)
class CellMapping:
    """How one PyNN cell type becomes a spikecore population (module docstring).

    ``convert(p)``: PyNN parameters (scalars, PyNN units) -> (params, receptors) in SI;
    ``weight(params)``: SI weight per PyNN weight unit; ``state``: PyNN state variable ->
    (spikecore variable, function(params) -> SI per PyNN unit); ``receptors``: PyNN
    receptor type -> spikecore receptor."""
    model: str
    convert: Callable
    weight: Callable
    state: dict
    receptors: dict


def _lif_membrane(p):
    return {"tau_mem": p["tau_m"] * MS, "v_leak": p["v_rest"] * MV, "v_threshold": p["v_thresh"] * MV,
            "v_reset": p["v_reset"] * MV, "t_refrac": p["tau_refrac"] * MS,
            "r": p["tau_m"] * MS / (p["cm"] * NF)}


def _curr_exp(p):
    return _lif_membrane(p), {"exc": {"tau_syn": p["tau_syn_E"] * MS}, "inh": {"tau_syn": p["tau_syn_I"] * MS}}


def _curr_delta(p):
    return _lif_membrane(p), {"default": {}}


def _cond_exp(p):
    params = {"c_m": p["cm"] * NF, "g_l": p["cm"] * NF / (p["tau_m"] * MS), "v_leak": p["v_rest"] * MV,
              "v_threshold": p["v_thresh"] * MV, "v_reset": p["v_reset"] * MV, "t_refrac": p["tau_refrac"] * MS}
    return params, {"exc": {"tau_syn": p["tau_syn_E"] * MS, "e_rev": p["e_rev_E"] * MV},
                    "inh": {"tau_syn": p["tau_syn_I"] * MS, "e_rev": p["e_rev_I"] * MV}}


_V = ("v", lambda params: MV)
CELL_MAPPINGS = {
    "IF_curr_exp": CellMapping(
        "lif_cuba", _curr_exp, lambda params: NA * params["r"],
        {"v": _V, "isyn_exc": ("syn_exc", lambda params: NA * params["r"]),
         "isyn_inh": ("syn_inh", lambda params: NA * params["r"])}, RECEPTORS),
    "IF_curr_delta": CellMapping(
        "lif_delta", _curr_delta, lambda params: MV, {"v": _V},
        {"excitatory": "default", "inhibitory": "default"}),
    "IF_cond_exp": CellMapping(
        "lif_coba", _cond_exp, lambda params: US,
        {"v": _V, "gsyn_exc": ("g_exc", lambda params: US), "gsyn_inh": ("g_inh", lambda params: US)}, RECEPTORS),
}

#: PyNN synapse type -> the spikecore synapse it becomes (static: fixed weights)
SYNAPSE_TYPES = {"StaticSynapse": "static"}
#: PyNN current sources this backend injects
CURRENT_SOURCES = ("DCSource", "StepCurrentSource")


def _identity(base) -> dict:
    return build_translations(*[(n, n) for n in base.default_parameters])


def _not_available(what: str, missing: str):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError(f"{what} {type(self).__name__} is not available on spikecore ({missing})")
    return __init__


def _cell_type(base):
    ns = {"__doc__": base.__doc__, "translations": _identity(base), "__module__": __name__,
          "spikecore": CELL_MAPPINGS.get(base.__name__)}
    if ns["spikecore"] is None:
        ns["__init__"] = _not_available("the cell type", "no spikecore model for it yet")
    return type(base.__name__, (base,), ns)


_CELL_BASES = [c for c in vars(cells).values() if isinstance(c, type) and issubclass(c, cells.StandardCellType)
               and c is not cells.StandardCellType and c.__module__ == cells.__name__]
_SOURCES = ("SpikeSourceArray", "SpikeSourcePoisson")
for _base in _CELL_BASES:
    if _base.__name__ not in _SOURCES:
        globals()[_base.__name__] = _cell_type(_base)


class SpikeSourceArray(cells.SpikeSourceArray):
    __doc__ = cells.SpikeSourceArray.__doc__
    translations = _identity(cells.SpikeSourceArray)
    spikecore = None


class SpikeSourcePoisson(cells.SpikeSourcePoisson):
    __doc__ = cells.SpikeSourcePoisson.__doc__
    translations = _identity(cells.SpikeSourcePoisson)
    spikecore = None


# -- synapses -----------------------------------------------------------------------------
def _min_delay(self):
    d = state.min_delay
    return state.dt if d == "auto" else d


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))
    _get_minimum_delay = _min_delay


for _base in [c for c in vars(synapses).values() if isinstance(c, type) and c.__module__ == synapses.__name__
              and c.__name__ not in SYNAPSE_TYPES and c is not synapses.StandardSynapseType
              and c.__name__[0].isupper() and not c.__name__.startswith("Standard")]:
    globals()[_base.__name__] = type(_base.__name__, (_base,), {
        "__module__": __name__, "__init__": _not_available("the synapse type", "no plastic synapses in spikecore yet")})


# -- current sources ----------------------------------------------------------------------
class _CurrentSource(StandardCurrentSource):
    """A current source whose parameters live here; ``_add_to_ir`` makes it CurrentInputNodes."""

    def __init__(self, **parameters):
        object.__setattr__(self, "_native", {})
        object.__setattr__(self, "_cells", [])
        super().__init__(**parameters)
        self.set_native_parameters(self.translate(self.parameter_space))

    def set_native_parameters(self, parameters):
        parameters.shape = (1,)
        parameters.evaluate(simplify=True)
        self._native.update({k: v for k, v in parameters.items()})
        state.changed = True

    def get_native_parameters(self):
        from pyNN.parameters import ParameterSpace, Sequence
        return ParameterSpace({k: (np.asarray(v.value) if isinstance(v, Sequence) else v)
                               for k, v in self._native.items()})

    def inject_into(self, cells):
        ids = np.array([int(c) for c in cells], dtype=np.int64)
        for pop, _, _ in state.population_of(ids):
            if pop.celltype.spikecore is None:
                raise TypeError(f"cannot inject current into {type(pop.celltype).__name__} (a spike source)")
        self._cells.append(ids)
        if self not in state.current_sources:
            state.current_sources.append(self)
        state.changed = True

    def _schedule(self):
        """(times ms, amplitudes nA) of the piecewise-constant current."""
        raise NotImplementedError

    def _add_to_ir(self, g):
        from .. import ir as _ir
        times, amps = self._schedule()
        times = np.asarray(times, dtype=float)
        amps = np.asarray(amps, dtype=float)
        keep = np.concatenate([[True], np.diff(times) > 0]) if times.size else times.astype(bool)
        times, amps = times[keep], amps[keep]
        if times.size == 0:
            return
        k = state.current_sources.index(self)
        for ids in self._cells:
            for pop, idx, _ in state.population_of(ids):
                name = f"{pop.label}_current{k}_{len(g.currents)}"
                g.currents[name] = _ir.CurrentInputNode(name, pop.ir_name, idx.astype(np.int64),
                                                        times * MS, amps * NA)


class DCSource(_CurrentSource, electrodes.DCSource):
    __doc__ = electrodes.DCSource.__doc__
    translations = _identity(electrodes.DCSource)

    def _schedule(self):
        start, stop, amp = float(self._native["start"]), float(self._native["stop"]), float(self._native["amplitude"])
        if stop <= start:
            return [], []
        return ([start, stop], [amp, 0.0]) if stop < 1e11 else ([start], [amp])


class StepCurrentSource(_CurrentSource, electrodes.StepCurrentSource):
    __doc__ = electrodes.StepCurrentSource.__doc__
    translations = _identity(electrodes.StepCurrentSource)

    def set_native_parameters(self, parameters):
        """Checks the steps (ValueError, as PyNN's other backends), puts their times on the
        time grid and keeps the last amplitude of steps that land on one grid time."""
        super().set_native_parameters(parameters)
        times, amps = self._schedule()
        if times.size != amps.size:
            raise InvalidParameterValueError(f"StepCurrentSource: {times.size} times but {amps.size} amplitudes")
        if times.size and times.min() < 0:
            raise InvalidParameterValueError(f"StepCurrentSource times must be >= 0: {times.tolist()}")
        if times.size > 1 and (np.diff(times) <= 0).any():
            raise InvalidParameterValueError(f"StepCurrentSource times must increase: {times.tolist()}")
        grid = np.rint(times / state.dt) * state.dt
        last = np.concatenate([grid[1:] != grid[:-1], [True]]) if grid.size else grid.astype(bool)
        self._native["times"], self._native["amplitudes"] = grid[last], amps[last]

    def _schedule(self):
        times = np.asarray(self._native["times"].value if hasattr(self._native["times"], "value")
                           else self._native["times"], dtype=float)
        amps = np.asarray(self._native["amplitudes"].value if hasattr(self._native["amplitudes"], "value")
                          else self._native["amplitudes"], dtype=float)
        return times, amps


for _name in ("ACSource", "NoisyCurrentSource"):
    _base = getattr(electrodes, _name)
    globals()[_name] = type(_name, (_base,), {
        "__module__": __name__, "__init__": _not_available("the current source", "spikecore injects "
                                                           "piecewise-constant currents only")})
