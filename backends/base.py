"""The backend contract: ``compile(ir, **options) -> Executable``, ``Executable.run(duration) -> Result``.

Run control (docs/run_control.md): an Executable continues in time from run to run;
between runs ``state()``/``get``/``set`` read and write state variables,
``set_parameters``/``set_weights`` change parameters and weights, ``store``/``restore``
take and go back to snapshots, and ``run(d, every=..., callback=...)`` calls back
every ``every`` seconds. A backend implements ``_run`` and what of run control it
can; the rest raises UnsupportedFeature naming it.

A backend refuses what it cannot express with ``UnsupportedFeature`` naming the
feature; it never silently approximates. Opt-in approximations are listed in
the Result (``Result.approximations``). Options are validated here, once, so a
misspelt option is an error that names it rather than a silently ignored value.
"""
from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import numpy as np

from spikecore import ir as _ir
from spikecore import units as u
from spikecore.errors import UnsupportedFeature, ValidationError, nearest
from spikecore.ir import IRGraph
from spikecore.result import Result


class Executable(ABC):
    """A compiled network, ready to run; it continues in time from run to run."""

    backend: str
    build_s: float = 0.0
    ir: IRGraph
    step: int = 0
    #: what a refusal of run control suggests instead (UnsupportedFeature's "expected")
    run_control_instead: str = "the native backend"

    @abstractmethod
    def _run(self, duration: float, progress: bool = False) -> Result:
        """Simulate ``duration`` seconds from the current state."""

    def run(self, duration: float, progress: bool = False, every=None, callback=None) -> Result:
        """Simulate ``duration`` seconds from the current state. With ``every`` (a time) and
        ``callback`` (a function of this Executable), stop every ``every`` seconds (and at the
        end) and call ``callback(self)``, which may read and set values (``get``, ``set``, ...)
        and read the spikes of the piece just run (``self.last_result``); the Result covers the
        whole duration. No Python runs between the stops."""
        if every is None and callback is None:
            return self._run(duration, progress)
        if every is None or not callable(callback):
            raise ValidationError("every/callback", (every, callback), "both: an interval and a callable")
        dt = self.ir.dt
        every_s = _seconds(every, "every")
        k = _ir.duration_steps(every_s, dt)
        if k < 1:
            raise ValidationError("every", every, f"at least one step ({dt!r} s)")
        total = _ir.duration_steps(_seconds(duration, "duration"), dt)
        parts, done = [], 0
        while done < total:
            m = min(k, total - done)
            parts.append(self._run(m * dt, progress))
            done += m
            self.last_result = parts[-1]
            callback(self)
            if len(parts) > 1:      # only the last piece's final weights are the run's: free the others
                for w in (parts[-2].weights or {}).values():
                    w.pop("final", None)
        if not parts:
            return self._run(0.0, progress)
        return Result.joined(parts)

    # -- run control ----------------------------------------------------------------------
    @property
    def time(self) -> float:
        """Simulated time so far (s)."""
        return self.step * self.ir.dt

    def state(self) -> dict:
        """Per population its state variables now ({var: array}, copies)."""
        raise UnsupportedFeature(self.backend, "reading state variables between runs", self.run_control_instead)

    def get(self, pop: str, var: str) -> np.ndarray:
        """State variable ``var`` of population ``pop`` now (a copy)."""
        st = self.state()
        if pop not in st:
            raise ValidationError("population", pop, "one of " + ", ".join(st))
        if var not in st[pop]:
            raise ValidationError(f"{pop}.{var}", var, "a state variable: " + ", ".join(st[pop]))
        return st[pop][var]

    def set(self, pop: str, var: str, values) -> None:
        """Overwrite state variable ``var`` of ``pop`` (a scalar or one value per neuron, SI)."""
        raise UnsupportedFeature(self.backend, "setting state variables between runs", self.run_control_instead)

    def set_parameters(self, pop: str, **params) -> None:
        """Change parameters of population ``pop`` (SI values) from the next run on."""
        raise UnsupportedFeature(self.backend, "changing parameters between runs", self.run_control_instead)

    def weights(self, projection: str) -> np.ndarray:
        """The weights of ``projection`` now, one per synapse in the IR's (i, j) order (SI)."""
        return self._edge(projection).weight.copy()

    def set_weights(self, projection: str, weights) -> None:
        """Change the weights of ``projection`` (a scalar or one per synapse, SI) from the next run on."""
        raise UnsupportedFeature(self.backend, "changing weights between runs", self.run_control_instead)

    def modulate(self, projection: str, count: int = 1) -> None:
        """``count`` neuromodulator spikes arrive now at every synapse of ``projection`` (a
        three_factor projection with a modulator population), as its modulator's spikes do."""
        raise UnsupportedFeature(self.backend, "delivering neuromodulator spikes between runs", self.run_control_instead)

    def store(self, name: str = "default") -> None:
        """Take a snapshot of everything a run changes, under ``name``."""
        raise UnsupportedFeature(self.backend, "store/restore", self.run_control_instead)

    def restore(self, name: str = "default") -> None:
        """Go back to the snapshot ``name``: the next run continues from there bit for bit."""
        raise UnsupportedFeature(self.backend, "store/restore", self.run_control_instead)

    # helpers for backends
    def _edge(self, projection: str):
        if projection not in self.ir.projections:
            raise ValidationError("projection", projection, "one of " + ", ".join(self.ir.projections))
        return self.ir.projections[projection]

    def _ir_with_parameters(self, pop: str, params: dict) -> IRGraph:
        """A copy of the IR whose population ``pop`` has ``params`` (checked names, SI floats)."""
        if pop not in self.ir.populations:
            raise ValidationError("population", pop, "one of " + ", ".join(self.ir.populations))
        node = self.ir.populations[pop]
        new = dict(node.params)
        receptors = {r: dict(v) for r, v in node.receptors.items()}
        for key, value in params.items():
            if "." in key:      # "exc.tau_syn": a receptor's parameter
                rname, pname = key.split(".", 1)
                if rname not in receptors or pname not in receptors[rname]:
                    raise ValidationError(f"{pop}.{key}", value, "a receptor parameter: " +
                                          ", ".join(f"{r}.{k}" for r in receptors for k in receptors[r]))
                receptors[rname][pname] = _finite(f"{pop}.{key}", value)
            elif key not in new:
                raise ValidationError(f"{pop}.{key}", value, "a parameter of model " + node.model + ": " +
                                      ", ".join(new))
            else:
                new[key] = _finite(f"{pop}.{key}", value)
        g = copy.copy(self.ir)
        g.populations = dict(self.ir.populations)
        g.populations[pop] = copy.copy(node)
        g.populations[pop].params = new
        g.populations[pop].receptors = receptors
        return g

    def _ir_with_weights(self, projection: str, weights) -> IRGraph:
        e = self._edge(projection)
        w = np.asarray(weights, dtype=float)
        if w.ndim > 1 or (w.ndim == 1 and w.size != e.weight.size):
            raise ValidationError(f"projections.{projection}.weight", f"{w.size} values",
                                  f"a scalar or {e.weight.size} values (one per synapse)")
        if not np.isfinite(w).all():
            raise ValidationError(f"projections.{projection}.weight", weights, "finite values")
        if e.synapse == "conductance" and (w < 0).any():
            raise ValidationError(f"projections.{projection}.weight", float(w.min()), "conductance weights >= 0 S")
        g = copy.copy(self.ir)
        g.projections = dict(self.ir.projections)
        g.projections[projection] = copy.copy(e)
        g.projections[projection].weight = np.broadcast_to(w, e.weight.shape).astype(float)
        return g


def check_same_structure(old: IRGraph, new: IRGraph) -> None:
    """ValidationError unless ``new`` has the populations, sources, synapses and delays of ``old``."""
    def shape(g):
        return ([(p.name, p.size, p.model, tuple(p.receptors)) for p in g.populations.values()],
                [(s.name, s.size) for s in (*g.spike_sources.values(), *g.poisson_sources.values())],
                [(e.name, e.pre, e.post, e.receptor) for e in g.projections.values()],
                sorted(g.spike_monitors), sorted(g.state_monitors), g.dt)
    if shape(old) != shape(new) or any(
            not (np.array_equal(e.i, f.i) and np.array_equal(e.j, f.j) and np.array_equal(e.delay, f.delay))
            for e, f in zip(old.projections.values(), new.projections.values())):
        raise ValidationError("network", new.name, "the compiled network's populations, sources, synapses, "
                              "delays and monitors (only parameters, weights and currents change between runs)")


def _seconds(value, field_name: str) -> float:
    """A time as Executable.run takes it: seconds (a number) or a quantity ('10 ms')."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    return u.to_si(value, u.TIME, field_name)


def _finite(field_name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValidationError(field_name, value, "a number (SI units)") from None
    if not np.isfinite(x):
        raise ValidationError(field_name, value, "a finite number")
    return x


class Backend(ABC):
    name: str = ""
    #: option name -> (allowed values or None for any, default)
    options: dict = {}

    def check_options(self, options: dict) -> dict:
        out = {}
        for key, value in options.items():
            if key not in self.options:
                known = ", ".join(self.options) or "none"
                raise ValidationError(f"option '{key}'", value,
                                      f"an option of backend '{self.name}' ({known}){nearest(key, self.options)}")
            allowed = self.options[key][0]
            if allowed is not None and value not in allowed:
                raise ValidationError(f"option '{key}'", value, "one of " + ", ".join(map(str, allowed)))
            out[key] = value
        for key, (_, default) in self.options.items():
            out.setdefault(key, default)
        return out

    @abstractmethod
    def compile(self, ir: IRGraph, **options) -> Executable:
        """Compile ``ir``; raise UnsupportedFeature for anything this backend cannot express."""
