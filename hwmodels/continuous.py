"""The continuous-time reference of the temporal (time-to-first-spike) code, run in precise mode.

hwmodels.conversion builds the TTFS classifier on a tick grid: a b-bit clock *is*
the simulation grid, so every spike time is already quantized and nothing there says
what an ideal, infinite-resolution clock would have produced. This module builds
the same perfect-integrator construction in continuous time and runs it through the
native engine's exact event-driven mode (spikecore.engine.precise, ``timing=
"precise"``): inputs spike at (1 - x) T exactly, control spikes at their exact
times, the hop delay is a continuous value, and every neuron's first spike comes back
as an exact time. Against it, ``clock_times`` + ``timing_error`` measure what a b-bit
clock, timing jitter and clock drift do to the output spike times and the decision
(hwmodels.precision puts that in the precision report).

Construction (window T, layer l with origin O_l, O_0 = 0, hop delay d, edge width
e = EDGE_FRACTION * T; O_{l+1} = O_l + T + e + d is where layer l's spikes are read and
layer l+1's window starts). Neurons are ``lif_cuba`` with tau_mem = tau_syn = 2^56 T
(exp(-dt/tau) == 1.0: perfect integrators, v' = (THETA/T) * current), threshold THETA,
refractory for the whole run, two receptors so the large edge currents never cancel
against the small ones in one floating-point sum:

* ``main``: data w_ji from input i (arrives O_l + t_i + d), bias b_j and gate -M_j
  (M_j = sum of j's positive data weights and bias) from the gate spike at O_l, so v
  cannot reach THETA inside the window (current <= 0 there) and v(O_l + T + d) =
  THETA (a_j - M_j); at O_l + T the pulse spike adds M_j - S_j (S_j = sum of the data
  weights and bias: the current becomes 0); at O_l + T + e the ramp spike adds 1.
* ``pulse``: +M_j T/e from the pulse spike, -M_j T/e from the ramp spike: v gains
  THETA M_j in the e before the ramp starts, so v(O_{l+1}) = THETA a_j and the neuron
  crosses THETA at exactly O_{l+1} + T (1 - a_j) (a_j <= 1). Hidden layers: a kick
  of 2 (A_j + 1) T/e (A_j = sum of |data weights| + |bias|) arriving at
  O_{l+1} + T - e fires every neuron that has not fired within e/2: ReLU.

What this reproduces, up to e = 2^-20 T (122 ns of a 128 ms window; the finest clock the
report sweeps has 2^-12 T ticks, 256 e) and the float rounding of the edge width (about
M_j ulp(dt) / e relative: picoseconds): the float model with every hidden activation
clipped to [0, 1] and every output clipped at 1 (``clipped_activations``,
``construction_times``; a spike cannot come before its window opens). Output a_j >= 1
fire inside the pulse, in an order set by M_j, so ``ContinuousResult.decide`` reads
times < 0 as 0: saturated outputs tie, as they do on the grid. Hidden a_j > 1 arrive up
to e before the next window and so count as at most 1 + e/T. Hidden a_j <= 0 fire
within e of the window's end (x in [0, e/T]). Outputs with a_j < 1 - ``horizon`` do not
fire in the run (the grid runs the same horizon, 2 T: a_j >= -1). The precise mode takes
a spike-source time within spikecore.ir.GRID_TOLERANCE (1e-6) of a step of the grid to
be on it, so the step is kept at T/16 or less (MAX_DT_FRACTION) to leave the edge 15
times that tolerance.

Grid read-out (``clock_times``): the grid network of hwmodels.conversion with a b-bit
clock reads layer l at tick temporal_origins[l+1] (the next window's start), so a
spike at tick f means time (f - temporal_origins[l+1]) * tick after the read origin,
the same frame as the reference's O_{l+1}.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikecore import units as u
from spikecore.errors import ValidationError
from spikecore.network import FromIndices, Network, Population, Projection, SpikeSource

from . import conversion as conv
from .coding import TemporalCode, check_features, _check_noise
from .quantizers import PPM

#: Width of the pulse that pays the gate back and of the ReLU kick, as a fraction of the window.
EDGE_FRACTION = 2.0 ** -20
#: Hop delay as a fraction of the window (any value: the precise mode takes delays >= dt).
HOP_FRACTION = 1.0 / 16.0
#: Largest precise-mode step, as a fraction of the window: the edge (2^-20 T) must stay well above
#: the engine's grid tolerance (spikecore.ir.GRID_TOLERANCE = 1e-6 dt, within which a source
#: spike time is taken to be on the grid), or the pulse would close the instant it opens.
MAX_DT_FRACTION = 1.0 / 16.0
#: Time after a layer's read origin the run covers, in windows (output activations down to 1 - HORIZON).
HORIZON = 2.0
#: Samples simulated per precise-mode run (the samples are copies of the network side by side).
CHUNK = 128


def _check_model(model):
    if not isinstance(model, conv.FloatModel):
        raise ValidationError("model", type(model).__name__, "a hwmodels.conversion.FloatModel (normalised)")
    return model


def _check_window(window) -> float:
    if isinstance(window, bool) or not isinstance(window, (int, float, np.floating)) or not (
            math.isfinite(window) and window > 0):
        raise ValidationError("window", window, "a positive, finite window in seconds")
    return float(window)


def _check_positive(value, field, what) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not (
            math.isfinite(value) and value > 0):
        raise ValidationError(field, value, what)
    return float(value)


def continuous_origins(n_layers: int, window: float = conv.WINDOW, hop: float | None = None) -> list:
    """O_0 .. O_L (s): window starts of every layer; O_{l+1} is where layer l's spikes are read."""
    T = _check_window(window)
    d = T * HOP_FRACTION if hop is None else hop
    step = T * (1.0 + EDGE_FRACTION) + d
    return [l * step for l in range(n_layers + 1)]


def input_times(X, window: float = conv.WINDOW, jitter: float = 0.0, drift_ppm: float = 0.0,
                seed: int = 0) -> np.ndarray:
    """(S, D) input spike times (s after the window opens): (1 - x) T (1 + drift) + jitter, within [0, T].

    The jitter draws are those of ``TemporalCode(bits, jitter, drift_ppm, seed=seed)``'s clock
    (hwmodels.quantizers.ClockQuantizer: the same generator, the same standard normals), so
    that clock reads round(t / tick) of exactly these times: the grid input is this one quantized."""
    T = _check_window(window)
    _check_noise(jitter, drift_ppm)
    t = (1.0 - check_features(X)) * T * (1.0 + drift_ppm * PPM)
    if jitter > 0:
        t = t + jitter * np.random.default_rng(seed).normal(0.0, 1.0, size=t.shape)
    return np.clip(t, 0.0, T)


def _check_times(t, n_inputs, window) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] != n_inputs:
        raise ValidationError("input_times", f"array of shape {t.shape}", f"(samples, {n_inputs}) spike times")
    if not np.isfinite(t).all() or t.min() < 0 or t.max() > window:
        bad = t[~np.isfinite(t) | (t < 0) | (t > window)][0]
        raise ValidationError("input_times", f"a time of {bad!r} s",
                              f"finite times within the window [0, {window:g}] s")
    return t


def build_continuous_network(model: conv.FloatModel, times, window: float = conv.WINDOW,
                             hop: float | None = None, dt: float | None = None, horizon: float = HORIZON,
                             name: str = "ttfs_continuous") -> Network:
    """The continuous-time TTFS classifier of a *normalised* model for S samples side by side.

    ``times`` (S, D): every input's spike time in [0, window] (``input_times``). Population
    ``hid{l}``/``out`` holds sample s's neuron j at index s * n + j. ``hop``: the delay of
    every projection (default window/16, any value >= dt); ``dt``: the precise mode's step
    (default: the smaller of hop and window/16), which does not change the result. Run it with ``timing="precise"``."""
    _check_model(model)
    T = _check_window(window)
    d = T * HOP_FRACTION if hop is None else _check_positive(hop, "hop", "a positive delay in seconds")
    step = min(d, T * MAX_DT_FRACTION) if dt is None else _check_positive(dt, "dt", "a positive step in seconds")
    if step > d * (1 + 1e-12) or step > T * MAX_DT_FRACTION * (1 + 1e-12):
        raise ValidationError("dt", step, f"a step no longer than the hop delay ({d!r} s; precise mode needs "
                                          f"delays >= dt) nor window/16 ({T * MAX_DT_FRACTION!r} s)")
    horizon = _check_positive(horizon, "horizon", "a positive number of windows")
    t_in = _check_times(times, model.n_inputs, T)
    S, D = t_in.shape
    L = len(model.layers)
    e = EDGE_FRACTION * T
    O = continuous_origins(L, T, d)
    duration = O[L] + horizon * T
    net = Network(name=name, seed=0, dt=u.Quantity(step, u.TIME), duration=u.Quantity(duration, u.TIME))
    net.add(SpikeSource(times=u.Quantity(t_in.ravel(), u.TIME), indices=np.arange(S * D, dtype=np.int64),
                        size=S * D, name="inp"))
    # control neurons, 4 per layer: gate O_l, pulse O_l + T, ramp O_l + T + e, kick O_{l+1} + T - e - d
    ref_t = []
    for l in range(L):
        ref_t += [O[l], O[l] + T, O[l] + T + e, O[l + 1] + T - e - d]
    net.add(SpikeSource(times=u.Quantity(np.array(ref_t), u.TIME), indices=np.arange(4 * L, dtype=np.int64),
                        size=4 * L, name="ref"))
    tau = u.Quantity(conv.NO_LEAK_TICKS * T, u.TIME)
    params = {"tau_mem": tau, "tau_syn": {"main": tau, "pulse": tau}, "v_leak": u.Quantity(0.0, u.VOLTAGE),
              "v_threshold": u.Quantity(conv.THETA, u.VOLTAGE), "v_reset": u.Quantity(0.0, u.VOLTAGE),
              "t_refrac": u.Quantity(2.0 * duration, u.TIME)}
    G = conv.THETA * conv.NO_LEAK_TICKS       # weight of one unit of current: slope THETA / T
    delay = u.Quantity(d, u.TIME)
    pre, n_pre = "inp", D
    samples = np.arange(S)
    for l, (W, b) in enumerate(model.layers):
        post = "out" if l == L - 1 else f"hid{l + 1}"
        n = W.shape[0]
        net.add(Population(S * n, "lif_cuba", dict(params), name=post))
        # data: block diagonal, sample s's inputs to sample s's neurons
        i, j = np.meshgrid(np.arange(n_pre), np.arange(n), indexing="ij")
        i, j = i.ravel(), j.ravel()
        pi = (samples[:, None] * n_pre + i[None, :]).ravel()
        pj = (samples[:, None] * n + j[None, :]).ravel()
        net.add(Projection(pre, post, FromIndices(pi, pj), weight=u.Quantity(np.tile(G * W[j, i], S), u.VOLTAGE),
                           delay=delay, receptor="main", name=f"w{l + 1}"))
        M = np.sum(np.maximum(W, 0.0), axis=1) + np.maximum(b, 0.0)
        Ssum = np.sum(W, axis=1) + b
        A = np.sum(np.abs(W), axis=1) + np.abs(b)
        P = M / EDGE_FRACTION
        controls = [(4 * l, "main", b - M, "gate"), (4 * l + 1, "main", M - Ssum, "pulse_main"),
                    (4 * l + 1, "pulse", P, "pulse"), (4 * l + 2, "main", np.ones(n), "ramp"),
                    (4 * l + 2, "pulse", -P, "pulse_end")]
        if l < L - 1:
            controls.append((4 * l + 3, "pulse", 2.0 * (A + 1.0) / EDGE_FRACTION, "kick"))
        for ref, receptor, w, kind in controls:
            nz = np.flatnonzero(w != 0)
            if nz.size == 0:
                continue
            pj = (samples[:, None] * n + nz[None, :]).ravel()
            net.add(Projection("ref", post, FromIndices(np.full(pj.size, ref), pj),
                               weight=u.Quantity(np.tile(G * w[nz], S), u.VOLTAGE), delay=delay, receptor=receptor,
                               name=f"{kind}{l + 1}"))
        pre, n_pre = post, n
    return net


@dataclass
class ContinuousResult:
    """First-spike times of every layer, per sample: ``times[l]`` (S, n_l) in s after layer l's
    read origin O_{l+1} (T (1 - a) for an activation a <= 1); NaN: no spike in the run."""
    times: list
    window: float
    inputs: np.ndarray          # (S, D) input spike times used
    origins: list               # O_0 .. O_L (s)
    hop: float

    @property
    def output(self) -> np.ndarray:
        return self.times[-1]

    def decide(self) -> np.ndarray:
        """(S, C) mask of the outputs that fired first; a spike before the read origin (activation
        above 1) counts as at it, so saturated outputs tie; all tie when none fired."""
        return first_winners(self.output)


def first_winners(t) -> np.ndarray:
    """(S, C) mask of the earliest times (NaN: no spike; negative times count as 0)."""
    t = np.asarray(t, float)
    f = np.where(np.isnan(t), np.inf, np.maximum(t, 0.0))
    return f == f.min(axis=1, keepdims=True)


def continuous_reference(model: conv.FloatModel, X=None, window: float = conv.WINDOW, jitter: float = 0.0,
                         drift_ppm: float = 0.0, seed: int = 0, times=None, hop: float | None = None,
                         dt: float | None = None, horizon: float = HORIZON) -> ContinuousResult:
    """Run the continuous-time TTFS network of ``model`` in the native engine's precise mode.

    Inputs: features ``X`` in [0, 1] (spike times ``input_times(X, window, jitter, drift_ppm,
    seed)``) or explicit spike ``times`` (S, D). Samples run in chunks of CHUNK copies."""
    from spikecore.registry import get_backend

    _check_model(model)
    T = _check_window(window)
    if (X is None) == (times is None):
        raise ValidationError("inputs", "X and times" if X is not None else None, "exactly one of X or times")
    t_in = input_times(X, T, jitter, drift_ppm, seed) if times is None else _check_times(times, model.n_inputs, T)
    d = T * HOP_FRACTION if hop is None else hop
    L = len(model.layers)
    names = [f"hid{l + 1}" for l in range(L - 1)] + ["out"]
    sizes = [W.shape[0] for W, _ in model.layers]
    O = continuous_origins(L, T, d)
    native = get_backend("native")
    out = [np.full((t_in.shape[0], n), np.nan) for n in sizes]
    for k0 in range(0, t_in.shape[0], CHUNK):
        chunk = t_in[k0:k0 + CHUNK]
        S = chunk.shape[0]
        net = build_continuous_network(model, chunk, T, hop=d, dt=dt, horizon=horizon)
        g = net.to_ir(timing="precise")
        res = native.compile(g, timing="precise").run(float(net.duration))
        for l, (name, n) in enumerate(zip(names, sizes)):
            t, idx = res.spikes[name]
            # refractory for the whole run: one spike each at most (the first, should that change)
            first = np.full(S * n, np.inf)
            np.minimum.at(first, idx, t)
            first[np.isinf(first)] = np.nan
            out[l][k0:k0 + S] = first.reshape(S, n) - O[l + 1]
    return ContinuousResult(out, T, t_in, O, d)


def clipped_activations(model: conv.FloatModel, X) -> list:
    """What the TTFS construction computes in exact arithmetic: per layer, the pre-activation with
    every hidden activation clipped to [0, 1] before the next layer (outputs unclipped)."""
    _check_model(model)
    h = check_features(X)
    out = []
    for k, (W, b) in enumerate(model.layers):
        a = h @ W.T + b
        out.append(a)
        h = np.clip(a, 0.0, 1.0)
    return out


def construction_times(model: conv.FloatModel, X, window: float = conv.WINDOW,
                       horizon: float = HORIZON) -> list:
    """Closed form of ``continuous_reference`` (noiseless): T (1 - clip(a)) per layer, hidden
    activations clipped to [0, 1], outputs to at most 1; NaN where an output would fire after
    the horizon. Exact up to the construction's edge width e (module docstring)."""
    T = _check_window(window)
    acts = clipped_activations(model, X)
    out = [T * (1.0 - np.clip(a, 0.0, 1.0)) for a in acts[:-1]]
    a = acts[-1]
    t = T * (1.0 - np.minimum(a, 1.0))
    out.append(np.where(t <= horizon * T, t, np.nan))
    return out


# ----------------------------------------------------------------------------- the clock against it
@dataclass
class ClockResult:
    """First-spike times of the grid (b-bit clock) network, in the reference's frame."""
    times: list         # per layer (S, n_l), s after the read origin; NaN: no spike
    bits: int
    tick: float

    @property
    def output(self) -> np.ndarray:
        return self.times[-1]

    def decide(self) -> np.ndarray:
        return first_winners(self.output)


def clock_times(model: conv.FloatModel, X, bits: int, jitter: float = 0.0, drift_ppm: float = 0.0, seed: int = 0,
                window: float = conv.WINDOW, profile="ideal", weight_bits: int | None = None) -> ClockResult:
    """Run the grid TTFS network (hwmodels.conversion, b-bit clock) on every sample with hwmodels.batch,
    to the same horizon as the reference, and return every layer's first-spike times (s after the
    layer's read origin): a spike at tick f of layer l reads (f - temporal_origins[l+1]) * tick."""
    from .batch import BatchNet
    from .passes import quantize, state_layout
    from .profiles import get_profile

    _check_model(model)
    enc = TemporalCode(bits, jitter=jitter, drift_ppm=drift_ppm, window=window, seed=seed)
    K = enc.ticks
    prof = get_profile(profile)
    g = quantize(conv.to_ir(conv.build_temporal_network(model, K, window=window)), prof, weight_bits=weight_bits,
                 exact=False)
    conv.finalize_temporal(g)
    state = state_layout(g, prof)
    events = enc.encode(X)
    L = len(model.layers)
    names = [f"hid{l + 1}" for l in range(L - 1)] + ["out"]
    origins = conv.temporal_origins(L, K) + [conv.temporal_first_tick(model, K)]
    n_steps = conv.temporal_steps(model, K)
    out = []
    for l, name in enumerate(names):
        res = BatchNet(g, output=name, state=state).run(events, n_steps, stop_on_output=False)
        f = res.first.astype(float)
        read = origins[l + 1] if l + 1 < L else origins[L]
        out.append(np.where(res.first < 0, np.nan, (f - read) * enc.tick))
    return ClockResult(out, enc.bits, enc.tick)


def timing_error(other, ref) -> dict:
    """How far ``other``'s spike times and decision sit from ``ref``'s (both with .times and .decide()).

    Per layer (``layers``) and for the output: RMS, mean (bias) and largest |error| (s) over neurons
    that fired in both; ``unmatched``: fraction that fired in one only; ``first_rms_s``: RMS error of
    each sample's earliest output spike (the decision time); ``agreement``: mean probability that a
    fair pick among other's winners equals a fair pick among ref's."""
    if len(other.times) != len(ref.times):
        raise ValidationError("layers", len(other.times), f"{len(ref.times)} layers (as the reference)")
    layers = []
    for a, b in zip(other.times, ref.times):
        if a.shape != b.shape:
            raise ValidationError("times", a.shape, f"the reference's shape {b.shape}")
        both = ~np.isnan(a) & ~np.isnan(b)
        err = (a - b)[both]
        layers.append({"rms_s": float(np.sqrt(np.mean(err ** 2))) if err.size else None,
                       "mean_s": float(np.mean(err)) if err.size else None,
                       "max_abs_s": float(np.max(np.abs(err))) if err.size else None,
                       "n": int(err.size), "unmatched": float(np.mean(np.isnan(a) != np.isnan(b)))})
    first_rms = None
    ta = np.where(np.isnan(other.output), np.inf, np.maximum(other.output, 0.0)).min(axis=1)
    tb = np.where(np.isnan(ref.output), np.inf, np.maximum(ref.output, 0.0)).min(axis=1)
    both = np.isfinite(ta) & np.isfinite(tb)
    if both.any():
        first_rms = float(np.sqrt(np.mean((ta[both] - tb[both]) ** 2)))
    return {"output": layers[-1], "layers": layers, "first_rms_s": first_rms,
            "agreement": agreement(other.decide(), ref.decide())}


def agreement(wa, wb) -> float:
    """Mean over samples of the probability that a fair pick among winners ``wa`` equals one among ``wb``."""
    wa, wb = np.asarray(wa, bool), np.asarray(wb, bool)
    return float(np.mean((wa & wb).sum(axis=1) / (wa.sum(axis=1) * wb.sum(axis=1))))
