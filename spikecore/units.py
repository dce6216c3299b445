"""Physical quantities at the boundary of spikecore.

Users pass quantities (``20 * ms``, ``"20 ms"``); everything below the
description layer (the IR, every backend, the engine) holds plain SI floats:
seconds, volts, amperes, siemens, farads, ohms, hertz. This module is the one
place where a scale factor appears: ``to_si`` checks the dimension once and
returns a float or a float array, and ``format_si`` writes one back out.

A dimension is a tuple of exponents over the SI base units (kg, m, s, A).
"""
from __future__ import annotations

import math
import re
from typing import Union

import numpy as np

from .errors import UnitError

Dim = tuple  # (kg, m, s, A) exponents

DIMENSIONLESS: Dim = (0, 0, 0, 0)
TIME: Dim = (0, 0, 1, 0)
FREQUENCY: Dim = (0, 0, -1, 0)
VOLTAGE: Dim = (1, 2, -3, -1)
CURRENT: Dim = (0, 0, 0, 1)
CONDUCTANCE: Dim = (-1, -2, 3, 2)
CAPACITANCE: Dim = (-1, -2, 4, 2)
RESISTANCE: Dim = (1, 2, -3, -2)
CHARGE: Dim = (0, 0, 1, 1)

DIM_NAMES = {
    DIMENSIONLESS: "1",
    TIME: "s",
    FREQUENCY: "Hz",
    VOLTAGE: "V",
    CURRENT: "A",
    CONDUCTANCE: "S",
    CAPACITANCE: "F",
    RESISTANCE: "ohm",
    CHARGE: "C",
}

# SI prefixes: the only scale factors in the project.
PREFIXES = {
    "f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "µ": 1e-6, "m": 1e-3,
    "": 1.0, "k": 1e3, "M": 1e6, "G": 1e9,
}
BASE_UNITS = {
    "s": TIME, "Hz": FREQUENCY, "V": VOLTAGE, "A": CURRENT, "S": CONDUCTANCE,
    "F": CAPACITANCE, "ohm": RESISTANCE, "Ohm": RESISTANCE, "Ω": RESISTANCE, "C": CHARGE,
}


def _dim_mul(a: Dim, b: Dim, sign: int = 1) -> Dim:
    return tuple(x + sign * y for x, y in zip(a, b))


def dim_name(dim: Dim) -> str:
    if dim in DIM_NAMES:
        return DIM_NAMES[dim]
    parts = [f"{u}^{e}" for u, e in zip(("kg", "m", "s", "A"), dim) if e]
    return " ".join(parts) or "1"


class Quantity:
    """A value (float or numpy array) in SI with a physical dimension."""

    __slots__ = ("value", "dim")
    __array_priority__ = 1000  # make ndarray * Quantity call our __rmul__

    def __init__(self, value, dim: Dim = DIMENSIONLESS):
        if isinstance(value, (list, tuple)):
            value = np.asarray(value, dtype=float)
        self.value = value
        self.dim = tuple(dim)

    # -- arithmetic ---------------------------------------------------------
    def _coerce(self, other) -> "Quantity":
        if isinstance(other, Quantity):
            return other
        return Quantity(other, DIMENSIONLESS)

    def __mul__(self, other):
        o = self._coerce(other)
        return _maybe_plain(Quantity(self.value * o.value, _dim_mul(self.dim, o.dim)))

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = self._coerce(other)
        return _maybe_plain(Quantity(self.value / o.value, _dim_mul(self.dim, o.dim, -1)))

    def __rtruediv__(self, other):
        o = self._coerce(other)
        return _maybe_plain(Quantity(o.value / self.value, _dim_mul(o.dim, self.dim, -1)))

    def _same_dim(self, other, op: str) -> "Quantity":
        o = self._coerce(other)
        if o.dim != self.dim:
            raise UnitError(f"'{op}' operand", o, f"a quantity in {dim_name(self.dim)}")
        return o

    def __add__(self, other):
        return Quantity(self.value + self._same_dim(other, "+").value, self.dim)

    __radd__ = __add__

    def __sub__(self, other):
        return Quantity(self.value - self._same_dim(other, "-").value, self.dim)

    def __rsub__(self, other):
        return Quantity(self._same_dim(other, "-").value - self.value, self.dim)

    def __neg__(self):
        return Quantity(-self.value, self.dim)

    def __pos__(self):
        return self

    def __abs__(self):
        return Quantity(abs(self.value), self.dim)

    def __pow__(self, n: int):
        return _maybe_plain(Quantity(self.value ** n, tuple(e * n for e in self.dim)))

    def _cmp(self, other, fn):
        return fn(self.value, self._same_dim(other, "comparison").value)

    def __lt__(self, o):
        return self._cmp(o, lambda a, b: a < b)

    def __le__(self, o):
        return self._cmp(o, lambda a, b: a <= b)

    def __gt__(self, o):
        return self._cmp(o, lambda a, b: a > b)

    def __ge__(self, o):
        return self._cmp(o, lambda a, b: a >= b)

    def __eq__(self, o):
        if not isinstance(o, Quantity):
            return NotImplemented
        return self.dim == o.dim and bool(np.all(np.asarray(self.value) == np.asarray(o.value)))

    def __hash__(self):
        return hash((float(np.sum(self.value)), self.dim))

    def __len__(self):
        return len(self.value)

    def __getitem__(self, item):
        return Quantity(np.asarray(self.value)[item], self.dim)

    def __array__(self, dtype=None):
        raise UnitError("quantity", self, "an explicit conversion: use to_si(q, unit) or q / unit")

    def __repr__(self):
        if np.ndim(self.value) == 0:
            return format_si(float(self.value), self.dim)
        return f"Quantity({np.asarray(self.value)!r}, '{dim_name(self.dim)}')"

    __str__ = __repr__


def _maybe_plain(q: Quantity):
    """A dimensionless result becomes a plain number, as in Brian2."""
    return q.value if q.dim == DIMENSIONLESS else q


def _unit(symbol: str, base: str) -> Quantity:
    return Quantity(PREFIXES[symbol[: len(symbol) - len(base)]], BASE_UNITS[base])


second = s = Quantity(1.0, TIME)
ms = Quantity(1e-3, TIME)
us = Quantity(1e-6, TIME)
Hz = Quantity(1.0, FREQUENCY)
kHz = Quantity(1e3, FREQUENCY)
volt = V = Quantity(1.0, VOLTAGE)
mV = Quantity(1e-3, VOLTAGE)
uV = Quantity(1e-6, VOLTAGE)
amp = A = Quantity(1.0, CURRENT)
nA = Quantity(1e-9, CURRENT)
pA = Quantity(1e-12, CURRENT)
siemens = S = Quantity(1.0, CONDUCTANCE)
uS = Quantity(1e-6, CONDUCTANCE)
nS = Quantity(1e-9, CONDUCTANCE)
pS = Quantity(1e-12, CONDUCTANCE)
farad = F = Quantity(1.0, CAPACITANCE)
nF = Quantity(1e-9, CAPACITANCE)
pF = Quantity(1e-12, CAPACITANCE)
ohm = Quantity(1.0, RESISTANCE)
kohm = Quantity(1e3, RESISTANCE)
Mohm = Quantity(1e6, RESISTANCE)
Gohm = Quantity(1e9, RESISTANCE)

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf"
_QUANTITY_RE = re.compile(rf"^\s*({_NUMBER})\s*\*?\s*([A-Za-zµΩ]*)\s*$")


def parse_unit(symbol: str, field: str = "unit") -> Quantity:
    """Return the Quantity of one unit symbol such as 'ms', 'nS', 'Mohm', 'Hz'."""
    for base in sorted(BASE_UNITS, key=len, reverse=True):
        if isinstance(symbol, str) and symbol.endswith(base) and symbol[: len(symbol) - len(base)] in PREFIXES:
            return _unit(symbol, base)
    raise UnitError(field, symbol, "a unit such as s, ms, mV, nS, pA, pF, Mohm, Hz")


def parse_quantity(text: str, field: str = "quantity") -> Quantity:
    """Parse '20 ms', '-49mV', '1.5e-3 s', '5 Hz' or a bare number (dimensionless)."""
    m = _QUANTITY_RE.match(text)
    if not m:
        raise UnitError(field, text, "a number followed by a unit, e.g. '20 ms' or '-49 mV'")
    number = float(m.group(1))
    symbol = m.group(2)
    if not symbol:
        return Quantity(number, DIMENSIONLESS)
    try:
        unit = parse_unit(symbol)
    except UnitError:
        raise UnitError(field, text, "a unit such as s, ms, mV, nS, pA, pF, Mohm, Hz") from None
    return Quantity(number * unit.value, unit.dim)


def to_si(value, dim: Dim, field: str, *, allow_array: bool = False):
    """Check that ``value`` has dimension ``dim`` and return its SI float (or array).

    Accepts a Quantity, a string like '20 ms', or a Brian2 quantity. A bare number
    is accepted only for dimensionless fields: a number with no unit where a unit
    is expected is the classic silent scale error.
    """
    if isinstance(value, str):
        q = parse_quantity(value, field)
    elif isinstance(value, Quantity):
        q = value
    elif hasattr(value, "dim") and hasattr(value, "dimensions") and hasattr(value, "__array__"):
        q = _from_brian2(value, field)
    elif isinstance(value, (list, tuple)) and value and all(isinstance(x, (str, Quantity)) for x in value):
        parts = [to_si(x, dim, field) for x in value]
        q = Quantity(np.asarray(parts, dtype=float), dim)
    else:
        q = Quantity(value, DIMENSIONLESS)
    if q.dim != tuple(dim):
        raise UnitError(field, value, f"a quantity in {dim_name(dim)} (e.g. '{_example(dim)}')")
    v = q.value
    if np.ndim(v) == 0:
        try:
            v = float(v)
        except (TypeError, ValueError):
            raise UnitError(field, value, f"a number in {dim_name(dim)}") from None
        if math.isnan(v):
            raise UnitError(field, value, f"a number in {dim_name(dim)}, not NaN")
        return v
    if not allow_array:
        raise UnitError(field, value, f"a single value in {dim_name(dim)}, not an array")
    try:
        arr = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise UnitError(field, value, f"numbers in {dim_name(dim)}") from None
    if np.isnan(arr).any():
        raise UnitError(field, value, f"numbers in {dim_name(dim)}, without NaN")
    return arr


def _from_brian2(value, field: str) -> Quantity:
    """Brian2 quantities carry exponents over (m, kg, s, A, K, mol, cd)."""
    d = value.dim
    exps = [int(d._dims[i]) for i in range(7)]
    if any(exps[4:]):
        raise UnitError(field, value, "a quantity without temperature, amount or luminosity")
    return Quantity(np.asarray(value).astype(float) if np.ndim(value) else float(value),
                    (exps[1], exps[0], exps[2], exps[3]))


_EXAMPLES = {TIME: "20 ms", VOLTAGE: "-65 mV", CURRENT: "100 pA", CONDUCTANCE: "10 nS",
             CAPACITANCE: "200 pF", RESISTANCE: "100 Mohm", FREQUENCY: "10 Hz", DIMENSIONLESS: "0.5"}


def _example(dim: Dim) -> str:
    return _EXAMPLES.get(tuple(dim), dim_name(dim))


def format_si(value: float, dim: Dim) -> str:
    """Write an SI float so that parse_quantity reads back the identical float."""
    unit = DIM_NAMES.get(tuple(dim))
    if unit is None:
        raise UnitError("dimension", dim, "one of " + ", ".join(DIM_NAMES.values()))
    if unit == "1":
        return repr(float(value))
    return f"{float(value)!r} {unit}"
