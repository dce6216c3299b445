"""PyNN's Population, PopulationView and Assembly on spikecore.

Parameters are kept here per neuron in PyNN's names and units (the translations are the
identity); a population becomes an IR population, spike source or Poisson source when
the network is built (``_add_to_ir``): parameters that differ per neuron become the model's
per-neuron arrays, and a population whose synaptic parameters differ becomes one IR
population per distinct set of them (``ir_parts``; ``ir_split`` maps neurons to them).
Between runs, ``initialize`` writes the compiled network's state variables and ``set``
recompiles it with the new parameters (spikecore.pynn.simulator)."""
from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.parameters import ParameterSpace, Sequence, simplify

from .. import ir as _ir
from . import simulator
from .recording import Recorder
from .simulator import MS, seed_for, state


class Assembly(common.Assembly):
    _simulator = simulator


def _per_neuron(values, size: int):
    """A scalar where every neuron has the same value, else a float64 array of ``size``."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 0:
        return float(arr)
    arr = np.broadcast_to(arr, (size,))
    return float(arr[0]) if size == 0 or (arr == arr[0]).all() else np.array(arr, dtype=float)


def _homogeneous(pop, name: str, values) -> float:
    arr = np.asarray(values, dtype=float)
    if arr.ndim and arr.size and not (arr == arr.flat[0]).all():
        raise NotImplementedError(f"different values of {name} within one population ({pop.label}) on spikecore: "
                                  "its Poisson sources take one start and duration per population; "
                                  "split the population")
    return float(arr.flat[0]) if arr.ndim else float(arr)


def _check_spike_times(params: dict):
    """PyNN's InvalidParameterValueError for spike times that are not in increasing order."""
    for seq in np.atleast_1d(params.get("spike_times", [])):
        t = np.asarray(seq.value if isinstance(seq, Sequence) else seq, dtype=float)
        if t.size > 1 and (np.diff(t) < 0).any():
            raise errors.InvalidParameterValueError(f"spike times must be in increasing order: {t.tolist()}")


class _Parameters:
    """PyNN parameters from the native ones (the translations are the identity)."""

    def _get_parameters(self, *names):
        native = (self.celltype.get_native_names() if self.celltype.computed_parameters_include(names)
                  else self.celltype.get_native_names(*names))
        return self.celltype.reverse_translate(self._get_native_parameters(*native))


class PopulationView(_Parameters, common.PopulationView):
    _assembly_class = Assembly
    _simulator = simulator

    def _get_native_parameters(self, *names):
        ps = self.parent._get_native_parameters(*names)
        ps.evaluate(simplify=False)
        return ParameterSpace({k: simplify(v[self.mask]) for k, v in ps.items()}, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        _check_spike_times(dict(parameter_space.items()))
        for name, value in parameter_space.items():
            self.parent._parameters[name][self.mask] = value
        state.changed = True

    def initialize(self, **initial_values):
        """The parent's initial values, changed where this view is (and, after a run, the
        running network's state: Population.initialize)."""
        from pyNN.parameters import LazyArray
        for variable, value in initial_values.items():
            values = np.array(LazyArray(self.parent.initial_values[variable], shape=(self.parent.size,),
                                        dtype=float).evaluate(simplify=False), dtype=float)
            values[self.mask] = LazyArray(value, shape=(self.size,), dtype=float).evaluate(simplify=False)
            self.parent.initialize(**{variable: values})

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)


class Population(_Parameters, common.Population):
    __doc__ = common.Population.__doc__
    _simulator = simulator
    _recorder_class = Recorder
    _assembly_class = Assembly

    def __init__(self, *args, **kwargs):
        if state.ir is not None:
            raise NotImplementedError("creating a population after run() on spikecore (call reset() first)")
        super().__init__(*args, **kwargs)

    def _create_cells(self):
        self.first_id = state.id_counter
        self.all_cells = np.array([simulator.ID(i) for i in range(state.id_counter, state.id_counter + self.size)],
                                  dtype=simulator.ID)
        self._mask_local = np.ones(self.size, bool)
        ps = self.celltype.native_parameters
        ps.shape = (self.size,)
        ps.evaluate(simplify=False)
        self._parameters = ps.as_dict()
        self._parts = None          # ir_parts: grouped at each build (_add_to_ir), or when first asked for
        _check_spike_times(self._parameters)
        for cell in self.all_cells:
            cell.parent = self
        state.id_counter += self.size
        self.ir_name = f"pop{len(state.populations)}"
        state.populations.append(self)

    def _get_view(self, selector, label=None):
        return PopulationView(self, selector, label)

    def initialize(self, **initial_values):
        """As PyNN's, but random values are drawn once, here: reset() returns to these values."""
        from pyNN.parameters import LazyArray
        from pyNN.random import RandomDistribution
        drawn = {var: (np.array(LazyArray(value, shape=(self.size,), dtype=float).evaluate(simplify=False),
                                dtype=float) if isinstance(value, RandomDistribution) or callable(value) else value)
                 for var, value in initial_values.items()}
        super().initialize(**drawn)

    def _get_native_parameters(self, *names):
        return ParameterSpace({n: simplify(self._parameters[n]) for n in names}, shape=(self.size,))

    def _set_parameters(self, parameter_space):
        parameter_space.evaluate(simplify=False)
        _check_spike_times(dict(parameter_space.items()))
        for name, value in parameter_space.items():
            self._parameters[name] = np.array(value, copy=True)
        state.changed = True

    def _set_initial_value_array(self, variable, initial_values):
        """Before the first run: the value the build starts from. After: written into the
        compiled network now (run control), and kept for reset()."""
        mapping = self.celltype.spikecore
        if mapping is None or variable not in mapping.state:
            raise errors.NonExistentParameterError(variable, type(self.celltype).__name__,
                                                   list(mapping.state) if mapping else [])
        if state.exe is not None:
            values = np.asarray(initial_values.evaluate(simplify=False) if hasattr(initial_values, "evaluate")
                                else initial_values, dtype=float)
            var, scale = mapping.state[variable]
            si = np.broadcast_to(values, (self.size,)) * self.per_neuron_scale(scale)
            for part, idx in self.ir_parts():
                state.exe.set(part, var, si[idx])

    # -- the IR --------------------------------------------------------------------------
    def _ir_params(self, idx=None):
        """(params, receptors) in SI of the neurons ``idx`` (all by default); the model's
        parameters PyNN has no name for take their defaults. A parameter equal for every
        neuron is a scalar; one that differs is an array of one value per neuron (the model's
        per-neuron parameters, docs/models.md). The neurons of one IR population (``ir_parts``)
        share their receptors' parameters."""
        from ..models import get_model
        from ..models.base import REQUIRED
        mapping = self.celltype.spikecore
        model = get_model(mapping.model)
        idx = np.arange(self.size) if idx is None else idx
        p = self._pynn_values(idx)
        params, receptors = mapping.convert(p)
        params = {k: _per_neuron(v, idx.size) for k, v in params.items()}
        varying = [n for n, v in p.items() if np.ndim(v)]
        if varying:
            self._check_per_neuron(model, p, varying)
        if "integrator" in model.params:       # setup(integrator=...): Izhikevich, EIF
            params["integrator"] = float(model.expand_params({"integrator": state.integrator}, "integrator")
                                         ["integrator"])
        for name, spec in model.params.items():
            if name not in params and spec.default is not REQUIRED:
                params[name] = spec.default
            elif name in params:
                self._check_range(model, name, spec, params[name])
        return params, receptors

    def _pynn_values(self, idx) -> dict:
        """PyNN's parameters of the neurons ``idx`` (scalars where they agree), i_offset aside
        (it becomes current sources, _add_to_ir)."""
        return {n: _per_neuron(np.broadcast_to(np.asarray(self._parameters[n], dtype=float), (self.size,))[idx],
                               idx.size)
                for n in self.celltype.default_parameters if n != "i_offset"}

    def _receptor_side(self, p: dict) -> list:
        """The PyNN parameters among those that differ in ``p`` that spikecore holds per
        receptor, i.e. once per population (tau_syn_E, e_rev_I, ...)."""
        scalars = {n: (float(v[0]) if np.ndim(v) else v) for n, v in p.items()}
        out = []
        for name in [n for n, v in p.items() if np.ndim(v)]:
            _, receptors = self.celltype.spikecore.convert({**scalars, name: p[name]})
            if any(np.ndim(v) for rp in receptors.values() for v in rp.values()):
                out.append(name)
        return out

    def ir_parts(self) -> list:
        if self._parts is None:
            self._parts = self._grouped_by_receptors()
        return self._parts

    def _grouped_by_receptors(self) -> list:
        """[(IR population name, indices of its neurons here)]. One part, ``ir_name``, unless
        receptor parameters (tau_syn_E/I, e_rev_E/I) differ between neurons: spikecore holds
        those once per population, so the neurons are grouped by them, one IR population
        ``<ir_name>_r<k>`` per group (in the order of the groups' first neurons). The groups
        are those of the last build (the compiled network's), regrouped at the next."""
        whole = [(self.ir_name, np.arange(self.size))]
        if self.celltype.spikecore is None or self.size == 0:
            return whole
        p = self._pynn_values(np.arange(self.size))
        side = self._receptor_side(p)
        if not side:
            return whole
        rows = np.column_stack([np.broadcast_to(p[n], (self.size,)) for n in side])
        _, first, inverse = np.unique(rows, axis=0, return_index=True, return_inverse=True)
        order = np.argsort(first)
        return [(f"{self.ir_name}_r{k}", np.flatnonzero(inverse.ravel() == g)) for k, g in enumerate(order)]

    def ir_split(self, indices):
        """(IR population name, its neurons here, positions in ``indices``, indices within
        that IR population) for each part that ``indices`` (neurons here) touch."""
        indices = np.asarray(indices, dtype=np.int64)
        for name, idx in self.ir_parts():
            if len(idx) == self.size:
                yield name, idx, np.arange(indices.size), indices
                continue
            local = np.full(self.size, -1, np.int64)
            local[idx] = np.arange(idx.size)
            sel = np.flatnonzero(local[indices] >= 0)
            if sel.size:
                yield name, idx, sel, local[indices[sel]]

    def per_neuron_scale(self, scale) -> np.ndarray:
        """``scale(params)`` (a state variable's or weight's SI per PyNN unit) for every neuron."""
        out = np.empty(self.size)
        for _, idx in self.ir_parts():
            params, _ = self._ir_params(idx)
            out[idx] = np.broadcast_to(scale(params), (idx.size,))
        return out

    def _check_range(self, model, name, spec, value):
        """PyNN's InvalidParameterValueError for a value out of the model's range (a
        non-positive time constant, a negative refractory period), naming the population."""
        from ..checks import _check_param_array
        from ..errors import ValidationError
        arr = np.atleast_1d(np.asarray(value, dtype=float))
        fld = f"{type(self.celltype).__name__} population {self.label!r}: {model.name}.{name}"
        try:
            if not np.isfinite(arr).all():
                raise ValidationError(fld, float(arr[~np.isfinite(arr)][0]), "finite values")
            _check_param_array(arr, spec, fld)
        except ValidationError as exc:
            raise errors.InvalidParameterValueError(str(exc)) from None

    def _check_per_neuron(self, model, p, varying):
        """NotImplementedError naming the PyNN parameter whose per-neuron values spikecore's
        model cannot take (none of the standard cell types has one: a safeguard for mappings)."""
        scalars = {n: (float(v[0]) if np.ndim(v) else v) for n, v in p.items()}
        for name in varying:
            alone, _ = self.celltype.spikecore.convert({**scalars, name: p[name]})
            held_once = [k for k, v in alone.items() if np.ndim(v) and k not in model.per_neuron_params]
            if held_once:
                raise NotImplementedError(
                    f"different values of {name} within one population ({self.label}) on spikecore: "
                    f"{model.name}'s {', '.join(held_once)} is one value per population; split the population")

    def _add_to_ir(self, g, seed):
        name = type(self.celltype).__name__
        if name == "SpikeSourceArray":
            times, idx = [], []
            for k, seq in enumerate(self._parameters["spike_times"]):
                t = np.asarray(seq.value if isinstance(seq, Sequence) else seq, dtype=float)
                times.append(t)
                idx.append(np.full(t.size, k, np.int64))
            t = np.concatenate(times) * MS if times else np.zeros(0)
            i = np.concatenate(idx) if idx else np.zeros(0, np.int64)
            # a spike at time t is a step event; spikecore delivers it after the delay
            order = np.lexsort((i, t))
            g.spike_sources[self.ir_name] = _ir.SpikeSourceNode(self.ir_name, self.size, t[order], i[order])
            return
        if name == "SpikeSourcePoisson":
            start = _homogeneous(self, "start", self._parameters["start"]) * MS
            duration = _homogeneous(self, "duration", self._parameters["duration"]) * MS
            rates = np.broadcast_to(np.asarray(self._parameters["rate"], dtype=float), (self.size,)).copy()
            if (rates < 0).any():
                raise errors.InvalidParameterValueError(f"negative rate in {self.label}")
            g.poisson_sources[self.ir_name] = _ir.PoissonSourceNode(
                self.ir_name, self.size, rates, seed_for(seed, "poisson", self.ir_name), start,
                start + duration if np.isfinite(duration) else float("inf"))
            return
        mapping = self.celltype.spikecore
        self._parts = self._grouped_by_receptors()
        i_offset = np.broadcast_to(np.asarray(self._parameters.get("i_offset", 0.0), dtype=float), (self.size,))
        for part, idx in self.ir_parts():
            params, receptors = self._ir_params(idx)
            initial = {}
            for pynn_var, (var, scale) in mapping.state.items():
                if pynn_var in self.initial_values:
                    iv = self.initial_values[pynn_var]
                    vals = np.asarray(iv.evaluate(simplify=False) if hasattr(iv, "evaluate") else iv, dtype=float)
                    initial[var] = np.broadcast_to(vals, (self.size,))[idx] * scale(params)
            g.populations[part] = _ir.PopulationNode(part, idx.size, mapping.model, params, receptors, initial)
            # i_offset: a constant current from t = 0, one node per distinct amplitude
            amp = i_offset[idx] * 1e-9
            for k, a in enumerate(np.unique(amp[amp != 0])):
                nm = f"{part}_i_offset{k}"
                g.currents[nm] = _ir.CurrentInputNode(nm, part, np.flatnonzero(amp == a),
                                                      np.array([0.0]), np.array([float(a)]))
