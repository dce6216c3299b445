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
from ..errors import ModelFileError, SpikecoreError, ValidationError
from ..models import get_model
from .results import write_text_file

FORMAT_VERSION = 1
TOP_KEYS = {"spikecore", "name", "seed", "dt", "duration", "populations", "sources", "currents",
            "projections", "monitors"}


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


def _connector_dict(c) -> dict:
    if isinstance(c, (nw.AllToAll,)):
        return {"type": c.kind, "allow_self": c.allow_self}
    if isinstance(c, nw.OneToOne):
        return {"type": c.kind}
    if isinstance(c, nw.FixedProbability):
        return {"type": c.kind, "p": float(c.p), "allow_self": c.allow_self}
    if isinstance(c, nw.FixedIndegree):
        return {"type": c.kind, "k": int(c.k), "allow_self": c.allow_self}
    if isinstance(c, nw.FromIndices):
        return {"type": c.kind, "i": [int(x) for x in np.asarray(c.i)], "j": [int(x) for x in np.asarray(c.j)]}
    shape, i, j, data = c.coo()
    return {"type": c.kind, "shape": [int(shape[0]), int(shape[1])], "i": i.tolist(), "j": j.tolist(),
            "data": [float(x) for x in data], "unit": c.unit}


def network_to_dict(net: nw.Network) -> dict:
    d = {"spikecore": FORMAT_VERSION, "name": net.name, "seed": net.seed,
         "dt": _q(net.dt, u.TIME), "duration": _q(net.duration, u.TIME)}
    pops = {}
    for name, p in net.populations.items():
        spec = p.spec
        params = {}
        for key, value in p.params.items():
            if key in spec.receptor_params:
                dim = spec.receptor_params[key].dim
                params[key] = {r: _q(u.to_si(x, dim, key), dim) for r, x in value.items()}
            else:
                params[key] = _q(p.si_params[key], spec.params[key].dim)
        variables = p.state_variables()
        initial = {k: _value(v, variables[k]) for k, v in p.initial.items()}
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
        if pr.weight is not None:
            entry["weight"] = _value(pr.weight, nw._weight_dim(pr.weight, spec, "weight"))
        if pr.delay is not None:
            entry["delay"] = _value(pr.delay, u.TIME)
        for key in ("receptor", "synapse"):
            if getattr(pr, key) is not None:
                entry[key] = getattr(pr, key)
        projections[name] = entry
    d["projections"] = projections
    monitors = {}
    for name, m in net.monitors.items():
        if isinstance(m, nw.SpikeMonitor):
            monitors[name] = {"type": "spikes", "target": m.target_name}
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
def _read_value(v, where: str):
    """Plain data -> description value (string quantity, array quantity or distribution)."""
    if isinstance(v, dict):
        if "distribution" in v:
            kind = v["distribution"]
            cls = nw.DISTRIBUTIONS.get(kind)
            if cls is None:
                raise ValidationError(f"{where}.distribution", kind, "one of " + ", ".join(nw.DISTRIBUTIONS))
            fields = {k: x for k, x in v.items() if k != "distribution"}
            try:
                return cls(**fields)
            except TypeError:
                raise ValidationError(where, v, f"a {kind} distribution with fields "
                                      + ("low, high" if kind == "uniform" else "mean, std[, low, high]")) from None
        if "array" in v:
            unit = v.get("unit", "1")
            arr = np.asarray(v["array"], dtype=float)
            if unit == "1":
                return arr
            return u.Quantity(arr * u.parse_unit(unit).value, u.parse_unit(unit).dim)
        raise ValidationError(where, v, "a quantity string, {distribution: ...} or {array: [...], unit: ...}")
    if isinstance(v, list):
        return [_read_value(x, f"{where}[{k}]") for k, x in enumerate(v)]
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v


def _mapping(d, key, where):
    v = d.get(key) or {}
    if not isinstance(v, dict):
        raise ValidationError(f"{where}{key}", v, "a mapping of names to entries")
    return v


def _require(entry: dict, key: str, where: str):
    if not isinstance(entry, dict):
        raise ValidationError(where, entry, "a mapping")
    if key not in entry:
        raise ValidationError(f"{where}.{key}", None, f"a '{key}' entry")
    return entry[key]


def _read_connector(c, where):
    if not isinstance(c, dict) or "type" not in c:
        raise ValidationError(where, c, "a mapping with 'type': one of " + ", ".join(nw.CONNECTORS))
    kind = c["type"]
    args = {k: v for k, v in c.items() if k != "type"}
    cls = nw.CONNECTORS.get(kind)
    if cls is None:
        raise ValidationError(f"{where}.type", kind, "one of " + ", ".join(nw.CONNECTORS))
    if cls is nw.FromIndices:
        return nw.FromIndices(np.asarray(_require(c, "i", where), dtype=np.int64),
                              np.asarray(_require(c, "j", where), dtype=np.int64))
    if cls is nw.FromSparse:
        import scipy.sparse as sp
        shape = tuple(_require(c, "shape", where))
        m = sp.coo_matrix((np.asarray(c.get("data", np.ones(len(c["i"]))), dtype=float),
                           (np.asarray(c["i"], dtype=np.int64), np.asarray(c["j"], dtype=np.int64))), shape=shape)
        return nw.FromSparse(m.tocsr(), c.get("unit"))
    try:
        return cls(**args)
    except TypeError:
        import inspect
        names = [p for p in inspect.signature(cls).parameters]
        raise ValidationError(where, c, f"{kind} with fields {', '.join(names) or 'none'}") from None


def network_from_dict(d: dict) -> nw.Network:
    if not isinstance(d, dict):
        raise ValidationError("model", type(d).__name__, "a mapping at the top level")
    unknown = set(d) - TOP_KEYS
    if unknown:
        raise ValidationError(sorted(unknown)[0], d[sorted(unknown)[0]], "a top-level key: " + ", ".join(sorted(TOP_KEYS)))
    version = d.get("spikecore", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValidationError("spikecore", version, f"format version {FORMAT_VERSION}")
    net = nw.Network(name=d.get("name", "network"), seed=d.get("seed", 0), dt=d.get("dt"),
                     duration=d.get("duration"))
    for name, p in _mapping(d, "populations", "").items():
        where = f"populations.{name}"
        size = _require(p, "size", where)
        model = _require(p, "model", where)
        get_model(model, describable=True)
        params = {k: _read_value(v, f"{where}.params.{k}") if not isinstance(v, dict) or "array" in v
                  or "distribution" in v else {r: _read_value(x, f"{where}.params.{k}.{r}") for r, x in v.items()}
                  for k, v in (p.get("params") or {}).items()}
        initial = {k: _read_value(v, f"{where}.initial.{k}") for k, v in (p.get("initial") or {}).items()}
        extra = set(p) - {"size", "model", "params", "initial"}
        if extra:
            raise ValidationError(f"{where}.{sorted(extra)[0]}", p[sorted(extra)[0]], "size, model, params or initial")
        net.add(nw.Population(size, model, params, initial, name=name))
    for name, s in _mapping(d, "sources", "").items():
        where = f"sources.{name}"
        kind = _require(s, "type", where)
        if kind == "spike_times":
            trains = _require(s, "spike_times", where)
            net.add(nw.SpikeSource(spike_times=[_read_value(t, f"{where}.spike_times") for t in trains],
                                   size=s.get("size"), name=name))
        elif kind == "poisson":
            net.add(nw.PoissonSource(_require(s, "size", where), _read_value(_require(s, "rate", where), f"{where}.rate"),
                                     s.get("start"), s.get("stop"), name=name))
        else:
            raise ValidationError(f"{where}.type", kind, "spike_times or poisson")
    for name, c in _mapping(d, "currents", "").items():
        where = f"currents.{name}"
        net.add(nw.CurrentSource(_require(c, "target", where), c.get("amplitude"), c.get("steps"),
                                 c.get("neurons"), name=name))
    for name, pr in _mapping(d, "projections", "").items():
        where = f"projections.{name}"
        extra = set(pr) - {"pre", "post", "connector", "weight", "delay", "receptor", "synapse"}
        if extra:
            raise ValidationError(f"{where}.{sorted(extra)[0]}", pr[sorted(extra)[0]],
                                  "pre, post, connector, weight, delay, receptor or synapse")
        net.add(nw.Projection(_require(pr, "pre", where), _require(pr, "post", where),
                              _read_connector(_require(pr, "connector", where), f"{where}.connector"),
                              _read_value(pr.get("weight"), f"{where}.weight"),
                              _read_value(pr.get("delay"), f"{where}.delay"),
                              pr.get("receptor"), pr.get("synapse"), name=name))
    for name, m in _mapping(d, "monitors", "").items():
        where = f"monitors.{name}"
        kind = _require(m, "type", where)
        if kind == "spikes":
            net.add(nw.SpikeMonitor(_require(m, "target", where), name=name))
        elif kind == "state":
            net.add(nw.StateMonitor(_require(m, "target", where), tuple(m.get("variables", ("v",))),
                                    m.get("neurons"), m.get("interval"), name=name))
        else:
            raise ValidationError(f"{where}.type", kind, "spikes or state")
    return net


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
            return json.loads(text)
        return yaml.safe_load(text)
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
