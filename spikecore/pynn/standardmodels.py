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


def _izhikevich(p):
    # Izhikevich's units (PyNN's: a, b in 1/ms, c in mV, d in mV/ms); v_peak 30 mV as NEST's
    # izhikevich (V_th); no refractoriness; the spikecore default integrator (rk4 with event
    # location, docs/models.md), where pyNN.nest integrates with NEST's forward Euler
    return {"a": p["a"], "b": p["b"], "v_reset": p["c"] * MV, "d": p["d"], "v_threshold": 30 * MV,
            "t_refrac": 0.0}, {"default": {}}


def _eif_cond_exp(p):
    # aeif_cond_exp as pyNN.nest maps it: v_spike -> V_peak, v_thresh -> V_T, g_L = cm/tau_m
    params = {"c_m": p["cm"] * NF, "g_l": p["cm"] * NF / (p["tau_m"] * MS), "v_leak": p["v_rest"] * MV,
              "delta_t": p["delta_T"] * MV, "v_t": p["v_thresh"] * MV, "tau_w": p["tau_w"] * MS,
              "a": p["a"] * 1e-9, "b": p["b"] * NA, "v_reset": p["v_reset"] * MV,
              "v_threshold": p["v_spike"] * MV, "t_refrac": p["tau_refrac"] * MS}
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
    # PyNN's weight for Izhikevich is a jump of v in mV (pyNN.nest: receptor_scale 1e-3 undoes
    # the nA -> pA scaling); i_offset (nA) enters as I = i_offset / c_m with c_m = 1 pF, i.e.
    # 1 nA is I = 1000 mV/ms, NEST's I_e in pA
    "Izhikevich": CellMapping(
        "izhikevich", _izhikevich, lambda params: MV, {"v": _V, "u": ("u", lambda params: 1.0)},
        {"excitatory": "default", "inhibitory": "default"}),
    "EIF_cond_exp_isfa_ista": CellMapping(
        "adex_cond", _eif_cond_exp, lambda params: US,
        {"v": _V, "w": ("w", lambda params: NA), "gsyn_exc": ("g_exc", lambda params: US),
         "gsyn_inh": ("g_inh", lambda params: US)}, RECEPTORS),
}

#: PyNN synapse type -> the spikecore synapse it becomes (static: fixed weights; otherwise
#: the plasticity rule, spikecore/plasticity/, that ``plasticity_of`` fills in)
SYNAPSE_TYPES = {"StaticSynapse": "static", "TsodyksMarkramSynapse": "tsodyks_markram",
                 "STDPMechanism": "stdp_pair"}
#: STDP components with a spikecore counterpart (the others refuse construction)
STDP_COMPONENTS = ("SpikePairRule", "AdditiveWeightDependence", "MultiplicativeWeightDependence")
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


def _subclass(base, **attrs):
    """PyNN's standard type ``base`` here: its parameters under their own names, and ``attrs``."""
    return type(base.__name__, (base,), {"__doc__": base.__doc__, "__module__": __name__,
                                         "translations": _identity(base), **attrs})


SpikeSourceArray = _subclass(cells.SpikeSourceArray, spikecore=None)
SpikeSourcePoisson = _subclass(cells.SpikeSourcePoisson, spikecore=None)


# -- synapses -----------------------------------------------------------------------------
def _min_delay(self):
    d = state.min_delay
    return state.dt if d == "auto" else d


class StaticSynapse(synapses.StaticSynapse):
    __doc__ = synapses.StaticSynapse.__doc__
    translations = build_translations(("weight", "weight"), ("delay", "delay"))
    _get_minimum_delay = _min_delay


TsodyksMarkramSynapse = _subclass(synapses.TsodyksMarkramSynapse, _get_minimum_delay=_min_delay)


class STDPMechanism(synapses.STDPMechanism):
    __doc__ = synapses.STDPMechanism.__doc__
    base_translations = build_translations(("weight", "weight"), ("delay", "delay"),
                                           ("dendritic_delay_fraction", "dendritic_delay_fraction"))
    _get_minimum_delay = _min_delay

    def __init__(self, timing_dependence=None, weight_dependence=None, voltage_dependence=None,
                 dendritic_delay_fraction=1.0, weight=0.0, delay=None):
        if voltage_dependence is not None:
            raise NotImplementedError("voltage-dependent STDP on spikecore")
        if timing_dependence is None or weight_dependence is None:
            raise NotImplementedError("STDPMechanism on spikecore needs a timing and a weight dependence")
        super().__init__(timing_dependence, weight_dependence, voltage_dependence,
                         dendritic_delay_fraction, weight, delay)

    def _build_translations(self):
        # the base class updates its class-level dict in place, leaking one mechanism's
        # components into the next: build a fresh one
        self.translations = dict(self.base_translations)
        for component in (self.timing_dependence, self.weight_dependence):
            self.translations.update(component.translations)


for _name in STDP_COMPONENTS:
    globals()[_name] = _subclass(getattr(synapses, _name), possible_models={"stdp_pair"})


def plasticity_of(synapse_type, values: dict, weight_si: float) -> dict | None:
    """The projection's spikecore ``plasticity`` mapping (SI) for a PyNN synapse type whose
    parameters other than weight and delay are ``values`` (PyNN units, one each), or None
    for a static synapse. ``weight_si``: SI per PyNN weight unit of the target.

    STDPMechanism(SpikePairRule, Additive/MultiplicativeWeightDependence) is ``stdp_pair``
    with all-to-all pairing (NEST's stdp_synapse, pyNN.nest's mapping). PyNN's amplitudes
    are relative to w_max for the additive rule (pyNN.nest: lambda = A_plus, NEST's
    Delta w = lambda * Wmax * K; pyNN.brian2: weight += w_max * M), so spikecore's absolute
    A_plus is A_plus * w_max; for the multiplicative rule they are fractions of the distance
    to the bound in both. ``dendritic_delay_fraction`` passes through (PyNN's default 1 is
NEST's stdp_synapse; the native engine takes any fraction, the brian2 backend only 0, as
pyNN.brian2). TsodyksMarkramSynapse is ``tsodyks_markram`` (NEST's
    tsodyks2_synapse; pyNN.nest uses tsodyks_synapse, which also filters with the target's
    tau_syn: docs/pynn.md)."""
    kind = type(synapse_type).__name__
    if SYNAPSE_TYPES.get(kind, "static") == "static":
        return None
    if kind == "TsodyksMarkramSynapse":
        return {"rule": "tsodyks_markram", "U": values["U"], "tau_rec": values["tau_rec"] * MS,
                "tau_fac": values["tau_facil"] * MS}
    wd = type(synapse_type.weight_dependence).__name__
    additive = wd == "AdditiveWeightDependence"
    w_max = values["w_max"] * weight_si
    scale = w_max if additive else 1.0
    return {"rule": "stdp_pair", "pairing": "all_to_all",
            "weight_dependence": "additive" if additive else "multiplicative",
            "tau_plus": values["tau_plus"] * MS, "tau_minus": values["tau_minus"] * MS,
            "A_plus": values["A_plus"] * scale, "A_minus": values["A_minus"] * scale,
            "w_min": values["w_min"] * weight_si, "w_max": w_max,
            "dendritic_delay_fraction": values["dendritic_delay_fraction"]}


for _base in [c for c in vars(synapses).values() if isinstance(c, type) and c.__module__ == synapses.__name__
              and c.__name__ not in SYNAPSE_TYPES and c.__name__ not in STDP_COMPONENTS
              and c is not synapses.StandardSynapseType
              and c.__name__[0].isupper() and not c.__name__.startswith("Standard")]:
    globals()[_base.__name__] = type(_base.__name__, (_base,), {
        "__module__": __name__, "__init__": _not_available("the synapse type", "no spikecore rule for it yet")})


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
                for part, _, _, local in pop.ir_split(idx):
                    name = f"{pop.label}_current{k}_{len(g.currents)}"
                    g.currents[name] = _ir.CurrentInputNode(name, part, local.astype(np.int64),
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
