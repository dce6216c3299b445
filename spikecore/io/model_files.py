"""Model files: a Network to and from YAML or JSON (one format, two syntaxes).

The file holds the *description* (distributions, connector rules), not the
realised synapses, so a 4000-neuron model is a page of YAML. Quantities are
strings with units ("20 ms"); ``save`` writes each one in SI with ``repr``
precision so ``load(save(net)) == net`` exactly. Format version: ``spikecore: 1``.

    spikecore: 1
    name: cuba
    seed: 1
    dt: 0.1 ms
    duration: 1 s
    populations:
      exc: {size: 3200, model: lif_cuba, params: {...}, initial: {v: {distribution: uniform, low: -60 mV, high: -50 mV}}}
    sources:
      stim: {type: spike_times, spike_times: [[1 ms, 5 ms], [2 ms]]}
      noise: {type: poisson, size: 100, rate: 5 Hz}
    currents:
      step: {target: exc, steps: [[0 ms, 0 pA], [100 ms, 200 pA]], neurons: [0, 1]}
    projections:
      ee: {pre: exc, post: exc, connector: {type: fixed_probability, p: 0.02}, weight: 1.62 mV, delay: 0.1 ms, receptor: exc}
    monitors:
      spk: {type: spikes, target: exc}
      vm: {type: state, target: exc, variables: [v], neurons: [0, 1], interval: 1 ms}

Other model formats register a loader by file suffix in ``MODEL_LOADERS``
(e.g. spikecore.io.nir for ``.nir``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .. import network as nw
from .. import units as u
from ..errors import ModelFileError, SpikecoreError, ValidationError, nearest
from ..models import describable_models, get_model
from ..plasticity import get_rule
from .results import write_text_file

FORMAT_VERSION = 1
TOP_KEYS = ("spikecore", "name", "seed", "dt", "duration", "populations", "sources", "currents",
            "projections", "monitors")


# ----------------------------------------------------------------------------- writing
def _q(value_si: float, dim) -> str:
    return u.format_si(value_si, dim)


def _value(v, dim):
    """A description value (quantity, array, distribution) -> plain data."""
    if nw._is_distribution(v):
        out = {"distribution": v.kind}
        for f in ("low", "high") if isinstance(v, nw.Uniform) else ("mean", "std", "low", "high"):
            x = getattr(v, f)
            if x is not None:
                out[f] = _q(u.to_si(x, dim, f), dim)
        return out
    si = u.to_si(v, dim, "value", allow_array=True)
    if np.ndim(si) == 0:
        return _q(si, dim)
    return {"array": [float(x) for x in np.asarray(si).ravel()], "unit": u.DIM_NAMES[tuple(dim)]}


def _integer_value(v):
    """A value of Loihi's integer model (registers, initial u/v, weights, delays in steps) as
    plain integers or a list of them; a distribution as ``_value`` writes it."""
    if nw._is_distribution(v):
        return _value(v, u.DIMENSIONLESS)
    arr = np.asarray(u.to_si(v, u.DIMENSIONLESS, "value", allow_array=True), dtype=float)
    if arr.ndim == 0:
        return int(arr) if arr == round(float(arr)) else float(arr)
    return [int(x) if x == round(x) else float(x) for x in arr.ravel()]


def _connector_dict(c) -> dict:
    if isinstance(c, (nw.AllToAll,)):
        return {"type": c.kind, "allow_self": c.allow_self}
    if isinstance(c, nw.OneToOne):
        return {"type": c.kind}
    if isinstance(c, nw.FixedProbability):
        return {"type": c.kind, "p": float(c.p), "allow_self": c.allow_self}
    if isinstance(c, nw.FixedIndegree):
        return {"type": c.kind, "k": int(c.k), "allow_self": c.allow_self}
    if isinstance(c, nw.FixedTotalNumber):
        return {"type": c.kind, "n": int(c.n), "allow_self": c.allow_self, "allow_multapses": c.allow_multapses}
    if isinstance(c, nw.FromIndices):
        return {"type": c.kind, "i": [int(x) for x in np.asarray(c.i)], "j": [int(x) for x in np.asarray(c.j)]}
    shape, i, j, data = c.coo()
    return {"type": c.kind, "shape": [int(shape[0]), int(shape[1])], "i": i.tolist(), "j": j.tolist(),
            "data": [float(x) for x in data], "unit": c.unit}


def _equation_population(p) -> dict:
    """An equation-defined population: its definition and constants as written (units as given)."""
    defn = {k: v for k, v in p.spec.definition.items() if v is not None}
    defn["refractory"] = _q(defn["refractory"], u.TIME)
    if "targets" in defn:
        defn["targets"] = list(defn["targets"])
    params = {}
    for key, value in p.params.items():
        dim = p.spec.params[key].dim
        params[key] = value if isinstance(value, str) else (
            _q(p.si_params[key], dim) if tuple(dim) in u.DIM_NAMES else value)
    variables = p.state_variables()
    initial = {k: _value(v, variables[k]) for k, v in p.initial.items()}
    return {"size": p.size, "model": defn, "params": params, "initial": initial}


def network_to_dict(net: nw.Network) -> dict:
    net.validate()   # the description as it is now, edits made after add included
    d = {"spikecore": FORMAT_VERSION, "name": net.name, "seed": net.seed,
         "dt": _q(net.dt, u.TIME), "duration": _q(net.duration, u.TIME)}
    pops = {}
    for name, p in net.populations.items():
        spec = p.spec
        if spec.synapse == "variable":   # an equation-defined model (spikecore/models/equations.py)
            pops[name] = _equation_population(p)
            continue
        params = {}
        integer = spec.synapse == "integer"      # loihi_lif: Loihi's registers, written as integers
        for key, value in spec.expand_params(p.params, f"populations.{name}.params").items():
            if integer:
                params[key] = _integer_value(p.per_neuron.get(key, p.si_params[key]))
            elif key in spec.receptor_params:
                dim = spec.receptor_params[key].dim
                params[key] = {r: _q(u.to_si(x, dim, key), dim) for r, x in value.items()}
            elif key in p.per_neuron:
                params[key] = _value(p.per_neuron[key], spec.params[key].dim)
            else:
                params[key] = _q(p.si_params[key], spec.params[key].dim)
        variables = p.state_variables()
        initial = {k: _integer_value(v) if integer else _value(v, variables[k]) for k, v in p.initial.items()}
        pops[name] = {"size": p.size, "model": p.model, "params": params, "initial": initial}
    d["populations"] = pops
    sources = {}
    for name, s in net.sources.items():
        if isinstance(s, nw.SpikeSource):
            trains = [[_q(t, u.TIME) for t in s.si_times[s.si_indices == k]] for k in range(s.n)]
            sources[name] = {"type": "spike_times", "spike_times": trains}
        else:
            entry = {"type": "poisson", "size": s.size, "rate": _value(s.rate, u.FREQUENCY)}
            if s.start is not None:
                entry["start"] = _q(s.si_start, u.TIME)
            if s.stop is not None:
                entry["stop"] = _q(s.si_stop, u.TIME)
            sources[name] = entry
    d["sources"] = sources
    currents = {}
    for name, c in net.currents.items():
        entry = {"target": c.target}
        if c.amplitude is not None:
            entry["amplitude"] = _q(c.si_amplitudes[0], u.CURRENT)
        else:
            entry["steps"] = [[_q(t, u.TIME), _q(a, u.CURRENT)] for t, a in zip(c.si_times, c.si_amplitudes)]
        if c.neurons is not None:
            entry["neurons"] = [int(x) for x in np.atleast_1d(c.neurons)]
        currents[name] = entry
    d["currents"] = currents
    projections = {}
    for name, pr in net.projections.items():
        spec = net.populations[pr.post_name].spec
        entry = {"pre": pr.pre_name, "post": pr.post_name, "connector": _connector_dict(pr.connector)}
        integer = spec.synapse == "integer"    # onto loihi_lif: integer mantissas, delays in steps
        if pr.weight is not None:
            entry["weight"] = (_integer_value(pr.weight) if integer
                               else _value(pr.weight, nw._weight_dim(pr.weight, spec, "weight")))
        if pr.delay is not None:
            entry["delay"] = _integer_value(pr.delay) if integer else _value(pr.delay, u.TIME)
        for key in ("receptor", "synapse"):
            if getattr(pr, key) is not None:
                entry[key] = getattr(pr, key)
        if pr.plasticity is not None:
            entry["plasticity"] = _plasticity_entry(pr.si_plasticity, spec.weight_dim)
        if pr.weight_precision != "float64":
            entry["weight_precision"] = pr.weight_precision
        if pr.streams != "projection":
            entry["streams"] = pr.streams
        for key in ("weight_exp", "num_weight_bits"):
            if getattr(pr, key) is not None:
                entry[key] = int(getattr(pr, key))
        projections[name] = entry
    d["projections"] = projections
    monitors = {}
    for name, m in net.monitors.items():
        if isinstance(m, nw.SpikeMonitor):
            monitors[name] = {"type": "spikes", "target": m.target_name}
        elif isinstance(m, nw.WeightMonitor):
            entry = {"type": "weights", "projection": m.projection_name}
            if m.synapses is not None:
                entry["synapses"] = [int(x) for x in np.atleast_1d(m.synapses)]
            if m.interval is not None:
                entry["interval"] = _q(u.to_si(m.interval, u.TIME, "interval"), u.TIME)
            monitors[name] = entry
        else:
            entry = {"type": "state", "target": m.target_name, "variables": list(m.variables)}
            if m.neurons is not None:
                entry["neurons"] = [int(x) for x in np.atleast_1d(m.neurons)]
            if m.interval is not None:
                entry["interval"] = _q(u.to_si(m.interval, u.TIME, "interval"), u.TIME)
            monitors[name] = entry
    d["monitors"] = monitors
    return d


def save_network(net: nw.Network, path) -> None:
    path = Path(path)
    d = network_to_dict(net)
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml
        text = yaml.safe_dump(d, sort_keys=False, default_flow_style=None, width=100)
    elif suffix == ".json":
        text = json.dumps(d, indent=2)
    elif suffix in MODEL_SAVERS:
        MODEL_SAVERS[suffix](net, path)
        return
    else:
        raise ValidationError("path", str(path), "a file ending in .yaml, .yml or .json")
    write_text_file(path, text)


# ----------------------------------------------------------------------------- reading
# What each mapping of a model file may hold: (required keys, optional keys). A key
# outside these is refused with the nearest valid one, never ignored.
POPULATION_KEYS = (("size", "model"), ("params", "initial"))
SOURCE_KEYS = {"spike_times": (("type", "spike_times"), ("size",)),
               "poisson": (("type", "size", "rate"), ("start", "stop"))}
CURRENT_KEYS = (("target",), ("amplitude", "steps", "neurons"))
PROJECTION_KEYS = (("pre", "post", "connector"),
                   ("weight", "delay", "receptor", "synapse", "plasticity", "weight_precision", "weight_exp",
                    "num_weight_bits", "streams"))
MONITOR_KEYS = {"spikes": (("type", "target"), ()),
                "state": (("type", "target"), ("variables", "neurons", "interval")),
                "weights": (("type", "projection"), ("synapses", "interval"))}
CONNECTOR_KEYS = {"all_to_all": (("type",), ("allow_self",)), "one_to_one": (("type",), ()),
                  "fixed_probability": (("type", "p"), ("allow_self",)),
                  "fixed_indegree": (("type", "k"), ("allow_self",)),
                  "fixed_total_number": (("type", "n"), ("allow_self", "allow_multapses")),
                  "from_indices": (("type", "i", "j"), ()),
                  "sparse": (("type", "shape", "i", "j"), ("data", "unit"))}
DISTRIBUTION_KEYS = {"uniform": (("distribution", "low", "high"), ()),
                     "normal": (("distribution", "mean", "std"), ("low", "high"))}
ARRAY_KEYS = (("array",), ("unit",))


def _keys(entry, where: str, keys: tuple, what: str = "a mapping") -> dict:
    """``entry`` as a mapping holding all the required and only the allowed keys."""
    required, optional = keys
    allowed = tuple(required) + tuple(optional)
    if not isinstance(entry, dict):
        raise ValidationError(where, entry, f"{what} with keys {', '.join(allowed)}")
    for key in entry:
        if key not in allowed:
            raise ValidationError(_path(where, key), entry[key], f"one of the keys {', '.join(allowed)}"
                                  + nearest(key, allowed))
    for key in required:
        if key not in entry:
            raise ValidationError(_path(where, key), None, f"a value ('{key}' is required here)")
    return entry


def _path(where: str, key) -> str:
    return f"{where}.{key}" if where else str(key)


def _kind(entry, where: str, key: str, kinds) -> str:
    """The entry's ``type`` (or ``distribution``), one of ``kinds``."""
    if not isinstance(entry, dict):
        raise ValidationError(where, entry, f"a mapping with '{key}': one of " + ", ".join(kinds))
    if key not in entry:
        for other in entry:   # a misspelt 'type' is reported as such, not as missing
            if nearest(other, [key]):
                raise ValidationError(f"{where}.{other}", entry[other], f"a known key{nearest(other, [key])}")
        raise ValidationError(f"{where}.{key}", None, "one of " + ", ".join(kinds))
    kind = entry[key]
    if not isinstance(kind, str) or kind not in kinds:
        raise ValidationError(f"{where}.{key}", kind, "one of " + ", ".join(kinds) + nearest(kind, kinds))
    return kind


def _section(d: dict, key: str) -> dict:
    v = d.get(key)
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise ValidationError(key, v, "a mapping of names to entries")
    return v


def _int_array(v, where: str) -> np.ndarray:
    if not isinstance(v, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        raise ValidationError(where, v, "a list of integer indices")
    try:
        return np.asarray(v, dtype=np.int64)
    except OverflowError:
        raise ValidationError(where, v, "indices that fit 64 bits") from None


def _numbers(v, where: str) -> np.ndarray:
    if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        raise ValidationError(where, v, "a list of numbers")
    return np.asarray(v, dtype=float)


def _read_value(v, where: str):
    """Plain data -> description value (string quantity, array quantity or distribution)."""
    if isinstance(v, dict):
        if "distribution" in v:
            kind = _kind(v, where, "distribution", nw.DISTRIBUTIONS)
            fields = _keys(v, where, DISTRIBUTION_KEYS[kind], f"a {kind} distribution")
            return nw.DISTRIBUTIONS[kind](**{k: _read_value(x, f"{where}.{k}") for k, x in fields.items()
                                             if k != "distribution"})
        if "array" in v:
            _keys(v, where, ARRAY_KEYS)
            arr = _numbers(v["array"], f"{where}.array")
            unit = v.get("unit", "1")
            if unit == "1":
                return arr
            q = u.parse_unit(unit, f"{where}.unit")
            return u.Quantity(arr * q.value, q.dim)
        for key in v:   # a misspelt 'distribution' or 'array'
            if nearest(key, ("distribution", "array")):
                raise ValidationError(f"{where}.{key}", v[key], "a known key" + nearest(key, ("distribution", "array")))
        raise ValidationError(where, v, "a quantity string, {distribution: ...} or {array: [...], unit: ...}")
    if isinstance(v, list):
        return [_read_value(x, f"{where}[{k}]") for k, x in enumerate(v)]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v


def _read_params(p: dict, model: str, where: str) -> dict:
    params = p.get("params")
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise ValidationError(f"{where}.params", params, "a mapping of parameter names to values")
    receptor_params = {} if isinstance(model, dict) else get_model(model).receptor_params
    out = {}
    for key, v in params.items():
        fld = f"{where}.params.{key}"
        if key in receptor_params and isinstance(v, dict):
            out[key] = {r: _read_value(x, f"{fld}.{r}") for r, x in v.items()}
        else:
            out[key] = _read_value(v, fld)
    return out


def _read_population(name, p, where: str) -> nw.Population:
    _keys(p, where, POPULATION_KEYS)
    model = p["model"]
    if isinstance(model, dict):
        # an equation-defined model: Population checks its text (spikecore/models/equations.py);
        # its keys are checked first, so that a mapping that is no model is refused as such
        from ..models.equations import DEFINITION_KEYS
        for key in model:
            if key not in DEFINITION_KEYS:
                raise ValidationError(f"{where}.model.{key}", model[key], "a key of an equation-defined model: "
                                      + ", ".join(DEFINITION_KEYS) + nearest(key, DEFINITION_KEYS))
        if "equations" not in model:
            raise ValidationError(f"{where}.model", model, "a model name, or a mapping with 'equations' "
                                  "(an equation-defined model)")
    elif not isinstance(model, str) or model not in describable_models():
        raise ValidationError(f"{where}.model", model, "one of " + ", ".join(describable_models())
                              + nearest(model, describable_models()))
    initial = p.get("initial")
    if initial is None:
        initial = {}
    if not isinstance(initial, dict):
        raise ValidationError(f"{where}.initial", initial, "a mapping of state variables to values")
    initial = {k: _read_value(v, f"{where}.initial.{k}") for k, v in initial.items()}
    return nw.Population(p["size"], model, _read_params(p, model, where), initial, name=name)


def _read_source(name, s, where: str):
    kind = _kind(s, where, "type", SOURCE_KEYS)
    _keys(s, where, SOURCE_KEYS[kind])
    if kind == "spike_times":
        trains = s["spike_times"]
        if not isinstance(trains, list):
            raise ValidationError(f"{where}.spike_times", trains, "a list with one list of times per neuron")
        return nw.SpikeSource(spike_times=[_read_value(t, f"{where}.spike_times[{k}]") for k, t in enumerate(trains)],
                              size=s.get("size"), name=name)
    return nw.PoissonSource(s["size"], _read_value(s["rate"], f"{where}.rate"),
                            _read_value(s.get("start"), f"{where}.start"),
                            _read_value(s.get("stop"), f"{where}.stop"), name=name)


def _read_current(name, c, where: str) -> nw.CurrentSource:
    _keys(c, where, CURRENT_KEYS)
    steps = c.get("steps")
    if steps is not None and not isinstance(steps, list):
        raise ValidationError(f"{where}.steps", steps, "a list of [time, amplitude] pairs")
    neurons = c.get("neurons")
    if neurons is not None:
        neurons = _int_array(neurons, f"{where}.neurons")
    return nw.CurrentSource(c["target"], _read_value(c.get("amplitude"), f"{where}.amplitude"),
                            None if steps is None else _read_value(steps, f"{where}.steps"), neurons, name=name)


def _read_connector(c, where: str):
    kind = _kind(c, where, "type", CONNECTOR_KEYS)
    _keys(c, where, CONNECTOR_KEYS[kind], f"a {kind} connector")
    args = {k: v for k, v in c.items() if k != "type"}
    if kind == "from_indices":
        return nw.FromIndices(_int_array(c["i"], f"{where}.i"), _int_array(c["j"], f"{where}.j"))
    if kind == "sparse":
        import scipy.sparse as sp
        shape = c["shape"]
        if (not isinstance(shape, list) or len(shape) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) and 0 < x < 2**31 for x in shape)):
            raise ValidationError(f"{where}.shape", shape, "[rows, columns]: two positive integers")
        i, j = _int_array(c["i"], f"{where}.i"), _int_array(c["j"], f"{where}.j")
        data = _numbers(c["data"], f"{where}.data") if "data" in c else np.ones(i.size)
        for key, arr, n in (("i", i, shape[0]), ("j", j, shape[1])):
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise ValidationError(f"{where}.{key}", f"indices in [{arr.min()}, {arr.max()}]",
                                      f"indices in [0, {n - 1}] (shape {shape})")
        for key, arr in (("j", j), ("data", data)):
            if arr.size != i.size:
                raise ValidationError(f"{where}.{key}", f"{arr.size} entries", f"as many as i ({i.size})")
        if "unit" in c and not isinstance(c["unit"], str):
            raise ValidationError(f"{where}.unit", c["unit"], "a unit such as 'mV' or 'nS'")
        return nw.FromSparse(sp.coo_matrix((data, (i, j)), shape=tuple(shape)).tocsr(), c.get("unit"))
    connector = nw.CONNECTORS[kind](**args)
    connector.check(where)
    return connector


def _read_projection(name, pr, where: str) -> nw.Projection:
    _keys(pr, where, PROJECTION_KEYS)
    return nw.Projection(pr["pre"], pr["post"], _read_connector(pr["connector"], f"{where}.connector"),
                         _read_value(pr.get("weight"), f"{where}.weight"),
                         _read_value(pr.get("delay"), f"{where}.delay"),
                         pr.get("receptor"), pr.get("synapse"), name=name, plasticity=pr.get("plasticity"),
                         weight_precision=pr.get("weight_precision", "float64"),
                         weight_exp=pr.get("weight_exp"), num_weight_bits=pr.get("num_weight_bits"),
                         streams=pr.get("streams", "projection"))


def _read_monitor(name, m, where: str):
    kind = _kind(m, where, "type", MONITOR_KEYS)
    _keys(m, where, MONITOR_KEYS[kind])
    if kind == "spikes":
        return nw.SpikeMonitor(m["target"], name=name)
    if kind == "weights":
        synapses = m.get("synapses")
        if synapses is not None:
            synapses = _int_array(synapses, f"{where}.synapses")
        return nw.WeightMonitor(m["projection"], synapses, _read_value(m.get("interval"), f"{where}.interval"),
                                name=name)
    variables = m.get("variables", ("v",))
    if isinstance(variables, list):
        variables = tuple(variables)
    neurons = m.get("neurons")
    if neurons is not None:
        neurons = _int_array(neurons, f"{where}.neurons")
    return nw.StateMonitor(m["target"], variables, neurons, _read_value(m.get("interval"), f"{where}.interval"),
                           name=name)


def network_from_dict(d: dict) -> nw.Network:
    if not isinstance(d, dict):
        raise ValidationError("model", type(d).__name__, "a mapping at the top level")
    _keys(d, "", ((), TOP_KEYS))
    version = d.get("spikecore", FORMAT_VERSION)
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValidationError("spikecore", version, f"format version {FORMAT_VERSION}")
    name = d.get("name", "network")
    if not isinstance(name, str):
        raise ValidationError("name", name, "a name (a string)")
    net = nw.Network(name=name, seed=d.get("seed", 0), dt=_read_value(d.get("dt"), "dt"),
                     duration=_read_value(d.get("duration"), "duration"))
    readers = (("populations", _read_population), ("sources", _read_source), ("currents", _read_current),
               ("projections", _read_projection), ("monitors", _read_monitor))
    for section, read in readers:
        for name, entry in _section(d, section).items():
            net.add(read(name, entry, f"{section}.{name}"))
    return net


class DuplicateKey(Exception):
    """A mapping of a model file gives the same key twice (YAML and JSON would keep the last)."""


def _refuse_duplicate_json_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicate key '{key}': a key may appear once in a mapping")
        seen[key] = value
    return seen


def _yaml_loader():
    """yaml.SafeLoader (so ``!!python`` tags stay refused) that refuses duplicate keys.

    Keys merged in with ``<<: *anchor`` may be overridden, as YAML intends; a key
    written twice in the same mapping may not."""
    import yaml

    class ModelLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                lines = {}
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=True)
                    line = key_node.start_mark.line + 1
                    try:
                        first = lines.get(key)
                    except TypeError:   # an unhashable key: SafeLoader reports it
                        continue
                    if first is not None:
                        raise DuplicateKey(f"duplicate key '{key}' on line {line} (first given on line {first}):"
                                           " a key may appear once in a mapping")
                    lines[key] = line
            return super().construct_mapping(node, deep)

    return ModelLoader


def _load_text(path: Path) -> dict:
    import yaml

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ModelFileError(path, "no such file") from None
    except IsADirectoryError:
        raise ModelFileError(path, "is a directory, expected a model file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ModelFileError(path, f"cannot read: {e}") from None
    try:
        if path.suffix.lower() == ".json":
            return json.loads(text, object_pairs_hook=_refuse_duplicate_json_keys)
        return yaml.load(text, Loader=_yaml_loader())
    except DuplicateKey as e:
        raise ModelFileError(path, str(e)) from None
    except (yaml.YAMLError, json.JSONDecodeError) as e:
        first = str(e).strip().splitlines()
        raise ModelFileError(path, f"malformed {path.suffix.lstrip('.').upper()}: {' '.join(first[:3])}") from None


def load_network(path) -> nw.Network:
    """Read a model file (.yaml, .yml, .json, or any suffix in MODEL_LOADERS)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if path.is_dir():
        raise ModelFileError(path, "is a directory, expected a model file (.yaml, .yml, .json)")
    if suffix in MODEL_LOADERS:
        return MODEL_LOADERS[suffix](path)
    if suffix not in (".yaml", ".yml", ".json"):
        if not path.exists():
            raise ModelFileError(path, "no such file")
        raise ModelFileError(path, "unknown model format; expected .yaml, .yml, .json"
                             + "".join(f", {s}" for s in MODEL_LOADERS))
    d = _load_text(path)
    if d is None:
        raise ModelFileError(path, "empty model file")
    try:
        return network_from_dict(d)
    except SpikecoreError as e:
        raise ModelFileError(path, str(e)) from None


# Other formats register here: suffix -> function(path) -> Network / function(net, path).
MODEL_LOADERS: dict = {}
MODEL_SAVERS: dict = {}


def _plasticity_entry(si: dict, weight_dim) -> dict:
    """A projection's checked plasticity (SI) as a model file holds it: quantities as text."""
    rule = get_rule(si["rule"])
    out = {"rule": si["rule"]}
    for name, p in rule.params.items():
        v = si[name]
        if v is None:          # an optional parameter the rule did not use
            continue
        out[name] = v if isinstance(v, str) else _q(v, rule.dim_of(name, p, si, weight_dim))
    out.update(rule.file_entries(si))
    return out
