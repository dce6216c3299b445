"""Run control on Brian2's runtime device (docs/run_control.md): parameters, weights and
injected currents changed between runs, store/restore.

A mixin of backends/brian2.py's RuntimeExecutable, which gives it ``_device()`` (the runtime
device active in a block) and ``_build(plan)`` (the Brian2 objects of a plan,
backends/brian2.py ``_Built``). What the compiled objects hold as data is written into them;
what their generated code holds is changed by a rebuild from the new network with the groups
and Synapses as they were and the whole Brian2 state carried over (``_carry_state``).
Static weights change synapse by synapse once the spikes sent before the change have
arrived (``_schedule_weights``), as the native engine's delay ring delivers them.
"""
from __future__ import annotations

import time

import numpy as np

import brian2 as b2
from brian2.core.network import _get_all_objects
from brian2.core.variables import DynamicArrayVariable
from brian2.units.fundamentalunits import DIMENSIONLESS

from spikecore import ir as _ir
from spikecore.errors import UnsupportedFeature, ValidationError
from spikecore.plasticity import rule_for

from ._brian2_lowering import NAME, SharedGroupConflict, _lower, _Plan, _population_plan, _ref_steps
from .base import check_same_structure


class RunControl:
    """The run-control methods of the runtime executable (see the module docstring)."""

    def set_parameters(self, pop: str, **params) -> None:
        ir = self._ir_with_parameters(pop, params)      # checks the names and values, as native does
        self._continue_with(ir, {pop: list(params)}, "changing parameters between runs")

    def set_weights(self, projection: str, weights) -> None:
        self._continue_with(self._ir_with_weights(projection, weights), {}, "changing weights between runs")

    def replace_network(self, ir, what: str = "replacing the network between runs") -> None:
        """Continue with ``ir``: this network with other parameters, weights or injected
        currents (the same populations, sources, synapses and delays), written into the
        compiled objects or, where their code holds the values, rebuilt with the state carried
        over; the next run continues from the present step."""
        check_same_structure(self.ir, ir)
        changed = {}
        for pop, node in ir.populations.items():
            old = self.ir.populations[pop]
            names = [k for k in node.params if not np.array_equal(old.params[k], node.params[k])]
            names += [f"{r}.{k}" for r in node.receptors for k in node.receptors[r]
                      if not np.array_equal(old.receptors[r][k], node.receptors[r][k])]
            if names:
                changed[pop] = names
        self._continue_with(ir, changed, what)

    # Parameters live in the NeuronGroups' (shared, constant) variables and per-neuron
    # variables, weights in the Synapses' weight variable or, homogeneous, in its namespace
    # (read again at each run): such changes are written there. What the generated code itself
    # holds (equations, a refractory period, a constant shared by populations merged into one
    # group, a current's table, an equation-defined model's constants) is changed by building
    # the objects again from the new network with the groups and Synapses as they were, the
    # values that now differ within a group lowered to per-neuron variables, and carrying the
    # whole Brian2 state over (_carry_state): no refusal, at the cost of a build.
    def _continue_with(self, ir, changed: dict, what: str, plastic: bool = True, weights: bool = True) -> None:
        """Make ``ir`` this executable's network from the present step on (``changed``:
        population -> the parameters named, for a refusal); ``plastic``, ``weights``: take a
        plastic projection's, a static one's changed weights too (not when restoring, which
        restores them as they were)."""
        learnt = self._plastic_weights_set(ir) if plastic else []     # checked before anything changes
        before = self.ir
        try:
            writes = self._in_place_writes(ir, weights)
        except _Baked:
            self._rebuild(ir, changed, what, weights)
        else:
            self._write(writes)
            self.ir = ir
        if weights:
            self._schedule_weights(before, ir)
        for name, w in learnt:
            self.built.plastic[name].variables["w"].get_value()[:] = w

    def _in_place_writes(self, ir, weights: bool = True) -> list:
        """The writes that give the compiled objects the parameters of ``ir`` (its static
        weights are scheduled: _schedule_weights); _Baked if the generated code holds one."""
        for name, c in ir.currents.items():
            old = self.ir.currents.get(name)
            if old is None or old.target != c.target or any(
                    not np.array_equal(getattr(old, f), getattr(c, f)) for f in ("neurons", "times", "amplitudes")):
                raise _Baked("an injected current's table is compiled in")
        if set(ir.currents) != set(self.ir.currents):
            raise _Baked("an injected current's table is compiled in")
        writes = []
        for pop, node in ir.populations.items():
            if node is not self.ir.populations[pop]:
                writes += self._plan_writes(pop, node, ir.populations)
        for name, e in ir.projections.items():
            old = self.ir.projections[name]
            if weights and e.plasticity is None and e is not old and not np.array_equal(e.weight, old.weight):
                self._check_weight_form(name, np.asarray(e.weight, dtype=float))
        return writes

    def _plan_writes(self, pop: str, node, others: dict | None = None) -> list:
        dt = self.ir.dt
        gname = self.plan.where[pop]
        group = self.plan.pops[gname]
        if group.defined:
            raise _Baked("an equation-defined model's constants are compiled into its code")
        old, new = _population_plan(self.ir.populations[pop], dt), _population_plan(node, dt)
        for attr in ("dv_template", "ode_lines", "current_term", "method", "clamp_v", "threshold", "reset",
                     "delta_gate"):
            if getattr(old, attr) != getattr(new, attr):
                raise _Baked("it is part of the generated equations")
        first, size = group.offsets[pop], group.sizes[pop]
        G = self.built.groups[gname]
        writes = []
        values = {**new.constants, **new.params}
        before = {**old.constants, **old.params}
        if "t_ref_grid" in group.params:        # refractory periods per neuron (a rebuild lowered them)
            values["t_ref_grid"] = np.broadcast_to(_ref_steps(node, dt) * dt, (size,))
            before["t_ref_grid"] = np.broadcast_to(_ref_steps(self.ir.populations[pop], dt) * dt, (size,))
            writes += _refractory_end_kept(G, slice(first, first + size), before["t_ref_grid"], values["t_ref_grid"])
        elif isinstance(old.refractory, str) != isinstance(new.refractory, str) or (
                not isinstance(old.refractory, str) and float(old.refractory or 0) != float(new.refractory or 0)):
            raise _Baked("the refractory period is compiled into the group")
        for var, value in values.items():
            value = np.asarray(value, dtype=float)
            if var in before and np.array_equal(np.asarray(before[var], dtype=float), value):
                continue
            if var in group.params:
                writes.append((G.variables[var].get_value(), slice(first, first + size), value))
            elif var in group.constants:
                others = self.ir.populations if others is None else others
                mates = [p for p in group.sizes if p != pop]
                if any(not np.array_equal(np.asarray(_population_plan(others[p], dt).constants.get(var), dtype=float),
                                          value) for p in mates):
                    raise _Baked(f"one value shared with {', '.join(mates)} in one Brian2 group")
                if value.ndim and not (value == value.flat[0]).all():
                    raise _Baked("the group holds one value for all neurons")
                writes.append((G.variables[var].get_value(), slice(None), float(value.flat[0])))
            else:
                raise _Baked("it is part of the generated equations")
        return writes

    def _synapses_of(self, projection: str):
        """(its Synapses plan, offset of its first synapse there, the Brian2 objects: one per
        generator layer), or None for a Poisson source drawn in its targets' update."""
        sp = next((sp for sp in self.plan.syns if projection in sp.projections), None)
        if sp is None:
            return None
        offset = sum(self.ir.projections[n].n_synapses for n in sp.projections[:sp.projections.index(projection)])
        objects = [o for o in self.built.objects if isinstance(o, b2.Synapses)
                   and (o.name == sp.name or o.name.startswith(sp.name + "_L"))]
        return sp, offset, objects

    def _check_weight_form(self, projection: str, w: np.ndarray) -> None:
        """_Baked unless the objects can take ``w`` for ``projection`` in place: a weight per
        synapse, or one constant of its own Synapses with one delay and a new single value."""
        if self.ir.projections[projection].n_synapses == 0:
            return
        found = self._synapses_of(projection)
        if found is None:
            raise _Baked("its Poisson input is drawn with the weights compiled in (poisson=draw)")
        sp = found[0]
        if sp.weight is None and (len(sp.projections) > 1 or not (w == w[0]).all() or np.ndim(sp.delay) != 0):
            raise _Baked("its synapses hold one weight compiled as a constant")

    def _write_weights(self, projection: str, index, values) -> None:
        """Static weights of ``projection``'s synapses ``index`` (IR order) into its Synapses."""
        found = self._synapses_of(projection)
        if found is None:
            return
        sp, offset, objects = found
        values = np.asarray(values, dtype=float)
        if sp.weight is not None:
            for S in objects:
                S.variables[sp.weight_var].get_value()[offset + np.arange(self._applied[projection].size)[index]] = values
        elif values.size:
            dim = getattr(sp.namespace[sp.weight_var], "dim", DIMENSIONLESS)
            for S in objects:
                S.namespace[sp.weight_var] = b2.Quantity(float(values.flat[0]), dim=dim)
        self._applied[projection][index] = values

    def _schedule_weights(self, before, ir) -> None:
        """The static weights ``ir`` changes take effect synapse by synapse when the spikes
        sent before now have arrived (now + its delay), as in the native engine, whose delay
        ring holds the weight a spike was sent with (Brian2 reads w when it delivers); a
        Poisson input drawn in its targets' update takes them now."""
        dt = ir.dt
        for name, e in ir.projections.items():
            old = before.projections[name]
            if e.plasticity is not None or e.n_synapses == 0 or e is old or np.array_equal(e.weight, old.weight):
                continue
            w = np.asarray(e.weight, dtype=float)
            if self._synapses_of(name) is None:
                self._applied[name] = w.copy()
                continue
            d = np.broadcast_to(_ir.delay_steps(np.asarray(e.delay, dtype=float), dt), w.shape)
            for steps in np.unique(d):
                idx = np.flatnonzero(d == steps)
                self._deferred.append((self.step + int(steps), name, idx, w[idx]))

    def _apply_deferred(self, step: int) -> None:
        """The scheduled weight writes due at ``step`` (before it runs), in the order set."""
        due = [x for x in self._deferred if x[0] <= step]
        self._deferred = [x for x in self._deferred if x[0] > step]
        for _, name, idx, values in due:
            self._write_weights(name, idx, values)

    def _plastic_weights_set(self, ir) -> list:
        """(projection, weights) of the plastic projections whose weights ``ir`` changes, checked:
        written into their Synapses' w (Brian2 updates a synapse at each of its events, reading w
        when a spike arrives, as the native engine does: nothing to settle, nothing to wait for)."""
        writes = []
        for name, e in ir.projections.items():
            old = self.ir.projections[name]
            if e.plasticity is None or e is old or np.array_equal(e.weight, old.weight) or e.n_synapses == 0:
                continue
            rule = rule_for(e.plasticity, "brian2", f"projection {name}", NAME)
            if hasattr(rule, "weight_now"):
                raise UnsupportedFeature(NAME, f"setting the weights of {name} ({rule.name}: its weights move "
                                         "between events with its eligibility trace)",
                                         "pair-based rules; or change the description and compile again")
            w = np.asarray(e.weight, dtype=float)
            if rule.check_weights(e.plasticity, w, f"weights of {name}") != rule.check_weights(
                    e.plasticity, old.weight, f"projections.{name}") and w.any():
                raise ValidationError(f"weights of {name}", f"[{w.min()!r} .. {w.max()!r}]",
                                      "weights of the sign the projection was compiled with (its bounds apply to |w|)")
            writes.append((name, w))
        return writes

    @staticmethod
    def _write(writes: list) -> None:
        """Apply (array or namespace, index, value) writes, all checked before the first."""
        for target, index, value in writes:
            target[index] = value

    def _rebuild(self, ir, changed: dict, what: str, weights: bool = True) -> None:
        """Build the Brian2 objects of ``ir`` again, grouped as now, and carry the state
        (variables, spike queues, monitors, clock, snapshots) over into them; the static
        weights they hold stay those of now (_schedule_weights changes them)."""
        per_synapse = {n for sp in self.plan.syns if sp.weight is not None and not sp.plastic for n in sp.projections}
        per_synapse |= {n for n, e in ir.projections.items() if weights and e.plasticity is None
                        and not np.array_equal(e.weight, self.ir.projections[n].weight)}
        try:
            plan = _lower(ir, self.options["poisson"], like=self.plan, per_synapse=frozenset(per_synapse))
        except SharedGroupConflict as conflict:
            names = [f"{p}.{k}" for p, ks in changed.items() if p in conflict.pops for k in ks]
            raise UnsupportedFeature(NAME, f"{what}: {', '.join(names) or 'this change'} would give "
                                     f"{', '.join(conflict.pops)} different equations in the one Brian2 group "
                                     "they share", "the same change for all of them; the native backend; or "
                                     "change the description and compile again") from None
        old = self.built
        t0 = time.perf_counter()
        with self._device() as dev:
            saved_rng = dev.get_random_state()
            try:
                built = self._build(plan)
                for src in plan.sources.values():      # a replayed source's layers, as many as now
                    while src.mode == "replay" and len(built.layers[src.name]) < len(old.layers[src.name]):
                        built._add_layer(src, np.zeros(0, np.int64), np.zeros(0, np.int64))
                _carry_state(old, built, plan)
            finally:
                dev.set_random_state(saved_rng)
        built._spikes_seen, built._samples_seen = dict(old._spikes_seen), dict(old._samples_seen)
        built._weight_samples_seen = dict(old._weight_samples_seen)
        dt, writes = ir.dt, []
        for pop, node in ir.populations.items():
            if plan.pops[plan.where[pop]].defined:
                continue
            group, first = plan.pops[plan.where[pop]], plan.pops[plan.where[pop]].offsets[pop]
            writes += _refractory_end_kept(built.groups[group.name], slice(first, first + node.size),
                                           _ref_steps(self.ir.populations[pop], dt) * dt, _ref_steps(node, dt) * dt)
        self._write(writes)
        self.built, self.plan, self.ir = built, plan, ir
        for name, w in self._applied.items():
            self._write_weights(name, slice(None), w.copy())
        self.build_s += time.perf_counter() - t0

    def store(self, name: str = "default") -> None:
        with self._device():
            self.built.network.store(f"spikecore_{name}")
        self._snapshots = getattr(self, "_snapshots", {})
        self._snapshots[name] = (self.step, self._rng_state, dict(self.built._spikes_seen),
                                 dict(self.built._samples_seen), self.ir,
                                 {k: w.copy() for k, w in self._applied.items()}, list(self._deferred))

    def restore(self, name: str = "default") -> None:
        snaps = getattr(self, "_snapshots", {})
        if name not in snaps:
            raise ValidationError("restore", name, "the name of a stored snapshot: " + (", ".join(snaps) or "none stored"))
        with self._device():
            self.built.network.restore(f"spikecore_{name}")
        self.step, self._rng_state, seen, samples, ir, applied, deferred = snaps[name]
        self.built._spikes_seen, self.built._samples_seen = dict(seen), dict(samples)
        # parameters as they were when stored; the weights the objects held then and the writes
        # then waiting (a plastic projection's weights: restored above)
        self._continue_with(ir, {}, "restoring a snapshot", plastic=False, weights=False)
        for k, w in applied.items():
            if not np.array_equal(w, self._applied[k]):
                self._write_weights(k, slice(None), w.copy())
        self._deferred = list(deferred)


def _refractory_end_kept(G, part: slice, before, after) -> list:
    """Writes that keep the end of each neuron's present refractory period where it was when
    its refractory period changes from ``before`` to ``after`` (s): the native engine fixes
    that end at the spike (its free_at), Brian2 compares t - lastspike with the period now,
    so lastspike moves by before - after (brian2/groups/neurongroup.py, refractoriness)."""
    shift = np.asarray(before, dtype=float) - np.asarray(after, dtype=float)
    if not shift.any() or "lastspike" not in G.variables:
        return []
    last = G.variables["lastspike"].get_value()
    return [(last, part, last[part] + shift)]


def _carry_state(old, new, plan: _Plan) -> None:
    """Give the objects of ``new`` (a backends/brian2.py ``_Built`` from ``plan``, with the
    names of ``old``'s) the state
    of ``old``'s, by Brian2's own store/restore (brian2/core/network.py, ``Network._full_state``;
    a Synapses pathway's spike queue included), leaving out the values ``plan`` sets:
    parameters and static weights. ``old``'s snapshots are carried over likewise."""
    skip = {p.name: set(p.params) | (set() if p.defined else set(p.constants)) for p in plan.pops.values()}
    plastic = {id(S) for S in new.plastic.values()}
    for obj in new.network.objects:
        if isinstance(obj, b2.Synapses) and id(obj) not in plastic:
            skip[obj.name] = {"w", "w_syn", "delay"}
    objects = {o.name: o for o in _get_all_objects(new.network.objects)}
    # a monitor sampling every few steps has a clock of its own, named afresh by Brian2
    renamed = {o.clock.name: objects[o.name].clock.name for o in _get_all_objects(old.network.objects)
               if o.name in objects}
    objects.update({o.clock.name: o.clock for o in list(objects.values())})

    def carried(state: dict) -> dict:
        out = {}
        for name, entry in state.items():
            if not isinstance(entry, dict):
                out[name] = entry               # the time, the random state
                continue
            name = renamed.get(name, name)
            obj = objects.get(name)
            if obj is None:
                continue
            keep = {}
            for var, value in entry.items():
                if var not in obj.variables:
                    if var in ("_spikequeue", "_previous_dt", "_spikes_changed"):
                        keep[var] = value
                    continue
                v = obj.variables[var]
                if var not in skip.get(name, ()) and (isinstance(v, DynamicArrayVariable) or v.size == value[1]):
                    keep[var] = value
            out[name] = keep
        return out

    for clock in {o.clock for o in _get_all_objects(old.network.objects)}:
        clock._set_t_update_dt(target_t=old.network.t)
    new.network._stored_state = {k: carried(v) for k, v in old.network._stored_state.items()}
    new.network._stored_state["spikecore_carry"] = carried(old.network._full_state())
    new.network.restore("spikecore_carry")
    del new.network._stored_state["spikecore_carry"]


class _Baked(Exception):
    """A parameter change the compiled Brian2 objects cannot take (``reason`` says why)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
