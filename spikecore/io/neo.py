"""Results as Neo objects, for Elephant and the rest of the Neo ecosystem.

``result_to_neo(result)`` (also ``Result.to_neo()``) builds one ``neo.Block`` with
one ``Segment``:

* one ``SpikeTrain`` per neuron of every recorded population, times in s from
  t_start = 0 to t_stop = the simulated duration, named ``POP[INDEX]`` and
  annotated ``population`` and ``index``; a ``neo.Group`` per population holds
  its trains (``block.groups``);
* one ``AnalogSignal`` per state monitor and variable (samples x neurons), named
  ``MONITOR.VAR``, in volts (v, syn_*) or siemens (g_*), with its sampling period,
  annotated ``monitor``, ``population``, ``variable`` and ``neurons`` (also as the
  array annotation ``index``);
* block annotations: backend, model, seed, dt_s, duration_s, wall_s, build_s, n_synapses.

``write_neo(block, path)`` picks the Neo IO from the suffix. The default, ``.nix``,
is Neo's NixIO: the NIX format (HDF5) keeps every object, unit and annotation,
reads back in Python (Neo), MATLAB and C++, and needs only the pure-Python
``nixio`` package on top of h5py (already needed by NIR) — no system library.
``.mat`` (NeoMatlabIO, via scipy) suits MATLAB users but drops array annotations;
``.pkl`` (PickleIO) is Python-only and must not be loaded from untrusted sources.

Neighbours: spikecore.result (the Result and its files), spikecore.cli.export.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import units as u
from ..errors import ValidationError
from ..models import MODELS
from .results import OutputFile

# suffix -> (Neo IO class name, what it is)
NEO_FORMATS = {
    ".nix": ("NixIO", "NIX/HDF5, every annotation kept (default)"),
    ".mat": ("NeoMatlabIO", "MATLAB, no array annotations"),
    ".pkl": ("PickleIO", "Python pickle"),
    ".pickle": ("PickleIO", "Python pickle"),
}
DEFAULT_SUFFIX = ".nix"


def variable_units(var: str) -> str:
    """Neo units of a monitored state variable, from the model table."""
    if var == "v":
        return u.DIM_NAMES[u.VOLTAGE]
    for spec in MODELS.values():
        if spec.receptor_state_prefix and var.startswith(spec.receptor_state_prefix):
            return u.DIM_NAMES[spec.receptor_state_dim]
    return "dimensionless"


def result_to_neo(result):
    """A ``neo.Block`` holding the spikes and traces of ``result`` (module docstring)."""
    import neo
    import quantities as pq

    block = neo.Block(name=result.model or "spikecore", description=f"spikecore run on {result.backend}")
    for key, value in (("backend", result.backend), ("model", result.model), ("seed", result.seed),
                       ("dt_s", result.dt), ("duration_s", result.duration), ("wall_s", result.wall_s),
                       ("build_s", result.build_s), ("n_synapses", result.n_synapses)):
        if value is not None:   # NIX cannot store None
            block.annotations[key] = value.item() if isinstance(value, np.generic) else value
    seg = neo.Segment(name="run", index=0)
    block.segments.append(seg)
    t_stop = result.duration * pq.s
    for pop, (times, indices) in result.spikes.items():
        times = np.asarray(times, dtype=float)
        indices = np.asarray(indices, dtype=np.int64)
        order = np.lexsort((times, indices))
        times, indices = times[order], indices[order]
        bounds = np.searchsorted(indices, np.arange(result.sizes[pop] + 1))
        trains = []
        for k in range(result.sizes[pop]):
            st = neo.SpikeTrain(times[bounds[k]:bounds[k + 1]], units="s", t_start=0.0 * pq.s, t_stop=t_stop,
                                name=f"{pop}[{k}]", population=pop, index=k)
            trains.append(st)
        seg.spiketrains.extend(trains)
        block.groups.append(neo.Group(trains, name=pop, population=pop))
    for mon, tr in result.traces.items():
        t = np.asarray(tr["times"], dtype=float)
        period = (t[-1] - t[0]) / (t.size - 1) if t.size > 1 else result.dt
        neurons = np.asarray(tr["neurons"], dtype=np.int64)
        for var, block_values in tr["variables"].items():
            sig = neo.AnalogSignal(np.asarray(block_values, dtype=float), units=variable_units(var),
                                   sampling_period=period * pq.s, t_start=(t[0] if t.size else 0.0) * pq.s,
                                   name=f"{mon}.{var}", array_annotations={"index": neurons},
                                   monitor=mon, population=str(tr.get("target", "")), variable=var,
                                   neurons=[int(x) for x in neurons])
            seg.analogsignals.append(sig)
    return block


def neo_io(path):
    """The Neo IO class that writes ``path`` (by suffix; see NEO_FORMATS)."""
    import neo

    suffix = Path(path).suffix.lower()
    if suffix not in NEO_FORMATS:
        raise ValidationError("output file", str(path), "a name ending in " + ", ".join(
            f"{s} ({what})" for s, (_, what) in NEO_FORMATS.items() if s != ".pickle"))
    return getattr(neo.io, NEO_FORMATS[suffix][0])


def write_neo(block, path) -> Path:
    """Write a Block (or a Result, converted first) to ``path`` with the IO of its suffix."""
    from ..result import Result

    if isinstance(block, Result):
        block = result_to_neo(block)
    path = Path(path)
    cls = neo_io(path)
    with OutputFile(path, "path") as tmp:   # a fresh file (NixIO would append), replacing path when complete
        if cls.__name__ == "NixIO":
            with cls(str(tmp), mode="ow") as io:
                io.write_block(block)
        else:
            cls(str(tmp)).write_block(block)
    return path


def read_neo(path):
    """The first Block of a file written by ``write_neo``."""
    path = Path(path)
    cls = neo_io(path)
    if cls.__name__ == "NixIO":
        with cls(str(path), mode="ro") as io:
            return io.read_block()
    return cls(str(path)).read_block()


__all__ = ["result_to_neo", "write_neo", "read_neo", "neo_io", "NEO_FORMATS", "DEFAULT_SUFFIX"]
