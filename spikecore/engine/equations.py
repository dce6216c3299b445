"""The grid engine's compiler for equation-defined models: Brian2's statements -> numba cfuncs.

spikecore/models/equations.py has Brian2 parse a population's definition and returns the
statements Brian2's numpy target runs (``Analysis``: state update, threshold, reset, each
as loop-invariant scalar statements and per-neuron vector statements). Here they become
two C-callable functions of the signature every grid update has (``int32(voidptr)``, an
``sc_block *``, _kernel.h), compiled by numba for the engine's state type:

* the update (``sc_net.pop_update``): per neuron of the block, the state update, then the
  threshold condition; it writes 1.0 or 0.0 into the kernel's ``v`` of the population,
  whose common threshold (``v > 0.5`` and not refractory) then fires exactly where the
  condition held, and sets refractoriness as for every model;
* the post-threshold function (``sc_net.pop_reset``), called every step after the
  threshold: it adds the input due at this step to the target variables (Brian2 delivers
  ``on_pre`` after the threshold; a target flagged ``(unless refractory)`` takes none while
  the neuron is refractory or has just spiked), then runs the reset statements for the
  neurons that spiked (``sc_block.spikes``).

Where the variables live: targets (what projections add to) in the population's synaptic
channels ``syn`` (so inputs fold into them, and monitors read them, as receptor variables);
the other variables in ``xstate``, variable-major (``EquationModel.extra_state``).

Arithmetic: loop-invariant scalars that do not depend on t are evaluated here with numpy,
as Brian2's numpy target evaluates them, and written into the source as exact float
literals; per-neuron statements are Brian2's optimised expressions in Brian2's order,
compiled without fast-math, so + - * / give the same bits as Brian2 (numpy, or Cython
with -ffast-math off). Transcendental functions of state variables are libm's here;
numpy's own vectorised exp/log may differ from them in the last bit.

The block is read through a numpy record type built from the offsets the C compiler gave
``sc_block`` (``spikecore.engine._core.block_layout``), so the two cannot drift apart.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import UnsupportedFeature
from ._core import BLOCK_FIELDS, block_layout

_INT_FIELDS = ("m", "n", "stride", "n_rec", "first", "n_spikes")
_FLOAT_FIELDS = ("dt", "d0", "decay_mem", "vth")
#: numba-compilable versions of the Brian2 functions the engine accepts (models/equations.py FUNCTIONS)
_MATH = {"exp": "math.exp", "log": "math.log", "log10": "math.log10", "sqrt": "math.sqrt", "sin": "math.sin",
         "cos": "math.cos", "tan": "math.tan", "sinh": "math.sinh", "cosh": "math.cosh", "tanh": "math.tanh",
         "arcsin": "math.asin", "arccos": "math.acos", "arctan": "math.atan", "abs": "abs", "int": "int",
         "floor": "math.floor", "ceil": "math.ceil", "expm1": "math.expm1", "log1p": "math.log1p",
         "clip": "_sc_clip", "sign": "_sc_sign", "exprel": "_sc_exprel"}
_COMPILED: dict = {}     # generated source and precision -> numba cfunc (kept alive: the kernel holds addresses)


def block_dtype() -> np.dtype:
    """sc_block as a numpy record type, at the offsets the C compiler laid it out."""
    lay = block_layout()
    names = list(BLOCK_FIELDS)
    formats = [np.int64 if f in _INT_FIELDS else np.float64 if f in _FLOAT_FIELDS else np.uint64 for f in names]
    return np.dtype({"names": names, "formats": formats, "offsets": [lay[f] for f in names],
                     "itemsize": lay["sizeof"]})


class CompiledModel:
    """A population's compiled functions: ``update`` and ``reset`` (None without reset
    statements) are numba cfuncs; ``addresses`` what the kernel takes."""

    def __init__(self, update, reset, source):
        self.update, self.reset, self.source = update, reset, source

    @property
    def addresses(self) -> tuple:
        return self.update.address, (self.reset.address if self.reset is not None else 0)


def compile_model(model, dt: float, single: bool, where: str) -> CompiledModel:
    """Compile a population's EquationModel (spikecore.models.equations.for_population) for
    state type float32 (``single``) or float64 at step ``dt``."""
    an = model.analysis
    timed: set = set()    # scalars that depend on t: computed per step in the function
    literals = _scalar_values(an, dt, where, timed)
    targets = list(an.targets)
    others = [v for v in an.variables if v not in targets]
    conditional = an.unless_refractory if model.definition["refractory"] > 0 else frozenset()
    update = _update_source(an, literals, timed, targets, others, conditional, where)
    reset = _reset_source(an, literals, timed, targets, others, conditional, where)
    return CompiledModel(_cfunc(update, single), _cfunc(reset, single), update + "\n" + reset)


# ----------------------------------------------------------------------------- scalars
def _numpy_namespace():
    from brian2.codegen.generators.numpy_generator import NumpyCodeGenerator
    from brian2.core.functions import DEFAULT_FUNCTIONS
    ns = {"_numpy": np}
    for name, f in DEFAULT_FUNCTIONS.items():
        impl = f.implementations.get(NumpyCodeGenerator) if hasattr(f.implementations, "get") else None
        if impl is None:
            try:
                impl = f.implementations[NumpyCodeGenerator]
            except KeyError:
                continue
        code = impl.get_code(None)
        if callable(code):
            ns[name] = code
    ns.setdefault("int_", lambda x: np.asarray(x).astype(np.int64))
    return ns


def _identifiers(expr: str) -> set:
    from brian2.utils.stringtools import get_identifiers
    return get_identifiers(expr)


def _scalar_values(an, dt, where, timed: set) -> dict:
    """Every loop-invariant scalar that does not depend on t, evaluated as Brian2's numpy target
    does (constants and dt as float64, Brian2's numpy implementations of its functions)."""
    from brian2.codegen.generators.numpy_generator import NumpyNodeRenderer
    ns = _numpy_namespace()
    values = {name: np.float64(v) for name, v in an.constants.items()}
    values["dt"] = np.float64(dt)
    for block in (an.update, an.threshold, an.reset):
        for name, expr in block.scalar:
            if _identifiers(expr) & ({"t"} | timed):
                timed.add(name)
                continue
            code = NumpyNodeRenderer().render_expr(expr)
            try:
                values[name] = eval(code, ns, dict(values))   # noqa: S307 -- Brian2's generated code, as its numpy target runs it
            except Exception as e:   # noqa: BLE001
                raise UnsupportedFeature("native", f"the expression {expr!r} ({where})",
                                         f"expressions the engine evaluates ({e})") from None
    return values


# ----------------------------------------------------------------------------- source
def _render(expr: str, literals: dict) -> str:
    """A Brian2 expression as numba-compilable Python: constants as exact literals, functions mapped."""
    from brian2.parsing.rendering import NodeRenderer
    code = NodeRenderer().render_expr(expr)
    from brian2.utils.stringtools import word_substitute
    subs = {}
    for name in _identifiers(code):
        if name in literals and name != "dt":
            value = literals[name]
            if isinstance(value, (bool, np.bool_)):
                subs[name] = repr(bool(value))
            elif isinstance(value, (int, np.integer)):
                subs[name] = repr(int(value))
            else:
                subs[name] = f"({float(value)!r})" if math.isfinite(float(value)) else f"float({str(float(value))!r})"
        elif name in _MATH:
            subs[name] = _MATH[name]
    return word_substitute(code, subs)


def _statements(block, literals, state, conditional, where, indent) -> tuple:
    """Lines of a block's vector statements, and the state variables they write."""
    lines, written = [], set()
    pad = " " * indent
    for var, op, expr, split in block.vector:
        if var == "not_refractory":
            continue    # the engine's own: free_at <= n (_kernel_impl.h)
        names = _identifiers(expr) | ({split[0]} if split else set())
        for name in names:
            if name in ("lastspike", "i", "N"):
                raise UnsupportedFeature("native", f"{name} in the generated code ({where})",
                                         "equations of the state variables, t and dt")
        if split:
            rhs = f"({_render(split[1], literals)}) if {split[0]} else ({_render(split[2], literals)})"
        else:
            rhs = _render(expr, literals)
        code = f"{var} = {rhs}" if op in ("=", ":=") else f"{var} {op} {rhs}"
        if var in state:
            written.add(var)
            if var in conditional:
                code = f"if not_refractory:\n{pad}    {code}"
        lines.append(pad + code)
    return lines, written


def _header(literals, timed, block, targets, others) -> list:
    n_x, n_s = len(others), len(targets)
    lines = ["def _sc_fn(_sc_bp):",
             "    _sc_b = carray(_sc_bp, 1, dtype=_SC_BLOCK)[0]",
             "    _sc_m = _sc_b.m",
             "    _sc_n = _sc_b.n",
             "    _sc_stride = _sc_b.stride",
             "    dt = _sc_b.dt",
             "    t = _sc_n * dt",
             "    _sc_free = carray(_sc_i64(_sc_b.free_at), _sc_m)"]
    if n_x:
        lines.append(f"    _sc_x = carray(_sc_real(_sc_b.xstate), {n_x - 1} * _sc_stride + _sc_m)")
    if n_s:
        lines.append(f"    _sc_s = carray(_sc_real(_sc_b.syn), {n_s - 1} * _sc_stride + _sc_m)")
    return lines + _timed(block, literals, timed)


def _timed(block, literals, timed) -> list:
    return [f"    {name} = {_render(expr, literals)}" for name, expr in block.scalar if name in timed]


def _loads(targets, others) -> list:
    return ([f"{v} = _sc_s[{r} * _sc_stride + _sc_k]" for r, v in enumerate(targets)]
            + [f"{v} = _sc_x[{r} * _sc_stride + _sc_k]" for r, v in enumerate(others)])


def _stores(written, targets, others) -> list:
    return ([f"_sc_s[{r} * _sc_stride + _sc_k] = {v}" for r, v in enumerate(targets) if v in written]
            + [f"_sc_x[{r} * _sc_stride + _sc_k] = {v}" for r, v in enumerate(others) if v in written])


def _update_source(an, literals, timed, targets, others, conditional, where) -> str:
    state = set(an.variables)
    lines = _header(literals, timed, an.update, targets, others) + _timed(an.threshold, literals, timed)
    lines.append("    _sc_flag = carray(_sc_real(_sc_b.v), _sc_m)")
    lines.append("    for _sc_k in range(_sc_m):")
    lines.append("        not_refractory = _sc_free[_sc_k] <= _sc_n")
    lines += ["        " + x for x in _loads(targets, others)]
    body, written = _statements(an.update, literals, state, conditional, where, 8)
    lines += body
    if an.threshold.vector:
        cond, _ = _statements(an.threshold, literals, state, frozenset(), where, 8)
        lines += cond
        lines.append("        _sc_flag[_sc_k] = 1.0 if _cond else 0.0")
    else:
        lines.append("        _sc_flag[_sc_k] = 0.0")
    lines += ["        " + x for x in _stores(written, targets, others)]
    lines.append("    return 0")
    return "\n".join(lines)


def _reset_source(an, literals, timed, targets, others, conditional, where) -> str:
    """After the threshold, Brian2's schedule: this step's synaptic input into the targets (a
    target flagged (unless refractory) takes none while the neuron is refractory or has just
    spiked: Brian2's conditional write guards every writer of it), then the reset statements
    for the neurons that spiked."""
    state = set(an.variables)
    lines = _header(literals, timed, an.reset, targets, others)
    n_s = len(targets)
    if n_s:
        lines.append(f"    _sc_due = carray(_sc_real(_sc_b.due), {n_s - 1} * _sc_stride + _sc_m)")
        lines.append("    for _sc_k in range(_sc_m):")
        for r, var in enumerate(targets):
            at = f"{r} * _sc_stride + _sc_k"
            pad = "        "
            if var in conditional:
                lines.append(f"        if _sc_free[_sc_k] <= _sc_n:")
                pad += "    "
            lines.append(f"{pad}_sc_s[{at}] = _sc_s[{at}] + _sc_due[{at}]")
            lines.append(f"        _sc_due[{at}] = 0")
    if not an.reset.vector:
        return "\n".join(lines + ["    return 0"])
    lines.append("    _sc_spk = carray(_sc_i32(_sc_b.spikes), _sc_b.n_spikes)")
    lines.append("    for _sc_j in range(_sc_b.n_spikes):")
    lines.append("        _sc_k = _sc_spk[_sc_j] - _sc_b.first")
    lines += ["        " + x for x in _loads(targets, others)]
    body, written = _statements(an.reset, literals, state, frozenset(), where, 8)
    lines += body
    lines += ["        " + x for x in _stores(written, targets, others)]
    lines.append("    return 0")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- numba
def _pointer_intrinsic(target_type):
    from numba import types
    from numba.extending import intrinsic

    @intrinsic
    def as_pointer(typingctx, addr):
        sig = types.CPointer(target_type)(types.uint64)

        def codegen(context, builder, signature, args):
            return builder.inttoptr(args[0], context.get_value_type(types.CPointer(target_type)))
        return sig, codegen
    return as_pointer


_HELPERS: dict = {}


def _helpers(single: bool) -> dict:
    if single in _HELPERS:
        return _HELPERS[single]
    import numba
    from numba import types

    @numba.njit(error_model="numpy")
    def clip(x, lo, hi):
        return lo if x < lo else hi if x > hi else x

    @numba.njit(error_model="numpy")
    def sign(x):
        return (x > 0) - (x < 0)

    @numba.njit(error_model="numpy")
    def exprel(x):
        return 1.0 if x == 0 else math.expm1(x) / x

    real = types.float32 if single else types.float64
    _HELPERS[single] = {"math": math, "carray": numba.carray, "_SC_BLOCK": block_dtype(),
                        "_sc_real": _pointer_intrinsic(real), "_sc_i64": _pointer_intrinsic(types.int64),
                        "_sc_i32": _pointer_intrinsic(types.int32), "_sc_clip": clip, "_sc_sign": sign,
                        "_sc_exprel": exprel}
    return _HELPERS[single]


def _cfunc(source: str, single: bool):
    key = (source, single)
    if key not in _COMPILED:
        import numba
        from numba import types
        glb = dict(_helpers(single))
        exec(compile(source, "<spikecore equation model>", "exec"), glb)   # noqa: S102 -- our generated source
        _COMPILED[key] = numba.cfunc(types.int32(types.voidptr), error_model="numpy")(glb["_sc_fn"])
    return _COMPILED[key]
