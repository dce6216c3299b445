"""Loihi's learning engine as Lava 0.10 simulates it in fixed point, emulated bit for bit.

Lava's fixed-point learning model (``PyLearningDenseModelBitApproximate``, selected by
``Loihi1SimCfg``/``Loihi2SimCfg(select_tag="fixed_pt")``, class
``LearningConnectionModelBitApproximate`` in lava/magma/core/model/py/connection.py) is
itself only an approximation of the chip; this module claims fidelity to that model, not to
silicon. A ``LearningNet`` is written in Lava's own terms -- LIF groups (Lava's bit-accurate
``LIF``, or the reward-modulated ``RSTDPLIF`` neuron of Lava's three-factor tutorial), spike
inputs, static ``Dense`` connections and plastic ``LearningDense`` connections that carry a
Lava learning rule -- and ``LearningEmulator(net).run(n_steps)`` steps it as Lava does.

The rule is given as Lava's own description: a ``LoihiLearningRule`` instance
(``Loihi2FLearningRule``, ``Loihi3FLearningRule``, ``STDPLoihi``, ``RewardModulatedSTDP``)
or a ``LearningRuleSpec``, a plain dataclass with exactly its constructor's fields. Rule
strings are parsed into product series by Lava's parser (``compile_rule``), so the grammar
is Lava's; the parsed ``CompiledRule`` (products of factors, scaling mantissa/exponent) is
what the emulator evaluates, and needs nothing from Lava.

Reproduced as Lava does it (docs/loihi_learning.md lists each quirk with its test):

* traces: integer x1, x2 (per pre neuron) and y1..y3 (per post neuron), 7 bits; at each
  epoch's end the history of the epoch is rebuilt step by step -- decay ``exp(-1/tau) * x``
  floored and stochastically rounded up, then the impulse (integer part, fractional part in
  1/256, stochastically rounded, clipped to 0..127) at each neuron's last spike time of the
  epoch; a neuron's second and later spikes in an epoch add the impulse at once; graded
  spikes update x1 by Lava's ``GradedSpikeCfg`` (``graded_spike_cfg``: the impulse, or the
  payload halved -- overwritten, added with saturation, or added keeping the overflow);
* Lava's random streams: per connection two ``TraceRandom`` (x: seeds rng_seed, rng_seed+1;
  y: rng_seed+2, rng_seed+3), each a pair of ``numpy.random.default_rng`` drawing ONE number
  per advance shared by every neuron and trace, advanced twice per step; one
  ``ConnVarRandom`` per connection seeded 2 whatever rng_seed is, advanced once per epoch
  and shared by every synapse and by dw, dd and dt; the streams are drawn ahead of the run;
* the product series: each product's factors clipped to their widths, multiplied in int32
  (wrapping), shifted back to 15 bits, scaled by 2**s_exp, saturated, accumulated into the
  synaptic variable shifted left by 7; stochastic rounding to 8 bits; sign-mode saturation;
  ``clip_weights`` to 8 bits (weights), 0..255 (tag_2), -257..255 (tag_1);
* the connection's weights are truncated to num_weight_bits once, before the first step,
  with the sign mode given (Lava's default: mixed, not the one the matrix implies) and are
  not clipped then; learned weights keep all 8 bits.

Neighbours: the compiled step loop is _loihi_learning.pyx; Lava's side of every comparison is
benchmarks/lava_learning_reference.py; docs/loihi_learning.md is the user's page. The module
is long (~750 lines) because it keeps, side by side, the description classes, the rule
compilation and the numpy statement of each Lava function that the compiled loop must match.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

from ..errors import UnsupportedFeature, ValidationError
from ..plasticity.lava_rule import GRADED_SPIKE_CFGS
from .loihi import (MAX_DELAY, RANGES, SIGN_MODES, _integers, clip_weights, determine_sign_mode, sign_mode_code,
                    truncate_weights)

# lava/magma/core/learning/constants.py
W_TRACE = 7
W_TRACE_FRACTIONAL_PART = 8
W_ACCUMULATOR_U = 15
W_ACCUMULATOR_S = 16
W_S_MANT = 4
W_SYN_VAR_U = {"weights": 8, "tag_2": 8, "tag_1": 8}
W_SYN_VAR_S = {"weights": 9, "tag_2": 9, "tag_1": 9}
FACTOR_WIDTH = {"x0": 1, "x1": 7, "x2": 7, "y0": 1, "y1": 7, "y2": 7, "y3": 7,
                "w": 9, "d": 9, "t": 9, "C": 8}
SYN_VAR_OF = {"w": "weights", "d": "tag_2", "t": "tag_1"}
TARGETS = ("dw", "dd", "dt")
ENGINE = "native --format loihi (learning)"
KERNELS = ("compiled", "numpy")
FACTOR_CODES = {"x0": 0, "y0": 1, "x1": 2, "x2": 3, "y1": 4, "y2": 5, "y3": 6, "w": 7, "d": 8, "t": 9, "C": 10}
DEPENDENCY_CODES = {"x0": 0, "y0": 1, "u": 2}
CONN_VAR_SEED = 2                       # ConnVarRandom(seed_stochastic_rounding=2): ignores rng_seed
MAX_WEIGHT = 2 ** 23                    # |initial weight|: << 7 and the products stay inside int32
ACC_MIN, ACC_MAX = -(2 ** W_ACCUMULATOR_U) - 1, 2 ** W_ACCUMULATOR_U - 1
# GRADED_SPIKE_CFGS: lava/magma/core/learning/constants.py GradedSpikeCfg, in the order of its values 0..3
REGULAR_IMPULSE, OVERWRITE, ADD_WITH_SATURATION, ADD_WITHOUT_SATURATION = range(4)


def graded_spike_cfg_code(value, where: str) -> int:
    """Lava's ``GradedSpikeCfg`` value (0..3) of a name in GRADED_SPIKE_CFGS, an index or Lava's enum."""
    if isinstance(value, str) and value.lower() in GRADED_SPIKE_CFGS:
        return GRADED_SPIKE_CFGS.index(value.lower())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and 0 <= int(value) < 4:
        return int(value)
    raise ValidationError(where, value, "one of " + ", ".join(GRADED_SPIKE_CFGS))


# -- the learning rule ----------------------------------------------------------------------

@dataclass
class LearningRuleSpec:
    """Lava's ``LoihiLearningRule`` constructor, field for field (plus ``three_factor``:
    True for a ``Loihi3FLearningRule``, whose y traces come from the post neuron).
    ``rng_seed`` must be given: Lava draws a random one from numpy's global state."""
    dw: Optional[str] = None
    dd: Optional[str] = None
    dt: Optional[str] = None
    x1_impulse: float = 0.0
    x1_tau: float = 0.0
    x2_impulse: float = 0.0
    x2_tau: float = 0.0
    y1_impulse: float = 0.0
    y1_tau: float = 0.0
    y2_impulse: float = 0.0
    y2_tau: float = 0.0
    y3_impulse: float = 0.0
    y3_tau: float = 0.0
    t_epoch: int = 1
    rng_seed: Optional[int] = None
    three_factor: bool = False


@dataclass(frozen=True)
class Factor:
    state_var: str              # x0 y0 u x1 x2 y1 y2 y3 w d t C
    const: int = 0
    is_sgn: bool = False


@dataclass(frozen=True)
class Product:
    dependency: str             # x0 | y0 | u
    s_mantissa: int
    s_exp: int                  # Lava's stored exponent (the written one + 7), 0..15
    factors: tuple


@dataclass
class CompiledRule:
    """A learning rule as the emulator evaluates it: Lava's parsed product series."""
    products: dict              # target ("dw", "dd", "dt") -> tuple of Product, in Lava's order
    x_impulses: tuple           # (x1, x2) floats
    x_taus: tuple
    y_impulses: tuple           # (y1, y2, y3)
    y_taus: tuple
    t_epoch: int
    rng_seed: int
    decimate_exponent: Optional[int] = None
    three_factor: bool = False


def _from_lava_rule(rule) -> CompiledRule:
    products = {}
    for target, ps in rule.active_product_series.items():
        prods = []
        for p in ps.products:
            facs = tuple(Factor(f.state_var, int(f.const) if f.has_const() else 0, bool(f.is_sgn))
                         for f in p.factors)
            prods.append(Product(p.dependency, int(p.s_mantissa), int(p.s_exp), facs))
        products[target] = tuple(prods)
    from lava.magma.core.learning.learning_rule import Loihi3FLearningRule
    return CompiledRule(
        products=products,
        x_impulses=(rule.x1_impulse, rule.x2_impulse), x_taus=(rule.x1_tau, rule.x2_tau),
        y_impulses=(rule.y1_impulse, rule.y2_impulse, rule.y3_impulse),
        y_taus=(rule.y1_tau, rule.y2_tau, rule.y3_tau),
        t_epoch=int(rule.t_epoch), rng_seed=int(rule.rng_seed),
        decimate_exponent=rule.decimate_exponent,
        three_factor=isinstance(rule, Loihi3FLearningRule))


def lava_rule(spec: LearningRuleSpec):
    """The Lava rule object a ``LearningRuleSpec`` describes (needs lava-nc)."""
    _import_lava()
    from lava.magma.core.learning.learning_rule import Loihi2FLearningRule, Loihi3FLearningRule
    if spec.rng_seed is None:
        raise ValidationError("rng_seed", None, "an integer seed (Lava draws an unreproducible one when it is None)")
    kw = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec) if f.name != "three_factor"}
    try:
        if spec.three_factor:
            for k in ("y1_impulse", "y1_tau", "y2_impulse", "y2_tau", "y3_impulse", "y3_tau"):
                del kw[k]
            return Loihi3FLearningRule(**kw)
        return Loihi2FLearningRule(**kw)
    except ValueError as exc:      # Lava's parser and validators
        strings = {k: getattr(spec, k) for k in TARGETS if getattr(spec, k) is not None}
        raise ValidationError("learning rule", strings or spec, f"a rule Lava 0.10 accepts ({exc})") from exc


def _import_lava():
    from ..compat import lava_dataclasses
    lava_dataclasses.install()
    try:
        import lava.magma.core.learning.learning_rule  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise UnsupportedFeature(ENGINE, "rule strings", f"parsing them needs lava-nc 0.10 ({exc})") from exc


def compile_rule(rule) -> CompiledRule:
    """A ``CompiledRule`` from a Lava rule instance, a ``LearningRuleSpec`` or itself."""
    if isinstance(rule, CompiledRule):
        return rule
    if isinstance(rule, LearningRuleSpec):
        return _from_lava_rule(lava_rule(rule))
    if hasattr(rule, "active_product_series") and hasattr(rule, "rng_seed"):
        return _from_lava_rule(rule)
    raise ValidationError("learning_rule", type(rule).__name__,
                          "a Lava LoihiLearningRule, a LearningRuleSpec or a CompiledRule")


# -- the network ------------------------------------------------------------------------------

@dataclass
class LifGroup:
    """Lava's ``LIF`` (``PyLifModelBitAcc``); with ``reward`` the ``RSTDPLIF`` neuron of Lava's
    three-factor tutorial (``RSTDPLIFBitAcc``), whose y1 is
    ``floor(y1 * exp(-1/post_tau) + post_impulse * last_step_spikes)`` and y2 the third-factor
    input, both sent to its plastic connections with its spikes."""
    name: str
    size: int
    du: int
    dv: int
    vth: int
    bias_mant: np.ndarray = None
    bias_exp: np.ndarray = None
    u: np.ndarray = None
    v: np.ndarray = None
    reward: bool = False
    post_tau: float = 0.0           # RewardModulatedSTDP.post_trace_decay_tau
    post_impulse: float = 0.0       # RewardModulatedSTDP.post_trace_kernel_magnitude
    reward_model: str = "rstdp"     # "rstdp" (RSTDPLIFBitAcc) or "reward_lif" (REWARD_MODELS)
    y2_decay: float = 0.0           # reward_lif: y2's decay per step (0: y2 is this step's input)
    # ((t, bias_mant), ...): from Lava step t on the group's bias_mant is this (Lava's
    # bias_mant.set() after t - 1 steps; its LIF models rescale the bias every step)
    bias_changes: tuple = ()


REWARD_MODELS = ("rstdp", "reward_lif")
"""The reward neuron's models: ``rstdp`` is Lava's tutorial ``RSTDPLIFBitAcc`` (y1 floored every
step, y2 the input); ``reward_lif`` is the Lava backend's ``RewardLIF`` fixed-point model
(backends/_lava_models.py ``PyRewardLifModelFixed``): y1 = min(y1 * exp(-1/post_tau) +
post_impulse * last step's spikes, 127) and y2 = clip(y2 * y2_decay + input, -128, 127) kept
in double precision, each sent rounded half to even (numpy's rint) to the synapses."""


@dataclass
class SpikeInput:
    """Lava's source ``RingBuffer``: column k of ``data`` (size, n) is sent at step k + 1
    (cycling); binary, or graded values for a graded (num_message_bits > 0) connection."""
    name: str
    data: np.ndarray

    @property
    def size(self) -> int:
        return int(np.shape(self.data)[0])


@dataclass
class DenseConn:
    """Lava's ``Dense`` (``PyDenseModelBitAcc``); ``port`` "a_in" or "third_factor" (the
    reward neuron's ``a_third_factor_in``). With ``delays`` (an (n_post, n_pre) matrix of
    integers 0..63) Lava's ``DelayDense`` (``PyDelayDenseModelBitAcc``): a spike at step t
    through a synapse of delay d reaches the post group at step t + 1 + d, and the weight
    exponent shifts each step's sum of each delay separately (a floor per delay value).
    ``sparse``: the process is Lava's ``Sparse`` / ``DelaySparse`` (``PySparseModelBitAcc``,
    ``PyDelaySparseModelBitAcc``), whose arithmetic is the same (the emulator runs both alike;
    the flag says which process Lava's side of a comparison builds)."""
    name: str
    pre: str
    post: str
    weights: np.ndarray             # (n_post, n_pre) integers
    weight_exp: int = 0
    num_weight_bits: int = 8
    sign_mode: object = None        # None: determined from the matrix, as Lava does
    num_message_bits: int = 0
    port: str = "a_in"
    delays: Optional[np.ndarray] = None     # (n_post, n_pre) integers 0..63: DelayDense / DelaySparse
    sparse: bool = False


@dataclass
class LearningDenseConn:
    """Lava's ``LearningDense`` (``PyLearningDenseModelBitApproximate``)."""
    name: str
    pre: str
    post: str
    weights: np.ndarray             # (n_post, n_pre) integers
    rule: object                    # Lava rule, LearningRuleSpec or CompiledRule
    weight_exp: int = 0
    num_weight_bits: int = 8
    sign_mode: object = None        # None: Lava's learning model default, mixed
    tag_1: object = 0
    tag_2: object = 0
    num_message_bits: int = 0       # > 0: graded spikes (counts multiply the weights)
    # Lava's GradedSpikeCfg: how a pre spike's payload updates x1 (GRADED_SPIKE_CFGS: a name, its
    # index = Lava's value, or Lava's enum); other than use_regular_impulse, x1_impulse is 0
    graded_spike_cfg: object = "use_regular_impulse"


@dataclass
class LearningSparseConn(LearningDenseConn):
    """Lava's ``LearningSparse`` (``PyLearningSparseModelBitApproximate``): a LearningDense whose
    synaptic variables exist only at ``synapses`` (bool (n_post, n_pre); None: the nonzero
    weights), deployed with weights and tags as CSR matrices holding every synapse (explicit
    zeros included). As Lava 0.10 does it: the learning arithmetic is LearningDense's, evaluated
    for every entry and written back at the stored ones only; the initial weights are truncated
    with ``eliminate_zeros``, so a synapse whose initial weight truncates to 0 is dropped and
    never learns (its tags still do); everything off ``synapses`` stays 0. Lava's stock model
    crashes on sign modes excitatory and inhibitory (``np.maximum`` on the CSR matrix) and on a
    factor w, d or t (``np.clip`` of a CSR matrix); there this emulates the Lava backend's
    patched model, which does those operations on the stored values and evaluates the factors
    on the dense matrices, i.e. exactly the arithmetic above (docs/loihi_learning.md).
    ``keep_zero_weights``: the Lava backend's patched model, which truncates the initial weights
    without ``eliminate_zeros``, so every synapse stays stored and learns (Lava's own model drops
    those that truncate to 0)."""
    synapses: Optional[np.ndarray] = None
    keep_zero_weights: bool = False


@dataclass
class LifProbe:
    """Records ``var`` ("u" or "v") of group ``group``'s neurons ``index`` after every Lava step t
    with ``t % every == phase`` (the Lava backend's StateRecorder reads them so, in the
    post-management phase of step t). ``LearningResult.probes`` holds one (steps, values) pair
    per probe, in order: the Lava steps recorded and a (samples, len(index)) int64 array."""
    group: str
    var: str
    index: np.ndarray
    every: int = 1
    phase: int = 0


@dataclass
class LearningNet:
    groups: list
    inputs: list = field(default_factory=list)
    conns: list = field(default_factory=list)

    def size_of(self, name: str) -> int:
        for g in list(self.groups) + list(self.inputs):
            if g.name == name:
                return g.size
        raise ValidationError("pre/post", name, "the name of a group or input of the network")


# -- Lava's random streams, drawn ahead -------------------------------------------------------

def trace_random_streams(seed_decay: int, seed_impulse: int, n_advances: int):
    """A ``TraceRandom``'s numbers: element k is the value after k advances (k = 0: initial).
    Lava draws ``random(1)[0]`` and ``integers(0, 2**7, size=1, dtype=int)[0]`` one at a
    time; numpy's generators give the same numbers drawn in one call."""
    decay = np.random.default_rng(seed=seed_decay).random(n_advances + 1)
    impulse = np.random.default_rng(seed=seed_impulse).integers(0, 2 ** W_TRACE, size=n_advances + 1, dtype=int)
    return decay, impulse


def conn_var_random_stream(n_advances: int):
    """``ConnVarRandom()``'s numbers (seed 2 always: Lava never passes it rng_seed)."""
    return np.random.default_rng(seed=CONN_VAR_SEED).random(n_advances + 1)


def decompose_impulses(impulses) -> tuple:
    """LearningConnectionModelBitApproximate._decompose_impulses."""
    imp = np.asarray(impulses, dtype=float)
    ip = np.floor(imp)
    frac = np.round((imp - ip) * 2 ** W_TRACE_FRACTIONAL_PART)
    return ip.astype(int), frac.astype(int)


def _stochastic_round(values, random, probabilities):
    return (values + (random < probabilities).astype(int)).astype(int)


def _add_impulse(values, random, imp_int, imp_frac):
    new = values + imp_int
    new = _stochastic_round(new, random, imp_frac)
    return np.clip(new, 0, 2 ** W_TRACE - 1)


def _decay_trace(values, taus, random):
    integer_part = np.exp(-1 / taus) * values
    frac = integer_part % 1
    integer_part = np.floor(integer_part)
    return _stochastic_round(integer_part, random, frac)


def apply_products(products, acc: np.ndarray, args: dict, shape: tuple) -> np.ndarray:
    """LearningRuleApplierBitApprox.apply: ``acc`` (the synaptic variable << 7) plus every
    product, each and the sum saturated to [-2**15 - 1, 2**15 - 1] (Lava's bounds)."""
    result = acc
    for p in products:
        cur = np.ones(shape, dtype=np.int32)
        cur *= args[p.dependency]
        width_sum = 0
        for f in p.factors:
            width = FACTOR_WIDTH[f.state_var]
            width_sum += width
            if f.state_var in ("x0", "y0"):
                val = args[f.state_var] + f.const
            elif f.state_var in ("x1", "x2", "y1", "y2", "y3"):
                val = args[f"{f.state_var}_{p.dependency}"] + f.const
            elif f.state_var in SYN_VAR_OF:
                val = args[SYN_VAR_OF[f.state_var]] + f.const
                if f.is_sgn:
                    val = np.sign(val)
            else:                                   # C
                val = f.const
            val = np.clip(val, -(2 ** width), 2 ** width - 1)
            cur *= np.asarray(val).astype(np.int32)
        width_sum += W_S_MANT
        cur *= p.s_mantissa
        cur = np.right_shift(cur, max(0, width_sum - W_ACCUMULATOR_U))
        cur = np.left_shift(cur, p.s_exp)
        cur = np.clip(cur, ACC_MIN, ACC_MAX)
        result = np.clip(result + cur, ACC_MIN, ACC_MAX)
    return result


def _weights(c, n_pre: int, n_post: int) -> np.ndarray:
    w = np.asarray(c.weights)
    if w.shape != (n_post, n_pre):
        raise ValidationError(f"{c.name}.weights", w.shape, f"a (n_post, n_pre) = {(n_post, n_pre)} matrix")
    return _integers(w.ravel(), f"{c.name}.weights", -MAX_WEIGHT, MAX_WEIGHT, w.size).reshape(w.shape)


def _tags(c, key: str, shape: tuple) -> np.ndarray:
    t = np.asarray(getattr(c, key))
    if t.ndim and t.shape != shape:
        raise ValidationError(f"{c.name}.{key}", t.shape, f"a scalar or a {shape} matrix")
    t = np.broadcast_to(t, shape)
    return _integers(t.ravel(), f"{c.name}.{key}", -MAX_WEIGHT, MAX_WEIGHT, t.size).reshape(shape)


class _Plastic:
    """One LearningDense connection's state, stepped as LearningConnectionModelBitApproximate."""

    def __init__(self, c: LearningDenseConn, n_pre: int, n_post: int, n_steps: int):
        self.name, self.pre, self.post = c.name, c.pre, c.post
        self.rule = r = compile_rule(c.rule)
        w = _weights(c, n_pre, n_post)
        self.sign_mode = SIGN_MODES["mixed"] if c.sign_mode is None else sign_mode_code(c.sign_mode, f"{c.name}.sign_mode")
        # PyLearningDenseModelBitApproximate.run_spk, first step: truncate, never clip
        self.weights = truncate_weights(w.astype(np.int32), self.sign_mode, int(c.num_weight_bits))
        self.weight_exp = int(c.weight_exp)
        self.tag_1 = _tags(c, "tag_1", w.shape)
        self.tag_2 = _tags(c, "tag_2", w.shape)
        self.shape = (n_post, n_pre)
        self.graded = int(c.num_message_bits) > 0
        # LearningDense / LearningSparse.__init__: any other graded_spike_cfg sets x1_impulse = 0
        self.graded_cfg = graded_spike_cfg_code(c.graded_spike_cfg, f"{c.name}.graded_spike_cfg")
        self.masks = _sparse_masks(c, self) if isinstance(c, LearningSparseConn) else None
        self.a_buff = np.zeros(n_post, dtype=np.int64)
        self.x = np.zeros((2, n_pre), dtype=int)
        self.y = np.zeros((3, n_post), dtype=int)
        self.tx = np.zeros(n_pre, dtype=int)
        self.ty = np.zeros(n_post, dtype=int)
        self.x0 = np.zeros(n_pre, dtype=bool)
        self.y0 = np.zeros(n_post, dtype=bool)
        self.x_imp_int, self.x_imp_frac = decompose_impulses(
            r.x_impulses if self.graded_cfg == REGULAR_IMPULSE else (0.0, r.x_impulses[1]))
        self.y_imp_int, self.y_imp_frac = decompose_impulses(r.y_impulses)
        self.x_taus = np.array(r.x_taus)
        self.y_taus = np.array(r.y_taus)
        self.horizon = -1
        self.draw_streams(n_steps)
        self.k_trace = 0                 # advances of the trace generators so far
        self.k_cv = 0

    def draw_streams(self, n_steps: int) -> bool:
        """Lava's random streams drawn ahead for a run of ``n_steps`` steps from step 0 (two
        trace advances per step, one ConnVarRandom advance per epoch); a longer horizon draws
        them again: the same numbers first (numpy's generators), so a continued run goes on
        with the numbers one longer run would use. True when they were drawn anew."""
        if n_steps <= self.horizon:
            return False
        seed, n_adv = self.rule.rng_seed, 2 * n_steps
        self.xr_decay, self.xr_imp = trace_random_streams(seed, seed + 1, n_adv)
        self.yr_decay, self.yr_imp = trace_random_streams(seed + 2, seed + 3, n_adv)
        self.cv = conn_var_random_stream(n_steps // self.rule.t_epoch + 1)
        self.horizon = n_steps
        return True

    def spikes_in(self, s_in: np.ndarray, time_step: int):
        """a_buff for the next step (AbstractPyDenseModelBitAcc) from binary or graded pre spikes."""
        a = self.weights.dot(s_in) if self.graded else self.weights[:, s_in.astype(bool)].sum(axis=1)
        self.a_buff = np.left_shift(a, self.weight_exp) if self.weight_exp > 0 else np.right_shift(a, -self.weight_exp)

    def recv_traces(self, s_in: np.ndarray, bap: np.ndarray, y_from_post, time_step: int):
        r = self.rule
        within = time_step % r.t_epoch or r.t_epoch
        self._process_pre_spikes(s_in, within)
        self.k_trace += 1                 # _update_trace_randoms
        # _process_post_spikes
        self.y0[bap] = True
        multi_y = (self.ty > 0) & bap
        self.y[:, multi_y] = _add_impulse(self.y[:, multi_y], self.yr_imp[self.k_trace],
                                          self.y_imp_int[:, None], self.y_imp_frac[:, None])
        self.ty[bap] = within
        if y_from_post is not None:
            self.y[:] = y_from_post
        self.k_trace += 1

    def _process_pre_spikes(self, s_in: np.ndarray, within: int):
        """LearningConnectionModelBitApproximate._process_pre_spikes, per GradedSpikeCfg. The payload
        is ``np.round(s_in / 2).astype(np.uint8)`` (half to even: 1 -> 0, 3 -> 2; a binary
        connection hands over bools: 0); use_regular_impulse: a repeated spike in the epoch adds
        the impulses now; overwrite: x1 = payload at a spike; add_with_saturation: x1 = (x1 +
        payload) as uint8, clipped to 127 (every neuron's x1); add_without_saturation: (x1 +
        payload) as uint8, minus 127 where it passes 127, and only such a spike counts (its time
        in the epoch, x2's impulse)."""
        spiked = s_in.astype(bool)
        multi = (self.tx > 0) & spiked
        cfg = self.graded_cfg
        if cfg == REGULAR_IMPULSE:
            self.x[0, multi] = _add_impulse(self.x[0, multi], 0, self.x_imp_int[0], self.x_imp_frac[0])
        else:
            payload = (np.round(np.asarray(s_in) / 2).astype(np.int64) & 0xFF) if self.graded else 0
            if cfg == OVERWRITE:
                self.x[0, spiked] = np.broadcast_to(payload, spiked.shape)[spiked]
            else:
                sums = (self.x[0] + payload) & 0xFF                      # .astype(np.uint8)
                if cfg == ADD_WITH_SATURATION:
                    self.x[0] = np.clip(sums, 0, 2 ** W_TRACE - 1)
                else:
                    overflow = sums > 2 ** W_TRACE - 1
                    spiked, multi = spiked & overflow, multi & overflow
                    self.x[0] = np.where(overflow, sums - (2 ** W_TRACE - 1), sums)
        self.x[1, multi] = _add_impulse(self.x[1, multi], 0, self.x_imp_int[1], self.x_imp_frac[1])
        self.tx[spiked] = within

    def learn(self, time_step: int):
        """run_lrn, at the end of an epoch."""
        r = self.rule
        self.k_cv += 1
        self.x0 = self.tx > 0
        self.y0 = self.ty > 0
        k = self.k_trace
        xd, xi, yd, yi = self.xr_decay[k], self.xr_imp[k], self.yr_decay[k], self.yr_imp[k]
        T = r.t_epoch
        xh = np.zeros((T + 1,) + self.x.shape, dtype=int)
        yh = np.zeros((T + 1,) + self.y.shape, dtype=int)
        xh[0], yh[0] = self.x, self.y
        xa, ya = self.x_taus != 0, self.y_taus != 0
        for t in range(1, T + 1):
            xh[t][xa] = _decay_trace(xh[t - 1][xa], self.x_taus[xa][:, None], xd)
            yh[t][ya] = _decay_trace(yh[t - 1][ya], self.y_taus[ya][:, None], yd)
            ids = np.where(self.tx == t)[0]
            xh[t][:, ids] = _add_impulse(xh[t][:, ids], xi, self.x_imp_int[:, None], self.x_imp_frac[:, None])
            ids = np.where(self.ty == t)[0]
            yh[t][:, ids] = _add_impulse(yh[t][:, ids], yi, self.y_imp_int[:, None], self.y_imp_frac[:, None])
        self.x = xh[-1].copy()
        if not r.three_factor:
            self.y = yh[-1].copy()
        args = self._applier_args(xh, yh, time_step)
        rnd = self.cv[self.k_cv]
        new = {}
        for target, products in r.products.items():
            name = SYN_VAR_OF[target[1:]]
            var = getattr(self, name).copy()
            shift = W_ACCUMULATOR_S - W_SYN_VAR_S[name]
            var = apply_products(products, var << shift, args, self.shape)
            var = self._saturate_accumulator(name, var)
            exp_mant = 2 ** (W_ACCUMULATOR_U - W_SYN_VAR_U[name])
            ip = var / exp_mant
            frac = ip % 1
            ip = _stochastic_round(np.floor(ip), rnd, frac)
            var = (ip * exp_mant).astype(var.dtype) >> shift
            new[name] = self._saturate(name, var)
            if self.masks is not None:          # LearningSparse: written back at stored entries only
                new[name] = np.where(self.masks[name], new[name], getattr(self, name))
        for name, var in new.items():
            setattr(self, name, var)
        self.x0[:] = False
        self.y0[:] = False
        self.tx[:] = 0
        self.ty[:] = 0

    def _applier_args(self, xh, yh, time_step):
        r, tx, ty = self.rule, self.tx, self.ty
        idx_pre = np.arange(tx.size)
        idx_post = np.arange(ty.size)
        args = {"x0": self.x0[None, :], "y0": self.y0[:, None], "weights": self.weights,
                "tag_2": self.tag_2, "tag_1": self.tag_1, "u": 0}
        if r.decimate_exponent is not None:
            args["u"] = 1 if int(time_step / r.t_epoch) % 2 ** r.decimate_exponent == 0 else 0
        for i, n in enumerate(("x1", "x2")):
            args[f"{n}_x0"] = xh[tx, i, idx_pre][None, :]
            args[f"{n}_y0"] = xh[ty, i]
            args[f"{n}_u"] = xh[-1, i][None, :]
        for i, n in enumerate(("y1", "y2", "y3")):
            args[f"{n}_x0"] = yh[tx, i].T
            args[f"{n}_y0"] = yh[ty, i, idx_post][:, None]
            args[f"{n}_u"] = yh[-1, i][:, None]
        return args

    def settled(self) -> list:
        """Per synaptic variable (weights, tag_2, tag_1): whether every value is one that an
        update with no active product leaves unchanged (the compiled kernel then computes only
        synapses with an active dependency). Outside: initial weights beyond the sign mode's
        8-bit range (never clipped before the first epoch), tag_1 = -257 (its accumulator
        saturates at -2**15 - 1, which rounds to -256 most of the time)."""
        lo, hi = {SIGN_MODES["mixed"]: (-256, 255), SIGN_MODES["inhibitory"]: (-255, 0)}.get(self.sign_mode, (0, 255))

        def inside(a, lo, hi):
            return bool(a.size == 0 or (a.min() >= lo and a.max() <= hi))
        return [inside(self.weights, lo, hi), inside(self.tag_2, 0, 255), inside(self.tag_1, -256, 255)]

    def _saturate_accumulator(self, name, var):
        if name == "weights":
            if self.sign_mode == SIGN_MODES["excitatory"]:
                return np.maximum(0, var)
            if self.sign_mode == SIGN_MODES["inhibitory"]:
                return np.minimum(0, var)
            return var
        if name == "tag_2":
            return np.maximum(0, var)
        return var

    def _saturate(self, name, var):
        if name == "weights":
            return clip_weights(var, self.sign_mode, 8)
        if name == "tag_2":
            return np.clip(var, 0, 2 ** 8 - 1)
        return np.clip(var, -(2 ** 8) - 1, 2 ** 8 - 1)


def _sparse_masks(c: LearningSparseConn, p: "_Plastic") -> dict:
    """Where a LearningSparse's weights, tag_2 and tag_1 are stored (``LearningSparseConn``);
    checks that nothing lies off the synapses, and drops the synapses whose truncated initial
    weight is 0 from the weights' (Lava's ``truncate_weights`` calls ``eliminate_zeros``) unless
    ``keep_zero_weights`` (the Lava backend's patched model keeps them)."""
    syn = p.weights != 0 if c.synapses is None else np.asarray(c.synapses, dtype=bool)
    if syn.shape != p.shape:
        raise ValidationError(f"{c.name}.synapses", syn.shape, f"a (n_post, n_pre) = {p.shape} boolean matrix")
    for name in ("weights", "tag_1", "tag_2"):
        if (getattr(p, name)[~syn] != 0).any():
            raise ValidationError(f"{c.name}.{name}", "nonzero off the synapses", "0 where synapses is False")
    return {"weights": syn if c.keep_zero_weights else syn & (p.weights != 0), "tag_2": syn, "tag_1": syn}


class _Lif:
    """A LIF group, stepped as AbstractPyLifModelFixed (and RSTDPLIFBitAcc with ``reward``)."""

    def __init__(self, g: LifGroup):
        n = int(_integers(g.size, f"{g.name}.size", 1, 2 ** 31 - 1))
        self.name, self.size, self.reward = g.name, n, bool(g.reward)

        def arr(key, dtype):
            value = getattr(g, key)
            lo, hi = RANGES[key]
            return _integers(0 if value is None else value, f"{g.name}.{key}", lo, hi, n).astype(dtype)
        for key in ("du", "dv", "vth"):
            _integers(getattr(g, key), f"{g.name}.{key}", *RANGES[key])
        self.u, self.v = arr("u", np.int32), arr("v", np.int32)
        mant, self.bias_exp = arr("bias_mant", np.int16).astype(np.int32), arr("bias_exp", np.int16)
        self.bias = np.zeros(n, dtype=np.int32)
        self.set_bias_mant(mant)
        self.bias_changes = _bias_changes(g, n)
        self.fu = 4096 - (int(g.du) + 1)
        self.fv = 4096 - int(g.dv)
        self.vth = np.left_shift(np.int32(g.vth), 6)
        self.spikes = np.zeros(n, dtype=bool)
        if g.reward_model not in REWARD_MODELS:
            raise ValidationError(f"{g.name}.reward_model", g.reward_model, " or ".join(REWARD_MODELS))
        self.reward_lif = self.reward and g.reward_model == "reward_lif"
        if self.reward:
            self.y_decay = np.exp(-1 / g.post_tau)
            self.y_impulse = g.post_impulse
            self.y2_decay = float(g.y2_decay)
            self.y = np.zeros((3, n), dtype=np.int64)     # y1, y2, y3 as the neuron sends them
            self.yf = np.zeros((2, n), dtype=np.float64)  # reward_lif: y1, y2 before rounding

    def set_bias_mant(self, mant: np.ndarray):
        """AbstractPyLifModelFixed.scale_bias (every step in Lava): bias_mant shifted by bias_exp;
        in place (the compiled kernel reads this array)."""
        exp = self.bias_exp
        self.bias[:] = np.where(exp >= 0, np.left_shift(mant, exp), np.right_shift(mant, -exp))

    def step(self, a_in: np.ndarray, third: Optional[np.ndarray]):
        if self.reward_lif:   # PyRewardLifModelFixed.run_spk
            self.yf[0] = np.minimum(self.yf[0] * self.y_decay + self.y_impulse * self.spikes, 127.0)
            self.y[0] = np.rint(self.yf[0]).astype(np.int32)
        elif self.reward:   # y1 from the previous step's spikes, before the update
            self.y[0] = np.floor(self.y[0] * self.y_decay + self.y_impulse * self.spikes)
        du = np.int64(self.u) * self.fu
        du = np.int32(np.sign(du) * np.right_shift(np.abs(du), 12))
        cur = du + np.left_shift(a_in.astype(np.int32), 6)
        cur = np.where(cur > 2 ** 23, cur - 2 ** 24, cur)
        cur = np.where(cur <= -2 ** 23, cur + 2 ** 24, cur)
        self.u[:] = cur
        dv = np.int64(self.v) * self.fv
        dv = np.int32(np.sign(dv) * np.right_shift(np.abs(dv), 12))
        self.v[:] = np.clip(dv + self.u + self.bias, -(2 ** 23) + 1, 2 ** 23 - 1)
        self.spikes = self.v > self.vth
        self.v[self.spikes] = 0
        if self.reward_lif:
            self.yf[1] = np.clip(self.yf[1] * self.y2_decay + third, -128.0, 127.0)
            self.y[1] = np.rint(self.yf[1]).astype(np.int32)
        elif self.reward:
            self.y[1] = third


def _bias_changes(g: LifGroup, n: int) -> dict:
    """A group's bias changes checked: Lava step -> bias_mant (int32, one per neuron)."""
    lo, hi = RANGES["bias_mant"]
    out = {}
    for k, change in enumerate(g.bias_changes):
        if len(change) != 2:
            raise ValidationError(f"{g.name}.bias_changes[{k}]", change, "a pair (step, bias_mant)")
        t = int(_integers(change[0], f"{g.name}.bias_changes[{k}] step", 1, 2 ** 62))
        out[t] = _integers(change[1], f"{g.name}.bias_changes[{k}] bias_mant", lo, hi, n).astype(np.int16).astype(np.int32)
    return out


class _Static:
    """A Dense or Sparse connection (AbstractPyDenseModelBitAcc, AbstractPySparseModelBitAcc); with
    delays a DelayDense or DelaySparse (PyDelayDenseModelBitAcc, PyDelaySparseModelBitAcc)."""

    def __init__(self, c: DenseConn, n_pre: int, n_post: int):
        self.name, self.pre, self.post, self.port = c.name, c.pre, c.post, c.port
        w = _weights(c, n_pre, n_post)
        mode = sign_mode_code(c.sign_mode, f"{c.name}.sign_mode")
        if mode is None:
            mode = determine_sign_mode(w, False)
        w = clip_weights(w.astype(np.int32), mode, 8)
        self.weights = truncate_weights(w, mode, int(c.num_weight_bits))
        self.weight_exp = int(c.weight_exp)
        self.graded = int(c.num_message_bits) > 0
        self.a_buff = np.zeros(n_post, dtype=np.int64)
        self.delays = None if c.delays is None else _delays(c, n_pre, n_post)
        if self.delays is not None:
            # DelayDense.__init__: a_buff of max_delay + 1 columns; column 0 is sent each step.
            # Here a ring of those columns: row ``head`` is Lava's column 0
            self.ring = np.zeros((int(self.delays.max()) + 1, n_post), dtype=np.int64)
            self.head = 0

    def spikes_in(self, s_in: np.ndarray, time_step: int):
        if self.delays is not None:
            self._delayed_spikes_in(s_in)
            return
        a = self.weights.dot(s_in) if self.graded else self.weights[:, s_in.astype(bool)].sum(axis=1)
        self.a_buff = np.left_shift(a, self.weight_exp) if self.weight_exp > 0 else np.right_shift(a, -self.weight_exp)

    def _delayed_spikes_in(self, s_in: np.ndarray):
        """PyDelayDenseModelBitAcc.run_spk (lava/proc/dense/models.py; PyDelaySparseModelBitAcc.run_spk
        in lava/proc/sparse/models.py is the same arithmetic on CSR matrices): calc_act sums the
        weights of each delay value k apart (get_delay_wgts_mat), each sum is shifted by the weight
        exponent, then a_buff[:, 0] = 0, a_buff = np.roll(a_buff, -1) (column 0 was zeroed, so the
        flat roll moves every row's columns left by one) and a_buff += the shifted sums."""
        s = s_in if self.graded else s_in.astype(bool)
        n_slots = self.ring.shape[0]
        acc = np.stack([(np.where(self.delays == k, self.weights, 0) * s).sum(axis=1) for k in range(n_slots)])
        acc = np.left_shift(acc, self.weight_exp) if self.weight_exp > 0 else np.right_shift(acc, -self.weight_exp)
        self.ring[self.head] = 0
        self.head = (self.head + 1) % n_slots
        self.ring += np.roll(acc, self.head, axis=0)          # delay k lands in row head + k
        self.a_buff = self.ring[self.head].copy()             # sent next step (a_buff[:, 0])


def _delays(c: DenseConn, n_pre: int, n_post: int) -> np.ndarray:
    d = np.asarray(c.delays)
    if d.shape != (n_post, n_pre):
        raise ValidationError(f"{c.name}.delays", d.shape, f"a (n_post, n_pre) = {(n_post, n_pre)} matrix")
    # PyDelayDenseModelBitAcc.run_spk raises beyond 63 (Loihi 2's 6-bit delay)
    return _integers(d.ravel(), f"{c.name}.delays", 0, MAX_DELAY, d.size).reshape(d.shape)


@dataclass
class LearningResult:
    spikes: dict                 # group -> (n_steps, size) bool
    u: dict                      # group -> final int
    v: dict
    conns: dict                  # plastic connection -> {weights, tag_1, tag_2, x1, x2, y1, y2, y3}
    snapshots: list = field(default_factory=list)   # (step, {conn: weights}) every snapshot_every steps
    probes: list = field(default_factory=list)      # per LifProbe: (Lava steps, (samples, n) int64 values)


class LearningEmulator:
    """Runs a ``LearningNet`` as Lava's fixed-point models do (module docstring).

    ``run(n)`` may be called again: each call continues from where the last one stopped, as
    one longer Lava run would (the state, the random streams' positions, a DelayDense's pending
    inputs and a half-finished epoch carry over). Inputs cycle over their columns by absolute
    step, so a continued run needs inputs as long as the whole run: ``extend(net)`` hands over
    the same network described for the longer run (its inputs and bias changes)."""

    def __init__(self, net: LearningNet, kernel: str = "compiled"):
        if kernel not in KERNELS:
            raise ValidationError("kernel", kernel, " or ".join(KERNELS))
        self.kernel = kernel
        self._check(net)
        self.net = net
        self.step = 0                 # Lava steps run so far
        self._lifs = None             # the state, laid out by the first run (or ``lif``)
        self._compiled = None         # the compiled kernel's objects, kept between runs

    @staticmethod
    def _check(net: LearningNet) -> None:
        names = [g.name for g in net.groups] + [s.name for s in net.inputs]
        if len(set(names)) != len(names):
            raise ValidationError("groups/inputs", names, "distinct names")
        for c in net.conns:
            if not any(g.name == c.post for g in net.groups):
                raise ValidationError(f"{c.name}.post", c.post, "the name of a LIF group")
            if isinstance(c, DenseConn) and c.port not in ("a_in", "third_factor"):
                raise ValidationError(f"{c.name}.port", c.port, "a_in or third_factor")

    def extend(self, net: LearningNet) -> None:
        """Continue with ``net``: this network described for a longer run -- the same groups,
        inputs and connections (names and sizes), whose inputs' columns and groups' bias
        changes now reach further. Nothing of the state changes."""
        self._check(net)

        def shape(n):
            return ([(g.name, g.size) for g in n.groups], [(s.name, s.size) for s in n.inputs],
                    [(c.name, c.pre, c.post, type(c).__name__) for c in n.conns])
        if shape(net) != shape(self.net):
            raise ValidationError("net", "another network", "the network this emulator runs, for a longer run")
        self.net = net
        if self._lifs is not None:
            self._inputs = {s.name: np.asarray(s.data) for s in net.inputs}
            for g in net.groups:
                self._lifs[g.name].bias_changes = _bias_changes(g, self._lifs[g.name].size)

    def lif(self, name: str) -> "_Lif":
        """Group ``name``'s state (u, v: int32 arrays the kernels step in place)."""
        self._lay_out()
        if name not in self._lifs:
            raise ValidationError("group", name, "one of " + ", ".join(self._lifs))
        return self._lifs[name]

    def weights(self) -> dict:
        """Every plastic connection's weights now (int (n_post, n_pre) copies)."""
        self._lay_out()
        return {c.name: np.asarray(c.weights).copy() for c in self._plastics}

    def _lay_out(self) -> None:
        """The state of every group and connection, once."""
        if self._lifs is not None:
            return
        net = self.net
        self._lifs = lifs = {g.name: _Lif(g) for g in net.groups}
        self._inputs = {s.name: np.asarray(s.data) for s in net.inputs}
        statics, plastics = [], []
        for c in net.conns:
            n_pre, n_post = net.size_of(c.pre), net.size_of(c.post)
            if isinstance(c, LearningDenseConn):
                p = _Plastic(c, n_pre, n_post, 0)
                if p.rule.three_factor and not lifs[c.post].reward:
                    raise UnsupportedFeature(
                        ENGINE, f"{c.name}: a three-factor rule on post group {c.post!r}, not a reward neuron",
                        "make it LifGroup(reward=True) (Lava's RSTDPLIF); Lava's stock LearningLIF never "
                        "sends its y traces and the run hangs")
                plastics.append(p)
            else:
                statics.append(_Static(c, n_pre, n_post))
        self._statics, self._plastics = statics, plastics

    def run(self, n_steps: int, snapshot_every: int = 0, probes: tuple = ()) -> LearningResult:
        """Lava steps ``step + 1 .. step + n_steps``; spikes and probes of these steps, the
        state after them, snapshots at the steps t with ``t % snapshot_every == 0``."""
        self._lay_out()
        lifs, statics, plastics, inputs = self._lifs, self._statics, self._plastics, self._inputs
        t0, n_run = self.step, int(n_steps)
        for c in plastics:
            if c.draw_streams(t0 + n_steps) and self._compiled is not None:
                self._compiled.set_streams(c)
        for name, d in inputs.items():
            if d.ndim != 2 or (d.shape[1] == 0 and n_steps):
                raise ValidationError(f"inputs.{name}.data", d.shape, "a (size, n) array with n >= 1")
        probes = [_probe(pr, lifs, n_steps, t0) for pr in probes]
        spikes = {g: np.zeros((n_steps, lif.size), dtype=bool) for g, lif in lifs.items()}
        snapshots = []
        if self.kernel == "compiled":
            if self._compiled is None:
                self._compiled = _CompiledNet(lifs, statics, plastics, list(inputs))
            snapshots = self._compiled.run(inputs, t0, n_steps, spikes, snapshot_every, probes)
            n_steps = 0                                   # the loop below is the numpy kernel
        for n in range(t0, t0 + n_steps):
            t = n + 1                                     # Lava's time_step
            for lif in lifs.values():
                if t in lif.bias_changes:
                    lif.set_bias_mant(lif.bias_changes[t])
            for name, lif in lifs.items():
                a_in = np.zeros(lif.size, dtype=np.int64)
                third = np.zeros(lif.size, dtype=np.int64)
                for c in statics:
                    if c.post == name:
                        if c.port == "a_in":
                            a_in = a_in + c.a_buff
                        else:
                            third = third + c.a_buff
                for c in plastics:
                    if c.post == name:
                        a_in = a_in + c.a_buff
                lif.step(a_in, third)
                spikes[name][n - t0] = lif.spikes
            for pr in probes:                             # StateRecorder: after the step
                if t % pr["every"] == pr["phase"]:
                    pr["out"][pr["count"]] = getattr(lifs[pr["group"]], pr["var"])[pr["index"]]
                    pr["count"] += 1

            def source(pre):
                if pre in lifs:
                    return lifs[pre].spikes
                d = inputs[pre]
                return d[:, n % d.shape[1]]
            for c in statics:
                c.spikes_in(source(c.pre), t)
            for c in plastics:
                s_in = source(c.pre)
                c.spikes_in(s_in, t)
                post = lifs[c.post]
                c.recv_traces(s_in, post.spikes, post.y if c.rule.three_factor else None, t)
                if t % c.rule.t_epoch == 0:
                    c.learn(t)
            if snapshot_every and t % snapshot_every == 0:
                snapshots.append((t, {c.name: c.weights.copy() for c in plastics}))
        self.step = t0 + n_run
        conns = {c.name: {"weights": c.weights.copy(), "tag_1": c.tag_1.copy(), "tag_2": c.tag_2.copy(),
                          "x1": c.x[0].copy(), "x2": c.x[1].copy(),
                          "y1": c.y[0].copy(), "y2": c.y[1].copy(), "y3": c.y[2].copy()}
                 for c in plastics}
        return LearningResult(spikes, {g: l.u.astype(np.int64) for g, l in lifs.items()},
                              {g: l.v.astype(np.int64) for g, l in lifs.items()}, conns, snapshots,
                              [(pr["steps"], pr["out"]) for pr in probes])


def _probe(pr: LifProbe, lifs: dict, n_steps: int, t0: int = 0) -> dict:
    """A LifProbe's recording state: the steps of t0 + 1 .. t0 + n_steps it will record and the
    array it fills."""
    if pr.group not in lifs:
        raise ValidationError("probe.group", pr.group, "the name of a LIF group")
    if pr.var not in ("u", "v"):
        raise ValidationError("probe.var", pr.var, "u or v")
    every = int(_integers(pr.every, "probe.every", 1, 2 ** 31 - 1))
    phase = int(_integers(pr.phase, "probe.phase", 0, every - 1))
    index = np.asarray(pr.index, dtype=np.int64).ravel()
    _integers(index, "probe.index", 0, lifs[pr.group].size - 1, index.size)
    t = np.arange(t0 + 1, t0 + n_steps + 1, dtype=np.int64)
    steps = t[t % every == phase]
    return {"group": pr.group, "var": pr.var, "index": index, "every": every, "phase": phase, "steps": steps,
            "out": np.zeros((steps.size, index.size), dtype=np.int64), "count": 0}


def _encode_products(rule: CompiledRule) -> dict:
    """The product series as flat integer arrays for the compiled kernel (_loihi_learning.pyx)."""
    p_start, p_dep, p_mant, p_exp, p_shift, p_fstart = [0], [], [], [], [], [0]
    f_code, f_const, f_sgn, f_lo, f_hi = [], [], [], [], []
    for target in TARGETS:
        for p in rule.products.get(target, ()):
            width_sum = W_S_MANT
            for f in p.factors:
                width = FACTOR_WIDTH[f.state_var]
                width_sum += width
                f_code.append(FACTOR_CODES[f.state_var])
                f_const.append(int(f.const))
                f_sgn.append(int(f.is_sgn))
                f_lo.append(-(2 ** width))
                f_hi.append(2 ** width - 1)
            p_dep.append(DEPENDENCY_CODES[p.dependency])
            p_mant.append(int(p.s_mantissa))
            p_exp.append(int(p.s_exp))
            p_shift.append(max(0, width_sum - W_ACCUMULATOR_U))
            p_fstart.append(len(f_code))
        p_start.append(len(p_dep))

    def arr(x):
        return np.asarray(x, dtype=np.int64)
    return dict(p_start=arr(p_start), p_dep=arr(p_dep), p_mant=arr(p_mant), p_exp=arr(p_exp),
                p_shift=arr(p_shift), p_fstart=arr(p_fstart), f_code=arr(f_code), f_const=arr(f_const),
                f_sgn=arr(f_sgn), f_lo=arr(f_lo), f_hi=arr(f_hi))


class _CompiledNet:
    """The compiled kernel's objects (_loihi_learning.pyx) over the numpy states, built once and
    kept between runs: they hold what the numpy objects do not (a DelayDense's ring head, the
    epoch's spike flags x0, y0), and the states are stepped in place in the numpy arrays."""

    def __init__(self, lifs: dict, statics: list, plastics: list, input_order: list):
        from . import _loihi_learning as K

        self.order = order = list(lifs)
        self.lifs, self.plastics, self.input_order = lifs, plastics, input_order

        def c64(a):
            return np.ascontiguousarray(a, dtype=np.int64)
        self.clifs = []
        for name in order:
            l = lifs[name]
            if not l.reward:
                l.y = np.zeros((3, l.size), dtype=np.int64)
            l.spikes = np.zeros(l.size, dtype=np.uint8)
            l.u, l.v = np.ascontiguousarray(l.u, np.int32), np.ascontiguousarray(l.v, np.int32)
            l.bias = np.ascontiguousarray(l.bias, np.int32)            # set_bias_mant writes here
            self.clifs.append(K.Lif(l.u, l.v, l.bias, l.fu, l.fv, int(l.vth), l.spikes,
                                    l.reward, float(l.y_decay) if l.reward else 0.0,
                                    float(l.y_impulse) if l.reward else 0.0, l.y, l.reward_lif,
                                    l.y2_decay if l.reward else 0.0, l.yf if l.reward else None))

        def where(pre):
            return (order.index(pre), -1) if pre in lifs else (-1, input_order.index(pre))
        self.cstat = []
        for c in statics:
            c.weights = np.ascontiguousarray(c.weights, np.int32)
            c.a_buff = c64(c.a_buff)
            g, i = where(c.pre)
            if c.delays is not None:
                c.ring = c64(c.ring)
                self.cstat.append(K.DelayConn(c.weights, c64(c.delays), c.ring, c.weight_exp, c.graded, g, i,
                                              order.index(c.post), c.port == "third_factor"))
            else:
                self.cstat.append(K.Conn(c.weights, c.a_buff, c.weight_exp, c.graded, g, i, order.index(c.post),
                                         c.port == "third_factor"))
        self.cplas = []
        for c in plastics:
            r = c.rule
            c.weights = np.ascontiguousarray(c.weights, np.int32)
            c.a_buff, c.x, c.y, c.tx, c.ty = c64(c.a_buff), c64(c.x), c64(c.y), c64(c.tx), c64(c.ty)
            c.tag_1, c.tag_2 = c64(c.tag_1), c64(c.tag_2)
            g, i = where(c.pre)
            x0, y0 = c.x0.astype(np.uint8), c.y0.astype(np.uint8)
            self.cplas.append(K.Plastic(
                c.weights, c.a_buff, c.weight_exp, g, i, order.index(c.post), c.x, c.y, c.tx, c.ty, x0, y0,
                c.tag_1, c.tag_2, c64(c.x_imp_int), c64(c.x_imp_frac), c64(c.y_imp_int), c64(c.y_imp_frac),
                (c.x_taus != 0).astype(np.uint8), (c.y_taus != 0).astype(np.uint8),
                _decay_factors(c.x_taus), _decay_factors(c.y_taus),
                *self._streams(c), c.k_trace, c.k_cv, int(r.t_epoch),
                -1 if r.decimate_exponent is None else int(r.decimate_exponent),
                int(c.sign_mode), bool(r.three_factor), settled=c.settled(), graded=c.graded,
                graded_cfg=c.graded_cfg,
                mask=None if c.masks is None else np.ascontiguousarray(np.stack(
                    [c.masks[n].ravel() for n in ("weights", "tag_2", "tag_1")]).astype(np.uint8)),
                **_encode_products(r)))

    @staticmethod
    def _streams(c: "_Plastic") -> tuple:
        return (np.ascontiguousarray(c.xr_decay, np.float64), np.ascontiguousarray(c.xr_imp, np.int64),
                np.ascontiguousarray(c.yr_decay, np.float64), np.ascontiguousarray(c.yr_imp, np.int64),
                np.ascontiguousarray(c.cv, np.float64))

    def set_streams(self, c: "_Plastic") -> None:
        """A plastic connection's streams drawn for a longer horizon (the same numbers first)."""
        self.cplas[self.plastics.index(c)].set_streams(*self._streams(c))

    def run(self, inputs: dict, t0: int, n_steps: int, spikes: dict, snapshot_every: int, probes: list) -> list:
        """Lava steps t0 + 1 .. t0 + n_steps, in one kernel call per stretch with constant biases."""
        from . import _loihi_learning as K

        lifs, order = self.lifs, self.order
        datas = [np.ascontiguousarray(np.asarray(inputs[name]).T, dtype=np.int64) for name in self.input_order]
        rasters = [np.zeros((n_steps, lifs[name].size), dtype=np.uint8) for name in order]
        snaps = []
        cprobes = [K.Probe(order.index(pr["group"]), 0 if pr["var"] == "u" else 1, pr["index"], pr["every"],
                           pr["phase"], pr["out"]) for pr in probes]
        end = t0 + n_steps + 1
        bounds = sorted({t0 + 1, end, *[t for l in lifs.values() for t in l.bias_changes if t0 + 1 < t < end]})
        for a, b in zip(bounds[:-1], bounds[1:]):
            for l in lifs.values():
                if a in l.bias_changes:
                    l.set_bias_mant(l.bias_changes[a])
            K.run(self.clifs, self.cstat, self.cplas, datas, a - 1, b - a,
                  [r[a - 1 - t0:b - 1 - t0] for r in rasters], int(snapshot_every), snaps, cprobes)
        for name, r in zip(order, rasters):
            spikes[name][:] = r.astype(bool)
        for c, cp in zip(self.plastics, self.cplas):
            c.k_trace, c.k_cv = cp.k_trace, cp.k_cv
        return [(t, {c.name: w for c, w in zip(self.plastics, ws)}) for t, ws in snaps]


def _decay_factors(taus: np.ndarray) -> np.ndarray:
    """exp(-1/tau) per trace as numpy computes it in _decay_trace (1.0 where tau is 0: unused)."""
    taus = np.asarray(taus, dtype=float)
    with np.errstate(divide="ignore"):
        out = np.exp(-1 / np.where(taus != 0, taus, 1.0)[:, None])[:, 0]
    return np.ascontiguousarray(out, dtype=np.float64)
