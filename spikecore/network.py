"""The description layer: what a user writes to describe a network.

``Network`` holds populations, sources, current inputs, projections and
monitors. Values carry units (spikecore.units) and are checked here, once;
``Network.to_ir()`` realises everything random from the network seed —
connectivity, weight and delay draws, initial states, Poisson seeds — and
returns a spikecore.ir.IRGraph of SI arrays. Backends only ever see that IR.

Random streams: each element draws from its own stream, derived from the
network seed and the element's kind and name, so adding or renaming one
population never changes another's synapses.

Length (over 800 lines): the description classes and the realisation of each of
them into the IR are kept together, so that one element's checks, draws and
lowering read in one place; the value checks live in spikecore/checks.py, the
connectors in spikecore/connectors.py, the distributions in spikecore/distributions.py.

Distributions (``Uniform``, ``Normal``, truncation by redrawing) live in
spikecore.distributions, connectors in spikecore.connectors; serialisation to
YAML/JSON in spikecore.io (``Network.save``/``load``).

Value checks (names, sizes, parameters, delays, times, weight dimensions) are
spikecore.checks.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from . import ir as _ir
from . import plasticity
from . import units as u
from .distributions import (DISTRIBUTIONS, Normal, TargetPositions, TargetValueStream, Uniform, ValueStream,
                            _is_distribution,  # noqa: F401 (re-exported)
                            _normal_params, _uniform_bounds, _values)
from .connectors import (CHUNK_SYNAPSES, CONNECTORS, AllToAll, FixedIndegree, FixedProbability,  # noqa: F401
                         FixedTotalNumber, FromIndices, FromSparse, OneToOne, _index_array, with_target_streams)
from .checks import (_check_at_most_max_steps, _check_countable_times, _check_name, _check_param,
                     _check_param_array, _check_size, _check_weight_dim, _drawn_delays, _is_array, _weight_dim,
                     check_delays)   # (check_delays: also imported from here by backends and hwmodels)
from .errors import ValidationError, nearest, refuse_unknown_keywords
from .models import MODELS, REQUIRED, describable_models, get_model
from .models import equations as equation_models
from .models import loihi_lif

DEFAULT_DT = 1e-4      # s
DEFAULT_DURATION = 1.0  # s
TIMINGS = ("grid", "precise")   # grid: delays are multiples of dt; precise: any delay >= dt
# A projection's weights as drawn (float64), or rounded to float32 values, which every
# backend then sees and the grid engine stores in 4 bytes (docs/architecture.md, synapse storage)
WEIGHT_PRECISIONS = ("float64", "float32")
# a projection's random numbers: "projection", one stream per field in the order of the whole
# synapse list (the default); "per_target", one stream per target (an MPI rank then draws only
# its own targets' synapses and values: Projection.streams)
STREAMS = ("projection", "per_target")


# ----------------------------------------------------------------------------- elements
@refuse_unknown_keywords
@dataclass(eq=False)
class Population:
    """``size`` neurons of one ``model`` (spikecore.models) with scalar ``params``.

    Receptor parameters are dicts keyed by receptor name, e.g.
    ``tau_syn={"exc": 5*ms, "inh": 10*ms}``. ``initial`` maps state variables to a
    scalar, a per-neuron array or a distribution (default: v = v_leak, synapses 0).
    """
    size: int
    model: str
    params: dict = field(default_factory=dict)
    initial: dict = field(default_factory=dict)
    name: str | None = None

    def __post_init__(self):
        # Our own copies (one level into receptor mappings): editing them later changes
        # this population on the next to_ir/run/save, and the caller's dicts stay as given.
        self.params = _own_copy(self.params)
        self.initial = _own_copy(self.initial)
        self.validate()

    def validate(self):
        """Check the description and derive its SI values; Network.to_ir and save call it
        again, so changes made after the population was added take effect."""
        self.size = _check_size(self.size, self._field("size"))
        if equation_models.is_definition(self.model):
            # the equations' constants are its params; Brian2 checks them (spikecore/models/equations.py)
            self.spec, self.si_params = equation_models.for_population(
                self.model, self.params, f"populations.{self.name or '?'}", DEFAULT_DT)
            self.si_receptors = {t: {} for t in self.spec.default_receptors}
            self.per_neuron = {}
            self._validate_initial_keys()
            return
        try:
            self.spec = get_model(self.model, describable=True)
        except ValidationError as e:
            raise ValidationError(self._field("model"), self.model,
                                  e.expected + nearest(self.model, describable_models())) from None
        self.si_params, self.si_receptors = self._validate_params()
        self._validate_initial_keys()

    def _field(self, what):
        return f"populations.{self.name or '?'}.{what}"

    def _validate_params(self):
        spec = self.spec
        if not isinstance(self.params, dict):
            raise ValidationError(self._field("params"), self.params, "a mapping of parameter names to values")
        params = spec.expand_params(self.params, self._field("params"))
        known = list(spec.params) + list(spec.receptor_params)
        for key in params:
            if key not in known:
                raise ValidationError(self._field(f"params.{key}"), params[key],
                                      f"a parameter of {self.model}: {', '.join(known)}{nearest(key, known)}")
        self.per_neuron = {}      # name -> array or distribution, realised in to_ir
        si = {}
        for key, ps in spec.params.items():
            fld = self._field(f"params.{key}")
            if key not in params:
                if ps.default is REQUIRED:
                    raise ValidationError(fld, None, f"a value in {u.dim_name(ps.dim)} (required by {self.model})")
                si[key] = float(ps.default)
                continue
            value = params[key]
            if key in spec.per_neuron_params and (_is_distribution(value) or _is_array(value)):
                # checked now (length, range), drawn per neuron in to_ir; si holds a placeholder
                if not _is_distribution(value):
                    _check_param_array(_values(value, ps.dim, self.size, None, fld), ps, fld)
                self.per_neuron[key] = value
                si[key] = float(ps.default) if ps.default is not REQUIRED else 0.0
                continue
            if _is_distribution(value) or _is_array(value):
                raise ValidationError(fld, "per-neuron values", "a single value (per-neuron values of "
                                      + (", ".join(sorted(spec.per_neuron_params)) or "no parameter")
                                      + f" for {self.model})")
            si[key] = _check_param(value, ps, fld)
        receptors = {}
        if spec.receptor_params:
            names = None
            for key, ps in spec.receptor_params.items():
                fld = self._field(f"params.{key}")
                val = params.get(key)
                if not isinstance(val, dict) or not val:
                    raise ValidationError(fld, val, "a mapping receptor -> value, e.g. {exc: '5 ms', inh: '10 ms'}")
                if names is None:
                    names = list(val)
                for rname in val:
                    _check_name(rname, f"{fld}.{rname}")
                if set(val) != set(names):
                    raise ValidationError(fld, sorted(val), f"the same receptors as tau_syn: {sorted(names)}")
                for rname in val:
                    receptors.setdefault(rname, {})[key] = _check_param(val[rname], ps, f"{fld}.{rname}")
        else:
            receptors = {name: {} for name in spec.default_receptors}
        if not self.per_neuron:     # with per-neuron values: checked on the realised values (realise_params)
            self._check_relations(si, params)
        spec.check_receptors(receptors, self._field("params"))
        return si, receptors

    def _check_relations(self, si: dict, params: dict):
        """Checks between parameters (v_reset below v_threshold, the model's own), on scalars or
        on per-neuron arrays (every neuron must pass)."""
        if "v_reset" in si and np.any(np.asarray(si["v_reset"]) >= np.asarray(si["v_threshold"])):
            raise ValidationError(self._field("params.v_reset"), params.get("v_reset"),
                                  "a value below v_threshold (else the neuron fires every step)")
        self.spec.check_params(si, self._field("params"))

    def realise_params(self, rng_factory, redrawn: dict | None = None) -> dict:
        """The IR's parameters: SI scalars, and float64 arrays of length size for the
        per-neuron ones (distributions drawn from the network seed)."""
        out = dict(self.si_params)
        for key, value in self.per_neuron.items():
            ps, fld = self.spec.params[key], self._field(f"params.{key}")
            arr = _values(value, ps.dim, self.size, rng_factory(key), fld, redrawn)
            _check_param_array(arr, ps, fld)
            out[key] = arr
        if self.per_neuron:
            self._check_relations(out, self.params)
        return out

    def _validate_initial_keys(self):
        if not isinstance(self.initial, dict):
            raise ValidationError(self._field("initial"), self.initial, "a mapping of state variables to values")
        variables = self.state_variables()
        for key in self.initial:
            if key not in variables:
                raise ValidationError(self._field(f"initial.{key}"), self.initial[key],
                                      f"a state variable of {self.model}: {', '.join(variables)}"
                                      + nearest(key, variables))

    def state_variables(self) -> dict:
        return self.spec.state_variables(self.si_receptors)

    @property
    def receptors(self):
        return list(self.si_receptors)

    def realise_initial(self, rng_factory, params: dict | None = None, redrawn: dict | None = None) -> dict:
        """Initial state per neuron; defaults from the model, with ``params`` the realised
        (possibly per-neuron) parameters; ``redrawn`` collects truncated draws' redraw counts."""
        out = {}
        for var, dim in self.state_variables().items():
            default = self.spec.initial_value(var, self.si_params if params is None else params)
            value = self.initial.get(var, u.Quantity(default, dim))
            out[var] = _values(value, dim, self.size, rng_factory, self._field(f"initial.{var}"), redrawn)
            if self.spec.synapse == "integer" and _is_distribution(value):
                out[var] = np.rint(out[var])    # Loihi's integer state: draws round to the nearest integer
            self.spec.check_state(var, out[var], self._field(f"initial.{var}"))
        return out


def _own_copy(mapping):
    """A copy of a description mapping and of the mappings inside it (anything else as is)."""
    if not isinstance(mapping, dict):
        return mapping
    return {k: dict(v) if isinstance(v, dict) else v for k, v in mapping.items()}


@refuse_unknown_keywords
@dataclass(eq=False)
class SpikeSource:
    """Neurons that spike at given times.

    ``spike_times`` is a list with one list of times per neuron (quantities or
    strings), or pass parallel ``times`` (a time array/quantity) and ``indices``.
    """
    spike_times: list | None = None
    times: object = None
    indices: object = None
    size: int | None = None
    name: str | None = None

    def __post_init__(self):
        if isinstance(self.spike_times, (list, tuple)):
            self.spike_times = list(self.spike_times)
        self.validate()

    def validate(self):
        """Check the description and derive the sorted SI spike arrays (again at to_ir)."""
        fld = f"sources.{self.name or '?'}"
        if self.spike_times is not None:
            if self.times is not None or self.indices is not None:
                raise ValidationError(f"{fld}.times", self.times, "either spike_times or times+indices, not both")
            if not isinstance(self.spike_times, (list, tuple)):
                raise ValidationError(f"{fld}.spike_times", self.spike_times, "a list with one list of times per neuron")
            ts, idx = [], []
            for k, train in enumerate(self.spike_times):
                if isinstance(train, (str, u.Quantity)) and np.ndim(getattr(train, "value", 0)) == 0:
                    train = [train]
                if not isinstance(train, (list, tuple, np.ndarray, u.Quantity)):
                    raise ValidationError(f"{fld}.spike_times[{k}]", train, "a list of times, e.g. ['1 ms', '5 ms']")
                arr = (u.to_si(train, u.TIME, f"{fld}.spike_times[{k}]", allow_array=True)
                       if len(train) else np.zeros(0))
                arr = np.atleast_1d(np.asarray(arr, dtype=float))
                ts.append(arr)
                idx.append(np.full(arr.size, k, dtype=np.int64))
            times = np.concatenate(ts) if ts else np.zeros(0)
            indices = np.concatenate(idx) if idx else np.zeros(0, np.int64)
            n = len(self.spike_times)
        else:
            if self.times is None or self.indices is None:
                raise ValidationError(f"{fld}.times", None, "spike_times, or both times and indices")
            times = np.atleast_1d(np.asarray(u.to_si(self.times, u.TIME, f"{fld}.times", allow_array=True), float))
            indices = np.atleast_1d(np.asarray(self.indices))
            if indices.size and not np.issubdtype(indices.dtype, np.integer):
                raise ValidationError(f"{fld}.indices", self.indices, "integer neuron indices")
            indices = indices.astype(np.int64)
            if indices.size != times.size:
                raise ValidationError(f"{fld}.indices", f"array of length {indices.size}",
                                      f"the length of times ({times.size})")
            n = int(indices.max()) + 1 if indices.size else 1
        if self.size is not None:
            n = _check_size(self.size, f"{fld}.size")
        n = max(n, 1)
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise ValidationError(f"{fld}.indices", int(indices.max()), f"indices in [0, {n - 1}]")
        if times.size and (not np.isfinite(times).all() or times.min() < 0):
            raise ValidationError(f"{fld}.times", float(times.min()), "finite times >= 0 s")
        order = np.lexsort((indices, times))
        self.si_times, self.si_indices, self.n = times[order], indices[order], n


@refuse_unknown_keywords
@dataclass(eq=False)
class PoissonSource:
    """``size`` independent Poisson processes at ``rate`` (one value or one per neuron)."""
    size: int
    rate: object
    start: object = None
    stop: object = None
    name: str | None = None

    def __post_init__(self):
        self.validate()

    def validate(self):
        """Check the description and derive the SI rates and window (again at to_ir)."""
        fld = f"sources.{self.name or '?'}"
        self.size = _check_size(self.size, f"{fld}.size")
        rates = _values(self.rate, u.FREQUENCY, self.size, None, f"{fld}.rate")
        if (rates < 0).any():
            raise ValidationError(f"{fld}.rate", self.rate, "rates >= 0 Hz")
        self.si_rates = rates
        self.si_start = 0.0 if self.start is None else u.to_si(self.start, u.TIME, f"{fld}.start")
        self.si_stop = float("inf") if self.stop is None else u.to_si(self.stop, u.TIME, f"{fld}.stop")
        if self.si_start < 0:
            raise ValidationError(f"{fld}.start", self.start, "a time >= 0 s")
        if self.si_stop <= self.si_start:
            raise ValidationError(f"{fld}.stop", self.stop, "a time after start")


@refuse_unknown_keywords
@dataclass(eq=False)
class CurrentSource:
    """Current injected into ``target`` (all neurons, or ``neurons``).

    Constant: ``amplitude='200 pA'``. Piecewise constant: ``steps=[('0 ms', '0 pA'),
    ('100 ms', '200 pA'), ...]`` — each amplitude holds from its time to the next."""
    target: str
    amplitude: object = None
    steps: list | None = None
    neurons: object = None
    name: str | None = None

    def __post_init__(self):
        if isinstance(self.steps, (list, tuple)):
            self.steps = list(self.steps)
        self.validate()

    def validate(self):
        """Check the description and derive the SI step times and amplitudes (again at to_ir)."""
        fld = f"currents.{self.name or '?'}"
        if (self.amplitude is None) == (self.steps is None):
            raise ValidationError(f"{fld}.amplitude", self.amplitude, "either amplitude or steps (not both)")
        if self.amplitude is not None:
            self.si_times = np.zeros(1)
            self.si_amplitudes = np.array([u.to_si(self.amplitude, u.CURRENT, f"{fld}.amplitude")])
        else:
            if not isinstance(self.steps, (list, tuple)) or not self.steps:
                raise ValidationError(f"{fld}.steps", self.steps, "a non-empty list of [time, amplitude] pairs")
            ts, amps = [], []
            for k, step in enumerate(self.steps):
                if not isinstance(step, (list, tuple)) or len(step) != 2:
                    raise ValidationError(f"{fld}.steps[{k}]", step, "a [time, amplitude] pair")
                ts.append(u.to_si(step[0], u.TIME, f"{fld}.steps[{k}].time"))
                amps.append(u.to_si(step[1], u.CURRENT, f"{fld}.steps[{k}].amplitude"))
            ts = np.asarray(ts)
            if ts.min() < 0 or (np.diff(ts) <= 0).any():
                raise ValidationError(f"{fld}.steps", self.steps, "times >= 0 in strictly increasing order")
            self.si_times, self.si_amplitudes = ts, np.asarray(amps)
        if not np.isfinite(self.si_amplitudes).all():
            raise ValidationError(f"{fld}.amplitude", self.si_amplitudes, "finite currents")


@refuse_unknown_keywords
@dataclass(eq=False)
class Projection:
    """Synapses from ``pre`` (a population or source) to ``post`` (a population).

    ``weight`` and ``delay``: a scalar, a per-synapse array, or a distribution drawn
    from the network seed. ``receptor`` names one of post's receptors (delta-synapse
    models have none). ``synapse`` ('current' | 'conductance' | 'delta') is implied
    by post's model and, when given, must agree with it. ``weight_precision="float32"``
    rounds every weight to a float32 value (all backends see the rounded values; the
    grid engine then stores each in 4 bytes).

    Onto a ``loihi_lif`` population (Loihi's integers, docs/models.md): ``weight`` holds integer
    mantissas, ``weight_exp`` (-8..7) and ``num_weight_bits`` (1..8) are Lava's, and ``delay``
    is Loihi's synaptic delay d in steps (0..63, DelayDense's: a spike at step n reaches the
    target at n + 1 + d); the IR holds it as (d + 1) dt, Dense's own step included.

    ``streams``: where the projection's random numbers come from. "projection" (the default):
    a drawn weight or delay from one stream per field in the order of the whole synapse list.
    "per_target": each synapse's drawn weight and delay from a stream keyed by (the field's
    key, its target) (spikecore.distributions.TargetValueStream), and fixed_indegree's and
    fixed_probability's sources from per-target streams (spikecore.connectors.with_target_streams):
    the same distributions, other draws, and the synapses onto any set of targets can be drawn
    without the rest (what an MPI rank of the NEST backend draws: rank_local_reason).
    """
    pre: object
    post: object
    connector: object
    weight: object = None
    delay: object = None
    receptor: str | None = None
    synapse: str | None = None
    name: str | None = None
    plasticity: dict | None = None   # {"rule": <spikecore.plasticity rule>, <param>: <value>, ...}
    weight_precision: str = "float64"   # or "float32": weights rounded to float32 values (WEIGHT_PRECISIONS)
    weight_exp: int | None = None       # loihi_lif targets only: Lava's weight exponent (default 0)
    num_weight_bits: int | None = None  # loihi_lif targets only: Lava's weight bits (default 8)
    streams: str = "projection"         # or "per_target" (STREAMS)

    pre_name = property(lambda self: _name_of(self.pre))
    post_name = property(lambda self: _name_of(self.post))


def _name_of(element):
    """An element given by name or as the object itself (a Population, a source): its name
    (anything else as is, for the checks to refuse)."""
    return element.name if isinstance(element, (Population, SpikeSource, PoissonSource)) else element


@refuse_unknown_keywords
@dataclass(eq=False)
class SpikeMonitor:
    target: object
    name: str | None = None

    target_name = property(lambda self: _name_of(self.target))


@refuse_unknown_keywords
@dataclass(eq=False)
class StateMonitor:
    """Record ``variables`` of ``neurons`` (default: all) every ``interval`` (default: dt)."""
    target: object
    variables: tuple = ("v",)
    neurons: object = None
    interval: object = None
    name: str | None = None

    target_name = property(lambda self: _name_of(self.target))


@dataclass(eq=False)
class WeightMonitor:
    """Record the weights of ``synapses`` (indices into a plastic projection's synapse list, in
    its order; default: all) every ``interval`` (default: dt), at the start of the step."""
    projection: object
    synapses: object = None
    interval: object = None
    name: str | None = None

    projection_name = property(lambda self: _name_of(self.projection))


# ----------------------------------------------------------------------------- network
@refuse_unknown_keywords
class Network:
    """A spiking network: add elements, then ``to_ir()`` or ``run()``."""

    def __init__(self, name: str = "network", seed: int = 0, dt=None, duration=None):
        self.name = _check_name(name, "name")   # the default output directory: results/<name>
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValidationError("seed", seed, "a non-negative integer")
        self.seed = int(seed)
        self.dt = DEFAULT_DT if dt is None else u.to_si(dt, u.TIME, "dt")
        if not self.dt > 0:
            raise ValidationError("dt", dt, "a positive time step, e.g. '0.1 ms'")
        if not math.isfinite(self.dt):
            raise ValidationError("dt", dt, "a finite time step, e.g. '0.1 ms'")
        self.duration = DEFAULT_DURATION if duration is None else u.to_si(duration, u.TIME, "duration")
        if not (self.duration > 0 and math.isfinite(self.duration)):
            raise ValidationError("duration", duration, "a positive, finite duration, e.g. '1 s'")
        self.populations: dict = {}
        self.sources: dict = {}
        self.currents: dict = {}
        self.projections: dict = {}
        self.monitors: dict = {}

    # -- building ----------------------------------------------------------------
    def add(self, *elements):
        """Add populations, sources, currents, projections or monitors; returns the last."""
        for el in elements:
            table, section, prefix = self._table_for(el)
            if el.name is None:
                el.name = f"{prefix}{len(table)}"
            _check_name(el.name, f"{section}.{el.name}")
            if self._taken(el.name):
                raise ValidationError(f"{section}.{el.name}", el.name, "a name not used by another element")
            self._check_in_network(el)
            table[el.name] = el
        return elements[-1] if elements else None

    def _check_in_network(self, el):
        """The checks that need the other elements (targets, receptors, sizes)."""
        if isinstance(el, Projection):
            self._check_projection(el)
        elif isinstance(el, CurrentSource):
            self._check_current(el)
        elif isinstance(el, (SpikeMonitor, StateMonitor)):
            self._check_monitor(el)
        elif isinstance(el, WeightMonitor):
            self._check_weight_monitor(el)

    def validate(self):
        """Check every element again, as it is now: to_ir and save call this, so that a
        description edited after it was added (``pop.params["v_leak"] = ...``) is what
        runs and what is saved, or is refused with the field it breaks."""
        for table in (self.populations, self.sources, self.currents, self.projections, self.monitors):
            for el in table.values():
                if hasattr(el, "validate"):
                    el.validate()
                self._check_in_network(el)

    @staticmethod
    def _table_key(el):
        if isinstance(el, Population):
            return "populations", "population"
        if isinstance(el, (SpikeSource, PoissonSource)):
            return "sources", "source"
        if isinstance(el, CurrentSource):
            return "currents", "current"
        if isinstance(el, Projection):
            return "projections", "projection"
        if isinstance(el, (SpikeMonitor, StateMonitor, WeightMonitor)):
            return "monitors", "monitor"
        raise ValidationError("element", type(el).__name__,
                              "a Population, SpikeSource, PoissonSource, CurrentSource, Projection or monitor")

    def _table_for(self, el):
        section, prefix = self._table_key(el)
        return getattr(self, section), section, prefix

    def _taken(self, name):
        return any(name in t for t in (self.populations, self.sources, self.currents, self.projections, self.monitors))

    def population(self, name, size, model, params=None, initial=None) -> Population:
        return self.add(Population(size, model, params or {}, initial or {}, name=name))

    def project(self, pre, post, connector, weight=None, delay=None, receptor=None, synapse=None, name=None,
                plasticity=None, weight_precision="float64", weight_exp=None, num_weight_bits=None,
                streams="projection"):
        return self.add(Projection(pre, post, connector, weight, delay, receptor, synapse, name=name,
                                   plasticity=plasticity, weight_precision=weight_precision,
                                   weight_exp=weight_exp, num_weight_bits=num_weight_bits, streams=streams))

    def _check_projection(self, pr: Projection):
        fld = f"projections.{pr.name}"
        pre, post = pr.pre_name, pr.post_name
        for key, value in (("pre", pre), ("post", post)):
            if not isinstance(value, str):
                raise ValidationError(f"{fld}.{key}", value, "the name of a population" + (" or source" if key == "pre" else ""))
        for key in ("receptor", "synapse"):
            if getattr(pr, key) is not None and not isinstance(getattr(pr, key), str):
                raise ValidationError(f"{fld}.{key}", getattr(pr, key), "a name (a string)")
        if pre not in self.populations and pre not in self.sources:
            raise ValidationError(f"{fld}.pre", pre, "the name of a population or source added before it: "
                                  + ", ".join(list(self.populations) + list(self.sources)))
        if post not in self.populations:
            raise ValidationError(f"{fld}.post", post, "the name of a population added before it: "
                                  + ", ".join(self.populations))
        if not isinstance(pr.connector, tuple(CONNECTORS.values())):
            raise ValidationError(f"{fld}.connector", pr.connector, "one of " + ", ".join(CONNECTORS))
        pr.connector.check(f"{fld}.connector")
        self._weight_precision(pr, fld)
        _streams(pr, fld)
        target = self.populations[post]
        spec = target.spec
        if pr.synapse is not None and pr.synapse != spec.synapse:
            raise ValidationError(f"{fld}.synapse", pr.synapse,
                                  f"'{spec.synapse}' (the synapse type of {post}'s model {spec.name}), or leave it out")
        if spec.synapse == "delta":
            if pr.receptor not in (None, "default"):
                raise ValidationError(f"{fld}.receptor", pr.receptor,
                                      f"no receptor: {spec.name} has delta synapses (leave it out)")
        elif pr.receptor not in target.si_receptors and not (
                pr.receptor is None and len(target.si_receptors) == 1):
            raise ValidationError(f"{fld}.receptor", pr.receptor, "one of " + (", ".join(target.si_receptors) or
                                  "nothing: list the variables projections add to in the model's targets"))
        spec = _receptor_view(spec, pr.receptor or next(iter(target.si_receptors), None))
        loihi_lif.check_projection_registers(pr, spec, fld)
        if pr.weight is None and not (isinstance(pr.connector, FromSparse)):
            raise ValidationError(f"{fld}.weight", None, f"a weight in {u.dim_name(spec.weight_dim)}")
        pr.si_plasticity = None if pr.plasticity is None else \
            plasticity.check_plasticity(pr.plasticity, spec.weight_dim, spec.synapse, f"{fld}.plasticity")
        if pr.si_plasticity is not None:
            plasticity.get_rule(pr.si_plasticity["rule"]).check_network(
                pr.si_plasticity, list(self.populations) + list(self.sources), f"{fld}.plasticity")

    def _check_current(self, cs: CurrentSource):
        fld = f"currents.{cs.name}"
        if not isinstance(cs.target, str) or cs.target not in self.populations:
            raise ValidationError(f"{fld}.target", cs.target, "the name of a population: " + ", ".join(self.populations))
        n = self.populations[cs.target].size
        cs.si_neurons = (np.arange(n) if cs.neurons is None
                         else _index_array(np.atleast_1d(cs.neurons), f"{fld}.neurons", n))

    def _check_monitor(self, m):
        fld = f"monitors.{m.name}"
        if not isinstance(m.target_name, str) or m.target_name not in self.populations:
            raise ValidationError(f"{fld}.target", m.target_name, "the name of a population: " + ", ".join(self.populations))
        if isinstance(m, StateMonitor):
            pop = self.populations[m.target_name]
            if not isinstance(m.variables, (str, list, tuple)):
                raise ValidationError(f"{fld}.variables", m.variables, "a list of state variable names")
            variables = (m.variables,) if isinstance(m.variables, str) else tuple(m.variables)
            known = pop.state_variables()
            for var in variables:
                if not isinstance(var, str) or var not in known:
                    raise ValidationError(f"{fld}.variables", var, "state variables of " + pop.model + ": "
                                          + ", ".join(known) + nearest(var, known))
            m.variables = variables
            n = pop.size
            m.si_neurons = (np.arange(n) if m.neurons is None
                            else _index_array(np.atleast_1d(m.neurons), f"{fld}.neurons", n))

    def _check_weight_monitor(self, m: WeightMonitor):
        fld = f"monitors.{m.name}"
        pr = self.projections.get(m.projection_name)
        if pr is None or pr.plasticity is None:
            plastic = [n for n, p in self.projections.items() if p.plasticity is not None]
            raise ValidationError(f"{fld}.projection", m.projection_name,
                                  "the name of a plastic projection added before it: " + (", ".join(plastic) or "none"))
        for other in self.monitors.values():
            if isinstance(other, WeightMonitor) and other is not m and other.projection_name == m.projection_name:
                raise ValidationError(f"{fld}.projection", m.projection_name,
                                      f"a projection no other weight monitor records ({other.name} does)")

    # -- realisation ----------------------------------------------------------------
    def _rng_factory(self, kind: str, name: str):
        key = zlib.crc32(f"{kind}:{name}".encode())

        def make():
            return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(key,))))
        return make

    def to_ir(self, dt=None, seed=None, timing: str = "grid") -> _ir.IRGraph:
        """Realise the network (connectivity, draws, initial states) into the IR.

        ``dt`` and ``seed`` override the network's own for this realisation. With
        ``timing="precise"`` (native backend's precise mode) delays need only be >= dt:
        they are not checked against, nor drawn delays rounded to, the grid."""
        if timing not in TIMINGS:
            raise ValidationError("timing", timing, "one of " + ", ".join(TIMINGS))
        net_seed = self.seed
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
                raise ValidationError("seed", seed, "a non-negative integer")
            self.seed = int(seed)
        try:
            step = self.dt if dt is None else u.to_si(dt, u.TIME, "dt")
            if not (step > 0 and math.isfinite(step)):
                raise ValidationError("dt", dt, "a positive, finite time step, e.g. '0.1 ms'")
            self.validate()
            return self._lower(step, timing)
        finally:
            self.seed = net_seed

    def _lower(self, dt: float, timing: str = "grid") -> _ir.IRGraph:
        if not self.populations:
            raise ValidationError("populations", {}, "at least one population")
        g = _ir.IRGraph(name=self.name, dt=dt, seed=self.seed)
        for name, pop in self.populations.items():
            params = pop.realise_params(lambda key, name=name: self._rng_factory("params", f"{name}.{key}"), g.redrawn)
            if "t_refrac" in params:   # engines count it in steps
                _check_at_most_max_steps(np.atleast_1d(np.asarray(params["t_refrac"], dtype=float)), dt,
                                         pop._field("params.t_refrac"), "a refractory period", pop.params.get("t_refrac"))
            g.populations[name] = _ir.PopulationNode(
                name=name, size=pop.size, model=pop.spec.name, params=params,
                receptors={r: dict(v) for r, v in pop.si_receptors.items()},
                initial=pop.realise_initial(self._rng_factory("initial", name), params, g.redrawn),
                attrs={"equations": equation_models.node_attrs(pop.spec)} if pop.spec.synapse == "variable" else {})
        for name, src in self.sources.items():
            if isinstance(src, SpikeSource):
                _check_countable_times(src.si_times, dt, f"sources.{name}.times")
                g.spike_sources[name] = _ir.SpikeSourceNode(name, src.n, src.si_times.copy(), src.si_indices.copy())
            else:
                if src.si_rates.size and src.si_rates.max() * dt > _ir.MAX_POISSON_MEAN:   # every backend's limit
                    raise ValidationError(f"sources.{name}.rate", f"{float(src.si_rates.max()):g} Hz",
                                          f"a rate of at most {_ir.MAX_POISSON_MEAN / dt:g} Hz "
                                          f"({_ir.MAX_POISSON_MEAN:g} expected spikes per step at dt = {dt * 1e3:g} ms)")
                for key, value in (("start", src.si_start), ("stop", src.si_stop)):
                    if math.isfinite(value):   # engines count the window in steps; no stop is inf
                        _check_at_most_max_steps(np.array([value]), dt, f"sources.{name}.{key}",
                                                 f"a {key} (or none)", getattr(src, key))
                seed = int(self._rng_factory("poisson", name)().integers(0, 2**63 - 1))
                g.poisson_sources[name] = _ir.PoissonSourceNode(name, src.size, src.si_rates.copy(), seed,
                                                                src.si_start, src.si_stop)
        for name, cs in self.currents.items():
            _check_countable_times(cs.si_times, dt, f"currents.{name}.steps")
            g.currents[name] = _ir.CurrentInputNode(name, cs.target, cs.si_neurons.copy(),
                                                    cs.si_times.copy(), cs.si_amplitudes.copy())
        static = sum(self._expected_synapses(pr) for pr in self.projections.values()
                     if pr.si_plasticity is None and not isinstance(pr.connector, FromSparse))
        for name, pr in self.projections.items():
            g.projections[name] = self._lower_projection(pr, dt, timing, g.redrawn, g.populations[pr.post_name].params
                                                         if pr.post_name in g.populations else None, static)
        for name, m in self.monitors.items():
            if isinstance(m, SpikeMonitor):
                g.spike_monitors[name] = _ir.SpikeMonitorNode(name, m.target_name)
            elif isinstance(m, WeightMonitor):
                g.weight_monitors[name] = self._lower_weight_monitor(m, g, dt)
            else:
                fld = f"monitors.{name}.interval"
                interval = dt if m.interval is None else u.to_si(m.interval, u.TIME, fld)
                _check_at_most_max_steps(np.array([interval]), dt, fld, "an interval", m.interval)
                if not interval > 0 or abs(interval / dt - round(interval / dt)) > _ir.GRID_TOLERANCE:
                    raise ValidationError(fld, m.interval, f"a positive multiple of dt ({dt!r} s)")
                g.state_monitors[name] = _ir.StateMonitorNode(name, m.target_name, tuple(m.variables),
                                                              m.si_neurons.copy(), round(interval / dt) * dt)
        return g

    def _lower_weight_monitor(self, m: WeightMonitor, g: _ir.IRGraph, dt: float) -> _ir.WeightMonitorNode:
        fld = f"monitors.{m.name}"
        n = g.projections[m.projection_name].n_synapses
        synapses = (np.arange(n) if m.synapses is None
                    else _index_array(np.atleast_1d(m.synapses), f"{fld}.synapses", n))
        interval = dt if m.interval is None else u.to_si(m.interval, u.TIME, f"{fld}.interval")
        if not interval > 0 or abs(interval / dt - round(interval / dt)) > _ir.GRID_TOLERANCE:
            raise ValidationError(f"{fld}.interval", m.interval, f"a positive multiple of dt ({dt!r} s)")
        return _ir.WeightMonitorNode(m.name, m.projection_name, synapses, round(interval / dt) * dt)

    def _lower_projection(self, pr: Projection, dt: float, timing: str = "grid",
                          redrawn: dict | None = None, post_params: dict | None = None,
                          network_static: int = 0) -> _ir.ProjectionEdge:
        """The IR edge of a projection: explicit arrays, or for a large static projection
        (spikecore.ir.is_lazy: at least LAZY_SYNAPSES expected, or a medium one in a large
        network; ``network_static``: the static synapses the network expects) a stream that
        draws them in chunks whenever a backend reads them (the same synapses either way:
        spikecore.ir.SynapseStream). ``post_params``: the target population's realised
        (possibly per-neuron) parameters."""
        fld = f"projections.{pr.name}"
        pre, post = pr.pre_name, pr.post_name
        n_pre = (self.populations[pre].size if pre in self.populations
                 else getattr(self.sources[pre], "n", None) or self.sources[pre].size)
        target = self.populations[post]
        spec = _receptor_view(target.spec, pr.receptor or next(iter(target.si_receptors), None))
        receptor = "default" if spec.synapse == "delta" else (pr.receptor or next(iter(target.si_receptors)))
        precision = self._weight_precision(pr, fld)
        expected = self._expected_synapses(pr)
        draw, draw_onto, value_chunks, in_degrees, weight_signs = self._projection_draw(
            pr, n_pre, target, dt, timing, precision, fld, post_params)
        if (pr.si_plasticity is None and _ir.is_lazy(expected, network_static)
                and not isinstance(pr.connector, FromSparse) and spec.synapse != "integer"):
            any_order = ((lambda counts: draw(counts, ordered=False))
                         if getattr(pr.connector, "draws_in_any_order", False) else None)
            stream = _ir.SynapseStream(draw, expected, redrawn, any_order, generate_onto=draw_onto,
                                       value_chunks=value_chunks, in_degrees=in_degrees,
                                       weight_signs=weight_signs, rank_local_reason=rank_local_reason(pr),
                                       per_target=pr.streams == "per_target")
            return _ir.ProjectionEdge(pr.name, pre, post, receptor, spec.synapse, stream=stream,
                                      weight_precision=precision)
        counts: dict = {}
        chunks = list(draw(counts))
        if redrawn is not None:
            for key, value in counts.items():
                redrawn[key] = redrawn.get(key, 0) + value
        if not chunks:       # no synapses (e.g. an in-degree of 0)
            chunks = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0))]
        i, j, w, d = (chunks[0] if len(chunks) == 1 else
                      tuple(np.concatenate([c[k] for c in chunks]) for k in range(4)))
        plastic = None
        if pr.si_plasticity is not None:
            plastic = dict(pr.si_plasticity)
            plasticity.get_rule(plastic["rule"]).check_weights(plastic, w, fld)
        attrs = (loihi_lif.projection_attrs(pr, i, j, w, n_pre, target.size, pre in self.sources
                                            and isinstance(self.sources[pre], PoissonSource), fld)
                 if spec.synapse == "integer" else {})
        return _ir.ProjectionEdge(pr.name, pre, post, receptor, spec.synapse, i, j, w, d, plasticity=plastic,
                                  weight_precision=precision, attrs=attrs)

    def _expected_synapses(self, pr: Projection) -> int:
        """The synapses a projection's connector expects (0 when it cannot tell)."""
        if not hasattr(pr.connector, "expected_synapses"):
            return 0
        pre = pr.pre_name
        n_pre = (self.populations[pre].size if pre in self.populations
                 else getattr(self.sources[pre], "n", None) or self.sources[pre].size)
        return pr.connector.expected_synapses(n_pre, self.populations[pr.post_name].size, pre == pr.post_name)

    @staticmethod
    def _weight_precision(pr: Projection, fld: str) -> str:
        if pr.weight_precision not in WEIGHT_PRECISIONS:
            raise ValidationError(f"{fld}.weight_precision", pr.weight_precision,
                                  "one of " + ", ".join(WEIGHT_PRECISIONS))
        return pr.weight_precision

    def _projection_draw(self, pr: Projection, n_pre: int, target, dt: float, timing: str, precision: str,
                         fld: str, post_params: dict | None = None):
        """A function ``draw(counts)`` yielding the projection's synapses as chunks (i, j,
        weight, delay), all drawn from the network seed; ``counts`` collects redraws of
        truncated distributions. A connector with ``connect_chunks`` gives its synapses
        in pieces; weights and delays continue their streams from chunk to chunk.
        ``draw(counts, ordered=False)`` (a connector with ``draws_in_any_order``) yields the
        same synapses in the connector's cheapest order, and the same weights and delays in
        their own order (so not paired with the same synapses: for counting passes only).
        ``post_params``: the target's realised parameters (a per-neuron r scales each weight
        by its target neuron's r).

        Returns ``(draw, draw_onto, value_chunks, in_degrees, weight_signs)``; the last four are
        None unless the projection can be drawn target by target (``rank_local_reason`` is None):
        ``draw_onto(hosted, counts)`` yields only the synapses onto the targets marked in the
        mask ``hosted`` (spikecore.ir.SynapseStream.onto), ``value_chunks()`` chunks (j, weight,
        delay) holding every weight and delay with no source drawn, ``weight_signs()`` the signs
        the weights can take as the declaration fixes them (None: only the draws can tell)."""
        pre, post = pr.pre_name, pr.post_name
        r = (post_params or target.si_params).get("r")
        spec = _receptor_view(target.spec, pr.receptor or next(iter(target.si_receptors), None))
        per_target = _streams(pr, fld) == "per_target"
        connector = effective_connector(pr)
        delay_dim = u.DIMENSIONLESS if spec.synapse == "integer" else u.TIME   # Loihi's delays are steps

        known_redraws: dict = {}    # the truncated draws' redraws, found once for every pass

        def draw(counts: dict, ordered: bool = True):
            rng_c = self._rng_factory("connect", pr.name)()
            if not ordered and not np.ndim(r):
                # the same synapses in the connector's cheapest order (a per-neuron r would
                # scale the weights by other targets' r: those keep the list's order)
                n, pieces = connector.connect_chunks(n_pre, target.size, pre == post, rng_c, f"{fld}.connector",
                                                     ordered=False)
            elif hasattr(connector, "connect_chunks"):
                n, pieces = connector.connect_chunks(n_pre, target.size, pre == post, rng_c, f"{fld}.connector")
            else:
                i, j = connector.connect(n_pre, target.size, pre == post, rng_c, f"{fld}.connector")
                n, pieces = i.size, [(i, j)]
            yield from valued(n, pieces, counts)

        def field_stream(value, dim, n, kind, counts):
            """The stream of a weight or delay: per target (streams: per_target, a drawn value)
            or in the order of the list."""
            if per_target and _is_distribution(value):
                return TargetValueStream(value, dim, int(self._rng_factory(kind, pr.name)().integers(0, 2**63 - 1)),
                                         f"{fld}.{kind}", counts)
            return ValueStream(value, dim, n, self._rng_factory(kind, pr.name), f"{fld}.{kind}", counts,
                               known_redraws)

        def valued(n, pieces, counts):
            """The pieces (i, j) of n synapses with their weights and delays, which continue
            the projection's streams from piece to piece (or, per target, are drawn at each
            synapse's position among its target's synapses: any piece that holds each target's
            synapses in the list's order gives them their values)."""
            weights, w_dim = self._weight_stream(pr, spec, n, fld, counts, known_redraws, field_stream)
            delays = None if pr.delay is None else field_stream(pr.delay, delay_dim, n, "delay", counts)
            positions = TargetPositions(target.size) if per_target else None

            def take(stream, i, j, k):
                return stream.at(j, k) if isinstance(stream, TargetValueStream) else stream.take(i.size)

            for i, j in pieces:
                k = None if positions is None else positions.of(j)
                w = take(weights, i, j, k)
                if w_dim == u.CURRENT and spec.weight_dim == u.VOLTAGE:
                    # a current jump of I gives the drive r*I (the target neuron's r, when per neuron)
                    w = w * (np.asarray(r)[j] if np.ndim(r) else r)
                if spec.synapse == "conductance" and (w < 0).any():
                    raise ValidationError(f"{fld}.weight", float(w.min()),
                                          "conductance weights >= 0 S (use an inhibitory receptor)")
                if precision == "float32":
                    w = w.astype(np.float32).astype(np.float64)
                d = None if delays is None else take(delays, i, j, k)
                if spec.synapse == "integer":
                    yield i, j, w, loihi_lif.ir_delays(d, i.size, dt, fld)
                else:
                    yield i, j, w, self._projection_delays(pr, i.size, dt, timing, d, fld)

        if rank_local_reason(pr) is not None:
            return draw, None, None, None, None

        def draw_onto(hosted, counts: dict):
            """Only the synapses onto the targets marked in ``hosted``: each with its weight
            and delay, which depend on its target (and, per target, its place among the
            target's synapses) only (rank_local_reason)."""
            rng_c = self._rng_factory("connect", pr.name)()
            n, pieces = connector.connect_onto(n_pre, target.size, pre == post, rng_c, hosted, f"{fld}.connector")
            yield from valued(n, pieces, counts)

        def in_degrees():
            """The synapses onto each target (nothing but the in-degrees drawn)."""
            rng_c = self._rng_factory("connect", pr.name)()
            return connector.in_degrees(n_pre, target.size, pre == post, rng_c, f"{fld}.connector")

        drawn_per_target = per_target and (_is_distribution(pr.weight) or _is_distribution(pr.delay))

        def value_chunks():
            """Chunks (j, weight, delay) holding every weight and delay of the projection, no
            source drawn: one synapse's values per target that receives synapses when they are
            constants (all its synapses carry them), else (drawn per target) every synapse's,
            at (j, k) for k below j's in-degree, target by target."""
            degrees = in_degrees()
            if not drawn_per_target:
                j = np.flatnonzero(degrees).astype(np.int64)
                parts = list(valued(j.size, [(np.zeros(j.size, np.int64), j)], {}))
                yield parts[0][1:] if parts else (j, np.zeros(0), np.zeros(0))
                return
            ends = np.cumsum(degrees)

            def pieces():
                first = 0
                while first < degrees.size:
                    last = max(int(np.searchsorted(ends, ends[first] - degrees[first] + CHUNK_SYNAPSES,
                                                   side="right")), first + 1)
                    j = np.repeat(np.arange(first, last, dtype=np.int64), degrees[first:last])
                    yield np.zeros(j.size, np.int64), j
                    first = last
            for _, j, w, d in valued(int(degrees.sum()), pieces(), {}):
                yield j, w, d

        def weight_signs():
            """The signs (+1, -1) the projection's nonzero weights can take, from the declaration
            alone (no weight drawn, whatever the synapses): a constant's sign; a distribution's
            when its support lies on one side of 0 (uniform: [low, high); normal: [low, high],
            or its mean when std is 0), e.g. a normal truncated at 0 has one sign. None when the
            support holds both signs (then only the draws tell whether both occur) or a target's
            r, which scales a current weight, is not positive."""
            w_dim = _weight_dim(pr.weight, spec, f"{fld}.weight")
            if isinstance(pr.weight, Uniform):
                low, high = _uniform_bounds(pr.weight, w_dim, f"{fld}.weight")
            elif isinstance(pr.weight, Normal):
                mean, std, low, high, _ = _normal_params(pr.weight, w_dim, f"{fld}.weight")
                if std == 0:
                    low = high = mean
            else:
                low = high = float(u.to_si(pr.weight, w_dim, f"{fld}.weight"))
            if w_dim == u.CURRENT and spec.weight_dim == u.VOLTAGE and np.any(np.asarray(r) <= 0):
                return None
            signs = {sign for sign, possible in ((1, high > 0), (-1, low < 0)) if possible}
            return signs if len(signs) < 2 else None
        return draw, draw_onto, value_chunks, in_degrees, weight_signs

    def _weight_stream(self, pr, spec, n, fld, counts, known_redraws=None, field_stream=None) -> tuple:
        """(a ValueStream of the projection's n weights as given, their dimension); ``field_stream(value,
        dim, n, kind, counts)``, when given, makes the stream of a weight given as a value."""
        if pr.weight is None:
            _, _, _, data = pr.connector.coo(f"{fld}.connector")
            if pr.connector.unit is None:
                raise ValidationError(f"{fld}.connector.unit", None,
                                      "a unit for the sparse matrix entries (e.g. 'mV') when weight is not given")
            unit = u.parse_unit(pr.connector.unit.strip(), f"{fld}.connector.unit")
            w = np.asarray(data, dtype=float) * unit.value
            if not np.isfinite(w).all():
                raise ValidationError(f"{fld}.connector.data", "a non-finite entry", "finite weights")
            _check_weight_dim(unit.dim, spec, pr.weight, f"{fld}.weight")
            return ValueStream.of_si_array(w, f"{fld}.weight"), unit.dim
        w_dim = _weight_dim(pr.weight, spec, f"{fld}.weight")
        _check_weight_dim(w_dim, spec, pr.weight, f"{fld}.weight")
        if field_stream is not None:
            return field_stream(pr.weight, w_dim, n, "weight", counts), w_dim
        return ValueStream(pr.weight, w_dim, n, self._rng_factory("weight", pr.name), f"{fld}.weight", counts,
                           known_redraws), w_dim

    def _projection_delays(self, pr, n, dt, timing, drawn, fld):
        # delays (``drawn``: the n values of the delay field, None when it is not given): at
        # least one step, on the grid; drawn delays are rounded to it (as NEST does), and
        # never clipped up to dt: a short draw is refused unless the distribution's bounds
        # redraw it
        if drawn is None:
            d = np.full(n, dt)
        else:
            d = drawn
            if _is_distribution(pr.delay):
                d = _drawn_delays(d, dt, timing, pr.delay, f"{fld}.delay")
        if timing == "precise":
            if (d < dt * (1 - _ir.GRID_TOLERANCE)).any():
                raise ValidationError(f"{fld}.delay", f"{float(d.min())!r} s", f"delays >= dt ({dt!r} s)")
            _check_at_most_max_steps(d, dt, f"{fld}.delay")
        else:
            check_delays(d, dt, f"{fld}.delay")
        return d

    # -- convenience ----------------------------------------------------------------
    def run(self, duration=None, backend="native", dt=None, seed=None, progress=False,
            ignore_memory_check=False, **options):
        """Realise the network, compile it on ``backend`` and run it; returns a Result. Refuses
        (InsufficientMemory) before drawing anything when the estimate (spikecore.engine.memory)
        exceeds the available memory, unless ``ignore_memory_check``."""
        from .registry import get_backend

        from .engine.memory import preflight

        dur = self.duration if duration is None else u.to_si(duration, u.TIME, "duration")
        self.validate()   # the estimate reads the description as edited since add
        preflight(self, dur, backend, options, dt, ignore=ignore_memory_check)
        g = self.to_ir(dt=dt, seed=seed, timing=options.get("timing", "grid"))
        be = get_backend(backend)
        exe = be.compile(g, **options)
        return with_redrawn(exe.run(dur, progress=progress), g)

    def save(self, path):
        from .registry import implementation
        implementation("save_network")(self, path)

    @staticmethod
    def load(path) -> "Network":
        from .registry import implementation
        return implementation("load_network")(path)

    def __eq__(self, other):
        from .registry import implementation
        to_dict = implementation("network_to_dict")
        return isinstance(other, Network) and to_dict(self) == to_dict(other)


def _streams(pr: Projection, fld: str) -> str:
    if not isinstance(pr.streams, str) or pr.streams not in STREAMS:
        raise ValidationError(f"{fld}.streams", pr.streams, "one of " + ", ".join(STREAMS))
    return pr.streams


def effective_connector(pr: Projection):
    """The connector as the projection draws it (with ``streams: per_target``, fixed_indegree
    from per-target streams: spikecore.connectors.with_target_streams)."""
    return with_target_streams(pr.connector) if pr.streams == "per_target" else pr.connector


def rank_local_reason(pr: Projection) -> str | None:
    """None when the projection's synapses onto any set of targets can be drawn without the
    rest (an MPI rank then draws only those onto the neurons it hosts: connector's
    ``connect_onto``, and a weight and delay that depend on the target only, or, with
    ``streams: per_target``, drawn from the target's own stream); else why not.

    By default a drawn or per-synapse weight or delay is taken from a stream in the order of
    the whole synapse list (by source, then target), so a synapse's value depends on every
    synapse before it: a rank must draw the whole projection to find its own synapses' values;
    so must it for fixed_indegree's sources (one generator, target after target)."""
    per_target = pr.streams == "per_target"
    connector = effective_connector(pr)
    if not hasattr(connector, "connect_onto"):
        return (f"connector {getattr(pr.connector, 'kind', type(pr.connector).__name__)} cannot give one "
                "target's synapses without the rest"
                + ("" if per_target or not isinstance(pr.connector, (FixedIndegree, FixedProbability)) else
                   " (streams: per_target draws it per target)"))
    for what, value in (("weight", pr.weight), ("delay", pr.delay)):
        if value is None and what == "weight":
            return "weights from the connector's matrix, in the order of the synapse list"
        if _is_array(value):
            return f"a per-synapse {what}, taken in the order of the whole synapse list"
        if _is_distribution(value) and not per_target:
            return (f"a drawn {what}, taken in the order of the whole synapse list "
                    "(streams: per_target draws it per target)")
    return None


def with_redrawn(result, g: _ir.IRGraph):
    """``result`` with the IR's redraw counts (truncated distributions) in its summary."""
    if g.redrawn:
        result.extra["redrawn"] = dict(g.redrawn)
    return result


def _receptor_view(spec, receptor):
    """The model as a projection onto ``receptor`` sees it: its weight dimensions for that receptor."""
    dims = spec.receptor_weight_dims(receptor) if receptor is not None else spec.weight_dims
    return spec if dims == spec.weight_dims else replace(spec, weight_dims=dims)


__all__ = [
    "Network", "Population", "Projection", "SpikeSource", "PoissonSource", "CurrentSource",
    "SpikeMonitor", "StateMonitor", "WeightMonitor", "AllToAll", "OneToOne", "FixedProbability", "FixedIndegree",
    "FixedTotalNumber",
    "FromIndices", "FromSparse", "Uniform", "Normal", "MODELS",
]
