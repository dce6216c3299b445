"""Float classifiers -> spiking networks (spikecore.Network), under a rate or a temporal code.

``FloatModel`` holds the layers of a classifier trained in the float domain
(scikit-learn LogisticRegression: one layer; MLPClassifier with ReLU: two), and
``normalize`` rescales them so every hidden activation and the top logit lie in
about [0, 1] (data-based normalisation at a percentile of the training set,
Diehl et al. 2015, Rueckauer et al. 2017). From that, two spiking networks,
each built with the public description layer so every backend can run it and
the batch simulator (hwmodels.batch) can be checked against the native engine:

Rate code (``build_rate_network``), window of W ticks, one tick = dt:
  input i spikes about x_i*W times (hwmodels.coding.RateCode); integrate-and-fire
  neurons (``lif_delta``, no leak: tau = 2^56 dt makes exp(-dt/tau) exactly 1.0),
  threshold THETA, reset to 0, weights THETA*W~/RATE_HEADROOM (activation 1 is half a
  spike per tick, see RATE_HEADROOM); biases come from a bias neuron per
  layer spiking every tick of the window (shifted by the 2-tick latency of a hop).
  Output: spike counts over W + 2*layers ticks.

Temporal code (``build_temporal_network``), time to first spike, window of K ticks:
  input i spikes once, at tick round((1 - x_i) K) after the reference. Neurons are
  perfect integrators of a constant current (``lif_cuba`` with tau_mem = tau_syn =
  2^56 dt, so coef = 2^-56 exactly and nothing leaks): an input spike at tick s
  starts a current w that adds coef*w to v every step from s+2 on (the IR's one
  step of synaptic latency). At the end of the window v = THETA * a where a is the
  layer's pre-activation; then a constant ramp of slope THETA/K per tick (set by a
  reference spike) makes the neuron cross THETA at tick K + 2 + floor(K (1 - a)):
  the same code one layer on (Rueckauer & Liu 2018; Stanojevic et al. 2023).
  Reference ("control") spikes of layer l, at origin O_l (O_1 = 0, O_l+1 = O_l + K + 2):
    * gate, tick O_l: current -M_j with M_j = sum of j's positive data weights, so v
      cannot reach threshold before the window closes;
    * slope, tick O_l + K: current lambda - S_j + M_j + P_j (S_j = j's data weights
      plus bias, so the total current becomes the ramp lambda = 1 for every neuron);
    * pulse, tick O_l + K + 1: -P_j, P_j = K M_j: one step of current P_j that pays
      back what the gate took during the window;
    * kick (hidden layers), tick O_l + 2K: a current that fires, at O_l + 2K + 2,
      every neuron that has not fired (a <= 0): ReLU, exactly.
  Neurons are refractory for the whole run, so each fires once. The output class is
  the first output neuron to fire. Control weights are derived from the *deployed*
  data weights (``finalize_temporal``, run after hwmodels.passes.quantize) and are
  not quantized: on a chip they are a per-neuron bias/threshold schedule.

This grid construction is what a chip with a b-bit clock runs. Its continuous-time
counterpart (the same construction with exact spike times, run in the native engine's
precise mode) is hwmodels.continuous: the reference clock quantization, jitter and
drift are measured against.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikecore import units as u
from spikecore.errors import ValidationError
from spikecore.models import get_model
from spikecore.network import FromIndices, Network, Population, Projection, SpikeSource

#: Threshold of every converted neuron (any positive value works: weights scale with it).
THETA = 1e-3  # V
#: Time constant (in ticks) that makes exp(-dt/tau) == 1.0 exactly in float64: a perfect integrator.
NO_LEAK_TICKS = 2.0 ** 56
#: Rate-code neurons fire at most 1/RATE_HEADROOM spikes per tick at normalised activation 1:
#: an integrate-and-fire neuron reset to zero loses the charge above threshold, and less of it
#: when one tick's input rarely exceeds the threshold (Rueckauer et al. 2017, "robust
#: normalisation"). Against 1, 2 cut the conversion loss of logistic regression on iris from
#: about -6% to -0.4% and helped digits; 4 and 8 bought nothing clear and cost counts.
RATE_HEADROOM = 2.0
#: Nominal length of the coding window: ticks are WINDOW / (2^bits - 1).
WINDOW = 0.128  # s
#: Percentile of training activations that maps to 1 (data-based normalisation).
NORM_PERCENTILE = 99.9
#: Ticks a spike needs to cross one projection in the IR (delay 1, then one update).
HOP_TICKS = 2

ROLE_DATA, ROLE_CONTROL = "data", "control"


@dataclass
class FloatModel:
    """A feedforward classifier: ``layers[k] = (W (n_out, n_in), b (n_out,))``, ReLU between layers."""
    layers: list

    def __post_init__(self):
        if not self.layers:
            raise ValidationError("model.layers", self.layers, "at least one (W, b) layer")
        prev = None
        for k, (W, b) in enumerate(self.layers):
            W = np.asarray(W, float)
            b = np.asarray(b, float)
            if W.ndim != 2 or b.shape != (W.shape[0],):
                raise ValidationError(f"model.layers[{k}]", f"W {W.shape}, b {b.shape}", "W (n_out, n_in) and b (n_out,)")
            if prev is not None and W.shape[1] != prev:
                raise ValidationError(f"model.layers[{k}].W", W.shape, f"{prev} inputs (the previous layer's outputs)")
            prev = W.shape[0]
            self.layers[k] = (W, b)

    @property
    def n_inputs(self) -> int:
        return self.layers[0][0].shape[1]

    @property
    def n_classes(self) -> int:
        return self.layers[-1][0].shape[0]

    def activations(self, X) -> list:
        """Pre-activations of every layer (hidden ones before the ReLU)."""
        out, h = [], np.asarray(X, float)
        for k, (W, b) in enumerate(self.layers):
            a = h @ W.T + b
            out.append(a)
            h = np.maximum(a, 0.0)
        return out

    def logits(self, X) -> np.ndarray:
        return self.activations(X)[-1]

    def predict(self, X) -> np.ndarray:
        return np.argmax(self.logits(X), axis=1)

    @classmethod
    def from_sklearn(cls, est) -> "FloatModel":
        """From a fitted LogisticRegression (multinomial or binary) or a ReLU MLPClassifier."""
        if hasattr(est, "coefs_"):
            if getattr(est, "activation", "relu") != "relu":
                raise ValidationError("classifier.activation", est.activation, "'relu' (the spiking conversion needs it)")
            layers = [(W.T.copy(), b.copy()) for W, b in zip(est.coefs_, est.intercepts_)]
        elif hasattr(est, "coef_"):
            layers = [(np.asarray(est.coef_, float).copy(), np.asarray(est.intercept_, float).copy())]
        else:
            raise ValidationError("classifier", type(est).__name__, "a fitted LogisticRegression or MLPClassifier")
        W, b = layers[-1]
        if W.shape[0] == 1:  # binary: class 1 has logit z, class 0 has -z
            layers[-1] = (np.vstack([-W, W]) / 2, np.array([-b[0], b[0]]) / 2)
        return cls(layers)


def normalize(model: FloatModel, X_train, percentile: float = NORM_PERCENTILE) -> FloatModel:
    """Rescale layers so that the ``percentile`` of each layer's positive activations is 1.

    Hidden layer l's weights become W_l * lam_{l-1} / lam_l (argmax of the output is
    unchanged), so a normalised activation 1 is 1/RATE_HEADROOM spikes per tick (rate
    code) or a spike at the start of the layer's window (temporal code)."""
    acts = model.activations(X_train)
    layers, prev = [], 1.0
    for (W, b), a in zip(model.layers, acts):
        pos = a[a > 0]
        lam = float(np.percentile(pos, percentile)) if pos.size else 1.0
        lam = lam if lam > 0 else 1.0
        layers.append((W * prev / lam, b / lam))
        prev = lam
    return FloatModel(layers)


# ----------------------------------------------------------------------------- shared pieces
def _dense_projection(name, pre, post, W, scale, role, pre_offset: int = 0, lossy: bool = False,
                      **attrs) -> Projection:
    """Synapses from every pre neuron pre_offset + i to every post neuron j, weight scale*W[j, i].

    Zero weights are kept: the chip stores them and counts their synaptic operations."""
    n_out, n_in = W.shape
    i, j = np.meshgrid(np.arange(n_in), np.arange(n_out), indexing="ij")
    i, j = i.ravel(), j.ravel()
    pr = Projection(pre, post, FromIndices(i + pre_offset, j), weight=u.Quantity(scale * W[j, i], u.VOLTAGE),
                    name=name)
    pr.hw_attrs = {"role": role, "lossy": lossy, **attrs}
    return pr


def to_ir(net: Network):
    """Lower a converted network, carrying the hwmodels roles onto the IR's attrs.

    Projections get ``role`` (data: quantized by hwmodels.passes; control: left
    alone), ``lossy`` (spikes of its pre may be lost on the way) and ``layer``;
    populations get ``layer`` and ``v_range`` (the largest |v| the code can reach,
    which sizes fixed-point state)."""
    g = net.to_ir()
    for name, pr in net.projections.items():
        g.projections[name].attrs.update(getattr(pr, "hw_attrs", {}))
    for name, pop in net.populations.items():
        g.populations[name].attrs.update(getattr(pop, "hw_attrs", {}))
    return g


def _source(name, n, ticks, indices, dt) -> SpikeSource:
    ticks = np.asarray(ticks, dtype=np.int64)
    return SpikeSource(times=u.Quantity(ticks * dt, u.TIME), indices=np.asarray(indices, dtype=np.int64), size=n,
                       name=name)


# ----------------------------------------------------------------------------- rate code
def rate_steps(model: FloatModel, window_ticks: int) -> int:
    """Steps a rate-coded inference runs: the window plus the latency of every hop."""
    return int(window_ticks) + HOP_TICKS * len(model.layers)


def build_rate_network(model: FloatModel, window_ticks: int, input_ticks=None, input_indices=None,
                       window: float = WINDOW, name: str = "rate_classifier") -> Network:
    """The rate-coded spiking classifier of a *normalised* model (module docstring).

    ``input_ticks``/``input_indices``: the input spikes of one sample (ticks may repeat
    for several spikes in one tick); None leaves the input silent (a template for the
    batch simulator, which feeds inputs itself)."""
    W_ticks = _check_ticks(window_ticks, "window_ticks")
    dt = window / W_ticks
    L = len(model.layers)
    net = Network(name=name, seed=0, dt=u.Quantity(dt, u.TIME), duration=u.Quantity(rate_steps(model, W_ticks) * dt, u.TIME))
    D = model.n_inputs
    t_in = np.zeros(0, np.int64) if input_ticks is None else np.asarray(input_ticks)
    i_in = np.zeros(0, np.int64) if input_indices is None else np.asarray(input_indices)
    net.add(_source("inp", D, t_in, i_in, dt))
    # bias neuron l spikes every tick of layer l's window, which starts HOP_TICKS*l later
    b_ticks = np.concatenate([np.arange(W_ticks) + HOP_TICKS * l for l in range(L)])
    b_idx = np.repeat(np.arange(L), W_ticks)
    net.add(_source("bias", L, b_ticks, b_idx, dt))
    params = {"tau_mem": u.Quantity(NO_LEAK_TICKS * dt, u.TIME), "v_leak": u.Quantity(0.0, u.VOLTAGE),
              "v_threshold": u.Quantity(THETA, u.VOLTAGE), "v_reset": u.Quantity(0.0, u.VOLTAGE)}
    pre = "inp"
    layers = []
    for l, (W, b) in enumerate(model.layers):   # activation 1 -> 1/RATE_HEADROOM spikes per tick
        s_in = RATE_HEADROOM if l > 0 else 1.0   # inputs spike at most once per tick
        layers.append((W * s_in / RATE_HEADROOM, b / RATE_HEADROOM))
    for l, (W, b) in enumerate(layers):
        post = "out" if l == L - 1 else f"hid{l + 1}"
        pop = Population(W.shape[0], "lif_delta", dict(params), name=post)
        pop.hw_attrs = {"role": ROLE_DATA, "layer": l + 1, "v_range": _rate_v_range(W, b)}
        net.add(pop)
        net.add(_dense_projection(f"w{l + 1}", pre, post, W, THETA, ROLE_DATA, lossy=True, layer=l + 1))
        net.add(_dense_projection(f"b{l + 1}", "bias", post, b.reshape(-1, 1), THETA, ROLE_DATA, pre_offset=l,
                                  layer=l + 1))
        pre = post
    return net


def _rate_v_range(W, b) -> float:
    """Largest |v| an IF neuron of this layer can hold (in units of THETA): one tick of input on top of threshold."""
    return float(THETA * (1.0 + np.max(np.sum(np.abs(W), axis=1) + np.abs(b))))


# ----------------------------------------------------------------------------- temporal code
def temporal_origins(n_layers: int, K: int) -> list:
    return [l * (K + HOP_TICKS) for l in range(n_layers)]


def temporal_steps(model: FloatModel, K: int) -> int:
    """Steps after which every output has fired for activations down to -1."""
    O_last = temporal_origins(len(model.layers), K)[-1]
    return O_last + K + HOP_TICKS + 2 * K + 1


def temporal_first_tick(model: FloatModel, K: int) -> int:
    """Tick at which an output with normalised activation >= 1 fires (the earliest decision)."""
    return temporal_origins(len(model.layers), K)[-1] + K + HOP_TICKS


def build_temporal_network(model: FloatModel, K: int, input_ticks=None, input_indices=None,
                           window: float = WINDOW, name: str = "ttfs_classifier") -> Network:
    """The time-to-first-spike classifier of a *normalised* model (module docstring).

    ``input_ticks``: one spike per input neuron (ticks in [0, K]); None leaves the input
    silent (a template for the batch simulator). Control weights are placeholders
    until ``finalize_temporal`` derives them from the data weights."""
    K = _check_ticks(K, "clock ticks K")
    dt = window / K
    L = len(model.layers)
    n_steps = temporal_steps(model, K)
    net = Network(name=name, seed=0, dt=u.Quantity(dt, u.TIME), duration=u.Quantity(n_steps * dt, u.TIME))
    D = model.n_inputs
    t_in = np.zeros(0, np.int64) if input_ticks is None else np.asarray(input_ticks)
    i_in = np.zeros(0, np.int64) if input_indices is None else np.asarray(input_indices)
    net.add(_source("inp", D, t_in, i_in, dt))
    origins = temporal_origins(L, K)
    # reference neurons: 4 per layer (gate, slope, pulse, kick)
    ref_ticks, ref_idx = [], []
    for l, O in enumerate(origins):
        for k, t in enumerate((O, O + K, O + K + 1, O + 2 * K)):
            ref_ticks.append(t)
            ref_idx.append(4 * l + k)
    net.add(_source("ref", 4 * L, ref_ticks, ref_idx, dt))
    tau = u.Quantity(NO_LEAK_TICKS * dt, u.TIME)
    params = {"tau_mem": tau, "tau_syn": {"ramp": tau}, "v_leak": u.Quantity(0.0, u.VOLTAGE),
              "v_threshold": u.Quantity(THETA, u.VOLTAGE), "v_reset": u.Quantity(0.0, u.VOLTAGE),
              "t_refrac": u.Quantity((n_steps + 1) * dt, u.TIME)}
    G = temporal_gain(K)
    pre = "inp"
    for l, (W, b) in enumerate(model.layers):
        post = "out" if l == L - 1 else f"hid{l + 1}"
        n = W.shape[0]
        pop = Population(n, "lif_cuba", {**params, "tau_syn": {"ramp": tau}}, name=post)
        # |v| stays below THETA * (ramp + gate + data): v = (THETA/K) * sum of currents * ticks <= K ticks
        gate_M = np.sum(np.maximum(W, 0), axis=1) + np.maximum(b, 0)
        data = np.sum(np.abs(W), axis=1) + np.abs(b)
        pop.hw_attrs = {"role": ROLE_DATA, "layer": l + 1,
                        "v_range": float(THETA * (2.0 + 2.0 * np.max(gate_M + data)))}
        net.add(pop)
        net.add(_dense_projection(f"w{l + 1}", pre, post, W, G, ROLE_DATA, lossy=True, layer=l + 1))
        # bias: a data weight from the gate reference neuron (it spikes at the window's start)
        net.add(_dense_projection(f"b{l + 1}", "ref", post, b.reshape(-1, 1), G, ROLE_DATA, pre_offset=4 * l,
                                  layer=l + 1))
        for k, kind in enumerate(("gate", "slope", "pulse", "kick")):
            if kind == "kick" and l == L - 1:
                continue
            net.add(_dense_projection(f"{kind}{l + 1}", "ref", post, np.zeros((n, 1)), 1.0, ROLE_CONTROL,
                                      pre_offset=4 * l + k, layer=l + 1, control=kind, ticks=K))
        pre = post
    return net


def temporal_gain(K: int) -> float:
    """IR weight per unit of normalised weight: coef * G * K = THETA with coef = 2^-56."""
    return THETA * NO_LEAK_TICKS / K


def finalize_temporal(g):
    """Derive the control weights of a temporal network from its (possibly quantized) data weights.

    IR -> IR, in place and returned. Must run after hwmodels.passes.quantize so that
    the ramp of every neuron is exactly 1 with the weights the chip holds."""
    layers = sorted({e.attrs.get("layer") for e in g.projections.values() if e.attrs.get("role") == ROLE_CONTROL})
    for l in layers:
        edges = {e.attrs["control"]: e for e in g.projections.values()
                 if e.attrs.get("role") == ROLE_CONTROL and e.attrs.get("layer") == l}
        any_edge = next(iter(edges.values()))
        post = any_edge.post
        K = int(any_edge.attrs["ticks"])
        n = g.populations[post].size
        data = [e for e in g.projections.values() if e.post == post and e.attrs.get("role") == ROLE_DATA]
        S = np.zeros(n)
        pos = np.zeros(n)
        absw = np.zeros(n)
        for e in data:
            np.add.at(S, e.j, e.weight)
            np.add.at(pos, e.j, np.maximum(e.weight, 0))
            np.add.at(absw, e.j, np.abs(e.weight))
        # the gain of one unit of current: THETA / (coef K), with the population's own coef (a
        # profile's decay format may have changed tau and with it coef; hwmodels.passes rescaled
        # the data weights to keep coef * w, so the control weights follow the same rule)
        pop = g.populations[post]
        coef = get_model(pop.model).synaptic_coefficient(pop.params, next(iter(pop.receptors.values())), g.dt)
        G = THETA / (coef * K)
        M = pos
        P = K * M
        values = {"gate": -M, "slope": G * 1.0 - S + M + P, "pulse": -P,
                  "kick": 2.0 * (G * K + K * absw + P)}
        for kind, e in edges.items():
            e.weight = values[kind][e.j].astype(float)
    return g


def _check_ticks(k, field) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValidationError(field, k, "a positive whole number of ticks")
    return int(k)
