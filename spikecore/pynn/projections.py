"""PyNN's Projection on spikecore: PyNN's connectors draw the connections (with PyNN's
own random number generators) and hand them over neuron by neuron; they are kept here as
arrays of global cell ids, weights and delays (PyNN units), and become IR projections,
one per pair of (pre, post) populations, when the network is built."""
from __future__ import annotations

import numpy as np
from pyNN import common, errors
from pyNN.space import Space

from .. import ir as _ir
from . import simulator
from .simulator import MS, state
from .standardmodels import SYNAPSE_TYPES, StaticSynapse, plasticity_of


class Connection(common.Connection):
    """One connection of a Projection (PyNN's ``Projection.connections``): a view of its arrays."""

    def __init__(self, projection, k):
        self.projection, self.k = projection, k

    presynaptic_index = property(lambda self: int(self.projection._values("presynaptic_index")[self.k]))
    postsynaptic_index = property(lambda self: int(self.projection._values("postsynaptic_index")[self.k]))

    def _get_weight(self):
        return float(self.projection._ids()[2][self.k])

    def _set_weight(self, w):
        self.projection._ids()[2][self.k] = w
        state.changed = True

    def _get_delay(self):
        return float(self.projection._ids()[3][self.k])

    def _set_delay(self, d):
        if state.ir is not None:
            raise NotImplementedError("changing delays of existing connections after run() on spikecore")
        self.projection._ids()[3][self.k] = d

    weight = property(_get_weight, _set_weight)
    delay = property(_get_delay, _set_delay)

    def as_tuple(self, *attribute_names):
        return tuple(getattr(self, name) for name in attribute_names)


class Projection(common.Projection):
    __doc__ = common.Projection.__doc__
    _simulator = simulator
    _static_synapse_class = StaticSynapse

    @property
    def connections(self):
        return [Connection(self, k) for k in range(len(self))]

    def __init__(self, presynaptic_population, postsynaptic_population, connector, synapse_type=None,
                 source=None, receptor_type=None, space=Space(), label=None):
        if state.ir is not None:
            raise NotImplementedError("creating a projection after run() on spikecore (call reset() first)")
        common.Projection.__init__(self, presynaptic_population, postsynaptic_population, connector,
                                   synapse_type, source, receptor_type, space, label)
        if type(self.synapse_type).__name__ not in SYNAPSE_TYPES:
            raise NotImplementedError(f"the synapse type {type(self.synapse_type).__name__} on spikecore")
        for pop in _populations(self.post):
            mapping = pop.celltype.spikecore
            if mapping is None:
                raise errors.ConnectionError(f"{pop.label} is a spike source: it cannot receive synapses")
            if self.receptor_type not in mapping.receptors:
                raise errors.ConnectionError(f"receptor type {self.receptor_type!r} of {pop.label}: one of "
                                             + ", ".join(mapping.receptors))
        self._pre_ids, self._post_ids, self._weights, self._delays = [], [], [], []
        self._rule = {}         # the synapse type's other parameters, per connection (name -> arrays)
        self._arrays = None
        self._ir_parts = []     # (IR projection, its connections here, SI per PyNN weight unit)
        self.ir_name = f"prj{len(state.projections)}"
        connector.connect(self)
        state.projections.append(self)

    def __len__(self):
        return int(self._ids()[0].size)

    # -- connections -----------------------------------------------------------------------
    def _convergent_connect(self, presynaptic_indices, postsynaptic_index, location_selector=None,
                            **connection_parameters):
        if location_selector is not None:
            raise NotImplementedError("multicompartmental models on spikecore")
        pre = np.asarray(self.pre.all_cells, dtype=np.int64)[np.asarray(presynaptic_indices, dtype=np.int64)]
        n = pre.size
        post = np.full(n, int(self.post.all_cells[postsynaptic_index]), np.int64)
        w = np.broadcast_to(np.asarray(connection_parameters.get("weight", 0.0), dtype=float), (n,))
        d = np.broadcast_to(np.asarray(connection_parameters.get("delay", state.dt), dtype=float), (n,))
        self._pre_ids.append(pre)
        self._post_ids.append(post)
        self._weights.append(np.array(w))
        self._delays.append(np.array(d))
        for name, value in connection_parameters.items():
            if name not in ("weight", "delay"):
                self._rule.setdefault(name, []).append(
                    np.array(np.broadcast_to(np.asarray(value, dtype=float), (n,))))
        self._arrays = None

    def _ids(self):
        """(pre ids, post ids, weights, delays), concatenated once."""
        if self._arrays is None:
            cat = (lambda xs, dt: np.concatenate(xs) if xs else np.zeros(0, dt))
            self._arrays = [cat(self._pre_ids, np.int64), cat(self._post_ids, np.int64),
                            cat(self._weights, float), cat(self._delays, float)]
            self._pre_ids, self._post_ids = [self._arrays[0]], [self._arrays[1]]
            self._weights, self._delays = [self._arrays[2]], [self._arrays[3]]
            self._rule = {k: [np.concatenate(v)] for k, v in self._rule.items()}
        return self._arrays

    def _rule_values(self) -> dict:
        """The synapse type's parameters other than weight and delay, one array each (PyNN units)."""
        self._ids()
        return {k: v[0] for k, v in self._rule.items()}

    def _set_attributes(self, parameter_space):
        parameter_space.evaluate()
        pre, post, w, d = self._ids()
        i = self.pre.id_to_index(pre) if pre.size else pre
        j = self.post.id_to_index(post) if post.size else post
        for name, value in parameter_space.items():
            if name == "delay":
                if state.ir is not None:
                    raise NotImplementedError("changing delays of existing connections after run() on spikecore "
                                              "(call reset() first)")
                d[:] = value[i, j]
            elif name == "weight":
                w[:] = value[i, j]
            elif name in self._rule_values():
                if state.ir is not None:
                    raise NotImplementedError(f"changing {name} of existing connections after run() on "
                                              "spikecore (call reset() first)")
                self._rule_values()[name][:] = value[i, j]
            else:
                raise errors.NonExistentParameterError(name, type(self.synapse_type).__name__,
                                                       ["weight", "delay", *self._rule_values()])
        state.changed = True

    def _values(self, name):
        pre, post, w, d = self._ids()
        if name == "presynaptic_index":
            return self.pre.id_to_index(pre) if pre.size else pre
        if name == "postsynaptic_index":
            return self.post.id_to_index(post) if post.size else post
        if name == "weight":
            return self._learnt(w)
        if name == "delay":
            return d
        if name in self._rule_values():
            return self._rule_values()[name]
        raise errors.NonExistentParameterError(name, type(self.synapse_type).__name__,
                                               ["weight", "delay", *self._rule_values()])

    def _learnt(self, w):
        """The weights now: a plastic projection's as the compiled network has learnt them
        (run control), a static one's as set."""
        if SYNAPSE_TYPES[type(self.synapse_type).__name__] == "static" or state.exe is None:
            return w
        now = w.copy()
        for name, sel, scale in self._ir_parts:
            if name in state.ir.projections:
                now[sel] = state.exe.weights(name) / scale
        return now

    def _get_attributes_as_list(self, names):
        cols = [np.asarray(self._values(n)) for n in names]
        return list(zip(*[c.tolist() for c in cols]))

    def _get_attributes_as_arrays(self, names, multiple_synapses="sum"):
        i, j = self._values("presynaptic_index"), self._values("postsynaptic_index")
        ops = {"sum": (np.add.at, 0.0), "min": (np.minimum.at, np.inf), "max": (np.maximum.at, -np.inf)}
        if multiple_synapses not in ops:
            raise NotImplementedError(f"multiple_synapses={multiple_synapses!r} on spikecore")
        op, start = ops[multiple_synapses]
        out = []
        for name in names:
            arr = np.full((self.pre.size, self.post.size), start)
            op(arr, (i, j), self._values(name))
            empty = np.ones(arr.shape, bool)
            empty[i, j] = False
            arr[empty] = np.nan
            out.append(arr)
        return out

    # -- the IR ----------------------------------------------------------------------------
    def _add_to_ir(self, g):
        pre, post, w, d = self._ids()
        dt = state.dt
        if d.size and (d < dt - 1e-9).any():
            raise errors.ConnectionError(f"delays shorter than the time step ({dt} ms) in {self.label}")
        steps = np.maximum(np.rint(d / dt), 1)
        self._ir_parts = []
        # one IR projection per (pre, post) IR population: PyNN populations, and the parts of
        # a population whose receptor parameters differ (Population.ir_parts)
        for ppop, pi, psel in state.population_of(pre) if pre.size else []:
            for pname, _, pk, pl in ppop.ir_split(pi):
                from_here = np.flatnonzero(psel)[pk]
                for qpop, qj, qsel in state.population_of(post[from_here]):
                    for qname, q_idx, qk, ql in qpop.ir_split(qj):
                        sel = from_here[qsel][qk]
                        self._add_edge(g, f"{self.ir_name}_{pname}_{qname}", pname, qname, qpop, q_idx,
                                       pl[qsel][qk], ql, sel, w, steps)

    def _add_edge(self, g, name, pre_name, post_name, qpop, q_idx, i, j, sel, w, steps):
        """The IR projection of connections ``sel`` (IR indices i -> j) onto the IR population
        ``post_name`` of ``qpop``, which holds its neurons ``q_idx``."""
        mapping = qpop.celltype.spikecore
        params, _ = qpop._ir_params(q_idx)
        # SI per PyNN weight unit of each synapse's target (IF_curr_exp's membrane
        # resistance tau_m / cm: per neuron where tau_m or cm is)
        scale = mapping.weight(params)
        scale = scale[j] if np.ndim(scale) else scale
        weight = w[sel] * scale
        if qpop.conductance_based and (weight < 0).any():
            raise errors.ConnectionError(f"negative conductance weights in {self.label}")
        receptor = mapping.receptors[self.receptor_type]
        g.projections[name] = _ir.ProjectionEdge(name, pre_name, post_name, receptor, _model(mapping).synapse,
                                                 i.astype(np.int64), j.astype(np.int64),
                                                 weight, steps[sel] * state.dt * MS,
                                                 plasticity=self._plasticity(scale, _model(mapping), sel))
        self._ir_parts.append((name, sel, scale))

    def _plasticity(self, scale, model, sel):
        """The IR's plasticity mapping (SI, checked by the rule) for this projection's
        synapse type and its connections ``sel``."""
        from ..errors import SpikecoreError
        from ..plasticity import get_rule
        kind = type(self.synapse_type).__name__
        if SYNAPSE_TYPES[kind] == "static" or len(sel) == 0:
            return None          # static, or no synapses (nothing to learn)
        values = {}
        for name, arr in self._rule_values().items():
            part = arr[sel]
            if not (part == part[0]).all():
                raise NotImplementedError(f"{kind} with a different {name} per connection on spikecore "
                                          "(its rules take one value per projection)")
            values[name] = float(part[0])
        if np.ndim(scale):
            if not (scale == scale[0]).all():
                raise NotImplementedError(f"{kind} onto neurons of different weight scales on spikecore "
                                          "(IF_curr_exp with per-neuron tau_m or cm: its rules take one "
                                          "w_min and w_max per projection)")
            scale = float(scale[0])
        spec = plasticity_of(self.synapse_type, values, scale)
        if spec is None:
            return None
        from ..plasticity.base import CHOICE
        from ..units import Quantity
        rule, weight_dim = get_rule(spec["rule"]), model.weight_dims[0]
        # SI floats -> quantities of the dimension the rule expects (it checks units)
        spec = {k: (v if k == "rule" or rule.params[k].dim == CHOICE
                    else Quantity(v, rule.dim_of(k, rule.params[k], spec, weight_dim)))
                for k, v in spec.items()}
        try:
            return rule.check(spec, weight_dim, f"projection {self.label}")
        except SpikecoreError as exc:
            raise errors.InvalidParameterValueError(str(exc)) from None


def _populations(p):
    """The populations a Population, PopulationView or Assembly consists of."""
    if isinstance(p, common.Assembly):
        return [q for part in p.populations for q in _populations(part)]
    return [p.grandparent if hasattr(p, "grandparent") else p]


def _model(mapping):
    from ..models import get_model
    return get_model(mapping.model)
