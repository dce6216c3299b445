"""Sweep axes over model-file values, the Cartesian grid, and each point's model and seed.

An axis is one ``--set`` argument::

    KEY=START:STOP:N          N values from START to STOP inclusive (np.linspace), N >= 1
    KEY=v1,v2,...             the listed values
    KEY1+KEY2=...             tied keys: one axis, every key set to the same value

KEY is a value's dotted path in the model file (``populations.exc.params.v_leak``,
``projections.exc_exc.weight``, ``sources.ext.rate``, ``populations.exc.initial.v.low``,
``projections.ee.connector.p``). Values take units as in model files (``-55 mV``,
``-55mV``, ``20 kHz``); a key whose file value has a unit needs values of the same
dimension, a key holding a number needs numbers (integers where the file has an
integer), a key holding a name (``model: lif_delta``) takes a list of names. The grid
is the Cartesian product of the axes, the first axis varying slowest.

Seeds: every point (and every replicate r = 0 .. seeds-1 of it) runs with its own
network seed, ``point_seed``: the first four bytes of the SHA-256, read as a
little-endian integer and masked to 31 bits, of the JSON text
``{"point": [[KEY, VALUE], ...], "replicate": r, "seed": MODEL_SEED}``
(keys sorted, every tied key listed, quantities as SI floats written by ``repr``, so
``-0.5 mV`` and ``-500 uV`` are the same point). The same model, point and replicate
always get the same seed, on any machine, in any order.
"""
from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import re
from dataclasses import dataclass

import numpy as np

from .. import units as u
from ..errors import ValidationError

TIE = "+"
#: Top-level entries that are not sweep values: the format, the name and the seed (use --seeds).
NOT_SWEPT = ("spikecore", "name", "seed")
#: Significant digits kept of a linspace value, so 0.1:0.3:3 gives 0.2, not 0.20000000000000004.
DIGITS = 12
SET_FORM = "KEY=START:STOP:N or KEY=v1,v2,... (KEY1+KEY2=... for keys that move together)"

_QUANTITY_RE = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*\*?\s*([A-Za-zµΩ]*)\s*$")


@dataclass(frozen=True)
class Axis:
    """One sweep axis: its keys (tied ones move together) and its values.

    ``values`` are what is written into the model file (``'-0.5 mV'``, ``0.1``, ``'lif_cuba'``);
    ``shown`` the same in ``unit`` as plain numbers (names stay names) for the table and plot.
    """
    keys: tuple
    values: tuple
    shown: tuple
    unit: str = ""
    si: tuple = ()

    @property
    def name(self) -> str:
        return TIE.join(self.keys)

    @property
    def column(self) -> str:
        return f"{self.name} ({self.unit})" if self.unit else self.name

    @property
    def numeric(self) -> bool:
        return all(isinstance(v, (int, float)) for v in self.shown)


@dataclass(frozen=True)
class Point:
    """One run of the grid: an index into it, one value per axis, the replicate and its seed."""
    index: int
    values: tuple
    shown: tuple
    replicate: int
    seed: int


# ----------------------------------------------------------------------------- the model's keys
def plain_model(d: dict) -> dict:
    """A copy of a loaded model-file mapping with no shared parts: YAML anchors (``&params`` /
    ``*params``) load as one object, and setting a key of one must not set the other."""
    return json.loads(json.dumps(d))


def model_keys(d: dict) -> list:
    """Every dotted path of a single value in the model mapping ``d`` (not lists, not the seed)."""
    out = []

    def walk(node, prefix):
        for k, v in node.items():
            path = f"{prefix}{k}"
            if isinstance(v, dict):
                walk(v, path + ".")
            elif not isinstance(v, list):
                out.append(path)

    walk({k: v for k, v in d.items() if k not in NOT_SWEPT}, "")
    return out


def lookup(d: dict, key: str):
    """The value at ``key`` in ``d``; an unknown key names the nearest valid one."""
    keys = model_keys(d)
    if key in keys:
        node = d
        for part in key.split("."):
            node = node[part]
        return node
    near = nearest_key(key, keys)
    hint = f"a value of the model file, e.g. '{near}' (the nearest)" if near else "a value of the model file"
    raise ValidationError("--set", key, hint)


def nearest_key(key: str, keys: list) -> str | None:
    if not keys:
        return None
    close = difflib.get_close_matches(key, keys, n=1, cutoff=0.0)
    return close[0] if close else None


def set_value(d: dict, key: str, value) -> None:
    node = d
    parts = key.split(".")
    for part in parts[:-1]:
        node = node[part]
    node[parts[-1]] = value


# ----------------------------------------------------------------------------- parsing --set
def _kind(value, key: str):
    """('quantity', dim) / ('int', None) / ('float', None) / ('name', None) of a model-file value."""
    if isinstance(value, bool):
        raise ValidationError("--set", key, "a key holding a number, a quantity or a name (this one is true/false)")
    if isinstance(value, int):
        return "int", None
    if isinstance(value, float):
        return "float", None
    if isinstance(value, str):
        try:
            q = u.parse_quantity(value, key)
        except ValidationError:
            return "name", None
        return ("quantity", q.dim) if q.dim != u.DIMENSIONLESS else ("float", None)
    raise ValidationError("--set", key, "a key holding a single value")


def _number(text: str, kind, dim, key: str, unit_hint: str | None):
    """(value in its unit, unit symbol, SI value) of one value of a --set."""
    m = _QUANTITY_RE.match(text)
    if not m:
        expected = f"a quantity in {u.dim_name(dim)} (e.g. '{unit_hint or u.format_si(1.0, dim)}')" \
            if kind == "quantity" else "a number"
        raise ValidationError(key, text, expected)
    number, symbol = float(m.group(1)), m.group(2)
    if kind != "quantity":
        if symbol:
            raise ValidationError(key, text, "a number without a unit (as in the model file)")
        if kind == "int" and number != int(number):
            raise ValidationError(key, text, "an integer (as in the model file)")
        return number, "", number
    if not symbol:
        raise ValidationError(key, text, f"a quantity with a unit in {u.dim_name(dim)}, e.g. '{text} {unit_hint}'")
    try:
        unit = u.parse_unit(symbol)
    except ValidationError:
        raise ValidationError(key, text, f"a quantity in {u.dim_name(dim)}") from None
    if unit.dim != tuple(dim):
        raise ValidationError(key, text, f"a quantity in {u.dim_name(dim)} (as in the model file)")
    return number, symbol, number * unit.value


def _clean(x: float) -> float:
    return float(f"{x:.{DIGITS}g}")


def parse_set(text: str, model: dict) -> Axis:
    """One ``--set`` argument against the model mapping -> an Axis."""
    if not isinstance(text, str) or "=" not in text:
        raise ValidationError("--set", text, SET_FORM)
    lhs, rhs = (s.strip() for s in text.split("=", 1))
    keys = tuple(k.strip() for k in lhs.split(TIE))
    if not lhs or any(not k for k in keys):
        raise ValidationError("--set", text, SET_FORM)
    if len(set(keys)) != len(keys):
        raise ValidationError("--set", lhs, "distinct keys")
    kinds = []
    for k in keys:
        kinds.append(_kind(lookup(model, k), k))
    if len(set(kinds)) != 1:
        raise ValidationError("--set", lhs, "tied keys holding the same kind of value (all in the same unit)")
    kind, dim = kinds[0]
    unit_hint = None
    if kind == "quantity":
        unit_hint = _QUANTITY_RE.match(lookup(model, keys[0])).group(2)
    if not rhs:
        raise ValidationError(lhs, rhs, "values: START:STOP:N or v1,v2,...")
    if ":" in rhs:
        if kind == "name":
            raise ValidationError(lhs, rhs, "a list of names v1,v2,... (a range needs numbers)")
        shown, unit = _parse_range(rhs, kind, dim, lhs, unit_hint)
    else:
        shown, unit = _parse_list(rhs, kind, dim, lhs, unit_hint)
    if kind == "quantity":
        scale = u.parse_unit(unit).value
        si = tuple(x * scale for x in shown)
        values = tuple(f"{x!r} {unit}" for x in shown)
    elif kind == "int":
        shown = tuple(int(x) for x in shown)
        si = values = shown
    else:
        si = values = shown
    return Axis(keys, values, tuple(shown), unit if kind == "quantity" else "", si)


def _parse_range(rhs, kind, dim, lhs, unit_hint):
    parts = [p.strip() for p in rhs.split(":")]
    if len(parts) != 3 or not all(parts):
        raise ValidationError(lhs, rhs, "a range START:STOP:N")
    try:
        n = int(parts[2])
    except ValueError:
        raise ValidationError(lhs, rhs, "a range START:STOP:N with N a whole number of values") from None
    if n < 1:
        raise ValidationError(lhs, rhs, "a range of at least one value (N >= 1)")
    a, unit, _ = _number(parts[0], kind, dim, lhs, unit_hint)
    b, unit_b, b_si = _number(parts[1], kind, dim, lhs, unit_hint)
    if kind == "quantity" and unit_b != unit:
        b = b_si / u.parse_unit(unit).value
    if n == 1 and a != b:
        raise ValidationError(lhs, rhs, "START equal to STOP for a range of one value (or N >= 2)")
    if n > 1 and a == b:
        raise ValidationError(lhs, rhs, "STOP different from START (an empty range)")
    shown = [_clean(x) for x in np.linspace(a, b, n)]
    if kind == "int" and any(x != int(x) for x in shown):
        raise ValidationError(lhs, rhs, "a range of integers (as in the model file)")
    return shown, unit


def _parse_list(rhs, kind, dim, lhs, unit_hint):
    items = [p.strip() for p in rhs.split(",")]
    if any(not p for p in items):
        raise ValidationError(lhs, rhs, "values separated by single commas, none empty")
    if kind == "name":
        shown, unit = items, ""
    else:
        parsed = [_number(p, kind, dim, lhs, unit_hint) for p in items]
        unit = parsed[0][1]
        scale = u.parse_unit(unit).value if kind == "quantity" else 1.0
        shown = [_clean(si / scale) if kind == "quantity" and sym != unit else x for x, sym, si in parsed]
    if len(set(shown)) != len(shown):
        raise ValidationError(lhs, rhs, "distinct values")
    return shown, unit


# ----------------------------------------------------------------------------- the grid
def grid(axes: list, model_seed: int, seeds: int = 1) -> list:
    """Every point of the Cartesian product of ``axes``, each with ``seeds`` replicates."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise ValidationError("--seeds", seeds, "a positive number of seeds per point")
    names = [k for a in axes for k in a.keys]
    if len(set(names)) != len(names):
        dup = next(k for k in names if names.count(k) > 1)
        raise ValidationError("--set", dup, "each key on one axis only")
    points = []
    for combo in itertools.product(*(range(len(a.values)) for a in axes)):
        values = tuple(a.values[i] for a, i in zip(axes, combo))
        shown = tuple(a.shown[i] for a, i in zip(axes, combo))
        assignment = sorted((k, a.si[i]) for a, i in zip(axes, combo) for k in a.keys)
        for r in range(seeds):
            points.append(Point(len(points), values, shown, r, point_seed(model_seed, assignment, r)))
    return points


def point_seed(model_seed: int, assignment: list, replicate: int) -> int:
    """The network seed of one point (module docstring)."""
    text = json.dumps({"point": [[k, v if isinstance(v, str) else repr(float(v))] for k, v in assignment],
                       "replicate": int(replicate), "seed": int(model_seed)}, sort_keys=True)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little") & 0x7FFFFFFF


def point_model(model: dict, axes: list, point: Point) -> dict:
    """The model mapping of one point: a copy of ``model`` with the point's values and seed set."""
    d = plain_model(model)
    for axis, value in zip(axes, point.values):
        for key in axis.keys:
            set_value(d, key, value)
    d["seed"] = point.seed
    return d

