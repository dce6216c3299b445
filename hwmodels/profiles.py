"""Hardware profiles: a chip's precisions as data, plus the arithmetic they imply.

A ``Profile`` names the format of every resource a network uses on a chip:
weights (bits, sign, scale granularity, rounding), the membrane state
(bits, overflow, rounding, how many LSBs finer than a weight step it is),
thresholds, decay constants, spike counters and delays. The quantizers it
hands out (hwmodels.quantizers) are the arithmetic; hwmodels.passes applies
them to an IR graph and hwmodels.batch runs the state arithmetic.

Built-in profiles (``PROFILES``):

* ``ideal`` — float everywhere: the reference every report is measured against.
* ``loihi`` — Intel Loihi / Lava ``PyLifModelBitAcc`` (spikecore/models/loihi_lif.py): weights 8 bits
  with sign in [-256, 255] and a shared exponent per projection (``weight_exp``),
  LSBs dropped (floor); a_in << 6 into u, so v's LSB is 2^-6 of a weight step;
  u and v 24 bits (v saturates at +-(2^23 - 1), u wraps); du/dv 12-bit multipliers
  with truncation toward zero; vth a 17-bit mantissa << 6; delays <= 63 steps.
  The *exact* Loihi conversion (Lava's weight_exp choice, its int cast then LSB
  shift, timing of a hop) lives in ``hwmodels.loihi``, written for the Lava
  backend; ``exact="hwmodels.loihi:quantize"`` below makes hwmodels.passes.quantize
  hand the whole IR to it (``fn(ir)`` or ``fn(ir, num_weight_bits=b)``), giving an IR
  of ``loihi_lif`` integers for the Lava backend and the native Loihi mode.
* ``xylo`` — SynSense Xylo-like: 8-bit signed weights (per-channel scale, round),
  16-bit saturating state and thresholds, bit-shift decays x <- x - (x >> s) with a
  4-bit shift.
* ``spinnaker`` — SpiNNaker-like: 16-bit weights with a power-of-two shift per
  projection (round), s16.15 state (32-bit, 15 fractional bits, saturating),
  decays as u0.16 fixed-point multipliers, a 4-bit delay field (<= 15 steps).

User profiles come from YAML with the same fields (``load_profile``); see
``PROFILE_FIELDS`` and the ``xylo`` entry below for a complete example.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from spikecore.errors import ModelFileError, ValidationError

from .quantizers import (DecayQuantizer, CounterQuantizer, OVERFLOWS, ROUNDINGS, SCALES, StateQuantizer,
                         WeightQuantizer, check_bits)


@dataclass(frozen=True)
class WeightFormat:
    bits: int = 8
    signed: bool = True
    scale: str = "tensor"
    rounding: str = "round"
    symmetric: bool = False
    exponent_range: tuple = (-64, 64)


@dataclass(frozen=True)
class StateFormat:
    """The membrane v: ``bits`` wide, its LSB 2^-``shift`` of the weight step reaching it."""
    bits: int = 24
    overflow: str = "saturate"
    rounding: str = "truncate"
    shift: int = 0


@dataclass(frozen=True)
class Profile:
    """A chip's precisions. ``None`` for a format means float (no quantization)."""
    name: str
    description: str = ""
    weights: WeightFormat | None = None
    state: StateFormat | None = None
    threshold_bits: int | None = None        # mantissa bits of the threshold (in state LSBs << shift)
    decay: DecayQuantizer = field(default_factory=DecayQuantizer)
    counter_overflow: str = "saturate"
    max_delay_steps: int | None = None
    exact: str | None = None                  # "module:function" doing the exact IR conversion

    # -- the quantizers this profile implies -----------------------------------------
    @property
    def is_ideal(self) -> bool:
        return self.weights is None and self.state is None and self.decay.kind == "float"

    @property
    def max_weight_bits(self) -> int | None:
        return None if self.weights is None else self.weights.bits

    def weight_quantizer(self, bits: int | None = None, seed: int | None = None,
                         rounding: str | None = None) -> WeightQuantizer | None:
        """The weight format, optionally narrowed to ``bits`` (at most the profile's own).

        The ideal profile has no weight format; asked for ``bits`` it quantizes per
        tensor with rounding (the textbook uniform quantizer)."""
        fmt = self.weights
        if bits is not None:
            check_bits(bits, "weight bits", maximum=fmt.bits if fmt is not None else 32)
        if fmt is None:
            if bits is None:
                return None
            fmt = WeightFormat(bits=bits, scale="tensor", rounding="round")
        return WeightQuantizer(bits=fmt.bits if bits is None else bits, signed=fmt.signed, scale=fmt.scale,
                               rounding=rounding or fmt.rounding, symmetric=fmt.symmetric,
                               exponent_range=tuple(fmt.exponent_range), seed=seed)

    def state_quantizer(self, lsb: float) -> StateQuantizer | None:
        if self.state is None:
            return None
        return StateQuantizer(bits=self.state.bits, lsb=lsb, signed=True, overflow=self.state.overflow,
                              rounding=self.state.rounding)

    def counter(self, bits: int) -> CounterQuantizer:
        return CounterQuantizer(bits=bits, overflow=self.counter_overflow)

    def exact_pass(self):
        """The function named by ``exact`` (None when the profile has none)."""
        if not self.exact:
            return None
        module, _, func = self.exact.partition(":")
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            raise ValidationError(f"profile {self.name}.exact", self.exact,
                                  f"an importable module ({e})") from None
        fn = getattr(mod, func, None)
        if not callable(fn):
            raise ValidationError(f"profile {self.name}.exact", self.exact, f"a function '{func}' in {module}")
        return fn

    def to_dict(self) -> dict:
        out = {"name": self.name, "description": self.description}
        out["weights"] = None if self.weights is None else {f.name: _plain(getattr(self.weights, f.name))
                                                            for f in fields(WeightFormat)}
        out["state"] = None if self.state is None else {f.name: getattr(self.state, f.name) for f in fields(StateFormat)}
        out["threshold_bits"] = self.threshold_bits
        out["decay"] = {"kind": self.decay.kind, "bits": self.decay.bits}
        out["counter"] = {"overflow": self.counter_overflow}
        out["delay"] = {"max_steps": self.max_delay_steps}
        out["exact"] = self.exact
        return out


def _plain(v):
    return list(v) if isinstance(v, tuple) else v


IDEAL = Profile(name="ideal", description="float weights, state and decays (the reference)")

LOIHI = Profile(
    name="loihi",
    description="Loihi (Lava PyLifModelBitAcc): 8-bit+sign weights, shared exponent, 24-bit u/v, "
                "12-bit du/dv, 17-bit vth mantissa << 6, delays <= 63",
    weights=WeightFormat(bits=8, signed=True, scale="shared_exponent", rounding="floor",
                         exponent_range=(-8, 7)),
    state=StateFormat(bits=24, overflow="saturate", rounding="truncate", shift=6),
    threshold_bits=17,
    decay=DecayQuantizer(kind="multiplier", bits=12),
    counter_overflow="saturate",
    max_delay_steps=63,
    exact="hwmodels.loihi:quantize",   # Lava's exact integer conversion (the Lava backend's)
)

XYLO = Profile(
    name="xylo",
    description="Xylo-like: 8-bit signed weights per channel, 16-bit saturating state and thresholds, "
                "bit-shift decays (4-bit shift)",
    weights=WeightFormat(bits=8, signed=True, scale="channel", rounding="round"),
    state=StateFormat(bits=16, overflow="saturate", rounding="floor", shift=0),
    threshold_bits=16,
    decay=DecayQuantizer(kind="shift", bits=4),
    counter_overflow="saturate",
    max_delay_steps=None,
)

SPINNAKER = Profile(
    name="spinnaker",
    description="SpiNNaker-like: 16-bit weights with a power-of-two shift per projection, "
                "s16.15 state, u0.16 decay multipliers, 4-bit delay field",
    weights=WeightFormat(bits=16, signed=True, scale="shared_exponent", rounding="round"),
    state=StateFormat(bits=32, overflow="saturate", rounding="round", shift=0),
    threshold_bits=32,
    decay=DecayQuantizer(kind="fixed", bits=16),
    counter_overflow="saturate",
    max_delay_steps=15,
)

PROFILES = {p.name: p for p in (IDEAL, LOIHI, XYLO, SPINNAKER)}

PROFILE_FIELDS = {
    "name": "a name (letters, digits, '_', '-')",
    "description": "free text",
    "weights": "{bits, signed, scale: tensor|channel|shared_exponent, rounding: round|truncate|floor|stochastic, "
               "symmetric, exponent_range: [lo, hi]} or null for float",
    "state": "{bits, overflow: saturate|wrap, rounding: truncate|floor|round, shift} or null for float",
    "threshold_bits": "bits of the threshold mantissa, or null",
    "decay": "{kind: float|multiplier|shift|fixed, bits}",
    "counter": "{overflow: saturate|wrap}",
    "delay": "{max_steps: int or null}",
    "exact": "'module:function' for an exact IR conversion, or null",
}


def get_profile(name_or_path) -> Profile:
    """A built-in profile by name, a Profile as is, or a user profile from a YAML file."""
    if isinstance(name_or_path, Profile):
        return name_or_path
    if not isinstance(name_or_path, (str, Path)):
        raise ValidationError("profile", name_or_path, "a profile name or a YAML file")
    text = str(name_or_path)
    if text in PROFILES:
        return PROFILES[text]
    if text.endswith((".yaml", ".yml")):
        return load_profile(text)
    raise ValidationError("profile", text, "one of " + ", ".join(PROFILES) + ", or a .yaml profile file")


def parse_file(p: Path, parse, parse_error, what: str, language: str):
    """``parse`` of the text of ``p``; ModelFileError "no such <what>" when the file is
    missing, "not valid <language>: ..." when ``parse`` raises ``parse_error``."""
    try:
        return parse(p.read_text())
    except FileNotFoundError:
        raise ModelFileError(p, f"no such {what}") from None
    except parse_error as e:
        raise ModelFileError(p, f"not valid {language}: {e}") from None


def load_profile(path) -> Profile:
    import yaml

    p = Path(path)
    data = parse_file(p, yaml.safe_load, yaml.YAMLError, "profile file", "YAML")
    return profile_from_dict(data, source=str(p))


def profile_from_dict(data, source: str = "profile") -> Profile:
    """Validate a mapping (parsed YAML) into a Profile; errors name the field."""
    if not isinstance(data, dict):
        raise ValidationError(source, data, "a mapping of profile fields")
    for key in data:
        if key not in PROFILE_FIELDS:
            raise ValidationError(f"{source}.{key}", data[key], "a profile field: " + ", ".join(PROFILE_FIELDS))
    name = data.get("name")
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValidationError(f"{source}.name", name, PROFILE_FIELDS["name"])
    weights = _sub(data, "weights", WeightFormat, source)
    if weights is not None:
        check_bits(weights.bits, f"{source}.weights.bits", maximum=32)
        _choice(weights.scale, SCALES, f"{source}.weights.scale")
        _choice(weights.rounding, ROUNDINGS, f"{source}.weights.rounding")
        _bool(weights.signed, f"{source}.weights.signed")
        _bool(weights.symmetric, f"{source}.weights.symmetric")
        er = weights.exponent_range
        if not (isinstance(er, (list, tuple)) and len(er) == 2 and all(isinstance(x, int) for x in er) and er[0] <= er[1]):
            raise ValidationError(f"{source}.weights.exponent_range", er, "[low, high] integers, low <= high")
        weights = replace(weights, exponent_range=tuple(er))
    state = _sub(data, "state", StateFormat, source)
    if state is not None:
        check_bits(state.bits, f"{source}.state.bits", maximum=62)
        _choice(state.overflow, OVERFLOWS, f"{source}.state.overflow")
        _choice(state.rounding, ("truncate", "floor", "round"), f"{source}.state.rounding")
        if isinstance(state.shift, bool) or not isinstance(state.shift, int) or not 0 <= state.shift <= 32:
            raise ValidationError(f"{source}.state.shift", state.shift, "an integer in [0, 32]")
    tb = data.get("threshold_bits")
    if tb is not None:
        check_bits(tb, f"{source}.threshold_bits", maximum=62)
    dec = data.get("decay") or {"kind": "float"}
    if not isinstance(dec, dict):
        raise ValidationError(f"{source}.decay", dec, PROFILE_FIELDS["decay"])
    for k in dec:
        if k not in ("kind", "bits"):
            raise ValidationError(f"{source}.decay.{k}", dec[k], "kind or bits")
    _choice(dec.get("kind", "float"), ("float", "multiplier", "shift", "fixed"), f"{source}.decay.kind")
    if dec.get("kind", "float") != "float":
        check_bits(dec.get("bits"), f"{source}.decay.bits", maximum=32)
    decay = DecayQuantizer(kind=dec.get("kind", "float"), bits=dec.get("bits"))
    counter = data.get("counter") or {}
    if not isinstance(counter, dict) or set(counter) - {"overflow"}:
        raise ValidationError(f"{source}.counter", counter, PROFILE_FIELDS["counter"])
    overflow = _choice(counter.get("overflow", "saturate"), OVERFLOWS, f"{source}.counter.overflow")
    delay = data.get("delay") or {}
    if not isinstance(delay, dict) or set(delay) - {"max_steps"}:
        raise ValidationError(f"{source}.delay", delay, PROFILE_FIELDS["delay"])
    max_steps = delay.get("max_steps")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ValidationError(f"{source}.delay.max_steps", max_steps, "a positive integer or null")
    exact = data.get("exact")
    if exact is not None and (not isinstance(exact, str) or ":" not in exact):
        raise ValidationError(f"{source}.exact", exact, PROFILE_FIELDS["exact"])
    desc = data.get("description", "")
    if not isinstance(desc, str):
        raise ValidationError(f"{source}.description", desc, "text")
    return Profile(name=name, description=desc, weights=weights, state=state, threshold_bits=tb, decay=decay,
                   counter_overflow=overflow, max_delay_steps=max_steps, exact=exact)


def _sub(data, key, cls, source):
    val = data.get(key)
    if val is None:
        return None
    if not isinstance(val, dict):
        raise ValidationError(f"{source}.{key}", val, PROFILE_FIELDS[key])
    known = {f.name for f in fields(cls)}
    for k in val:
        if k not in known:
            raise ValidationError(f"{source}.{key}.{k}", val[k], f"one of {', '.join(sorted(known))}")
    return cls(**val)


def _choice(value, choices, fld):
    if value not in choices:
        raise ValidationError(fld, value, "one of " + ", ".join(choices))
    return value


def _bool(value, fld):
    if not isinstance(value, bool):
        raise ValidationError(fld, value, "true or false")
