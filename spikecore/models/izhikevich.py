"""``izhikevich``: Izhikevich's simple model (Izhikevich 2003, IEEE Trans. Neural Netw.
14:1569), with the quadratic's coefficients free so that the 2004 class-1 neuron is
expressible. In Izhikevich's units (v in mV, t in ms, u and I in mV/ms)::

    v' = k2 v^2 + k1 v + k0 - u + I          (k2, k1, k0 = 0.04, 5, 140 in 2003)
    u' = a (b v - u)
    spike when v > v_threshold (v_peak, 30 mV):  v <- v_reset (c),  u <- u + d

Units. ``a``, ``b``, ``d``, ``k2``, ``k1``, ``k0`` and the state ``u`` are Izhikevich's
numbers in those units (a, b in 1/ms, d and u in mV/ms; 1 mV/ms = 1 V/s), as NEST's
``izhikevich`` takes them. ``v_reset`` (c), ``v_threshold`` (v_peak) and ``v_leak`` (v's
initial value: the model has no leak potential) are voltages. An injected current or the
``bias`` (amperes, per neuron if wanted) enters as I = current / c_m: with the default
c_m = 1 pF, 1 pA is I = 1 mV/ms, which is NEST's convention (its I_e in pA with R = 1)
and Izhikevich's I. Synapses are delta synapses: a weight in volts is a jump in v (NEST:
the weight in mV added to V_m).

Presets (``preset: NAME`` in the parameters; any parameter given as well overrides it):

    name    a      b      c (mV)  d      k2, k1, k0       v init  source
    RS      0.02   0.2    -65     8      0.04, 5, 140     -65     2003 Fig. 2, regular spiking
    IB      0.02   0.2    -55     4      0.04, 5, 140     -65     2003 Fig. 2, intrinsically bursting
    CH      0.02   0.2    -50     2      0.04, 5, 140     -65     2003 Fig. 2, chattering
    FS      0.1    0.2    -65     2      0.04, 5, 140     -65     2003 Fig. 2, fast spiking
    LTS     0.02   0.25   -65     2      0.04, 5, 140     -65     2003 Fig. 2, low-threshold spiking
    TC      0.02   0.25   -65     0.05   0.04, 5, 140     -65     2003 Fig. 2, thalamo-cortical
    RZ      0.1    0.26   -65     2      0.04, 5, 140     -65     2003 Fig. 2, resonator
    class1  0.02   -0.1   -55     6      0.04, 4.1, 108   -60     2004 (IEEE TNN 15:1063) Fig. 1(G),
                                                                 its figure1.m code
    class2  0.2    0.26   -65     0      0.04, 5, 140     -64     2004 Fig. 1(H), figure1.m

The resonator is the 2003 paper's (RZ); the 2004 feature figure's resonator (K) is
a = 0.1, b = 0.26, c = -60, d = -1 and is not a preset. The initial u is b * v init
(Izhikevich's code), unless ``initial.u`` is given. class1 has no NEST reference: NEST's
quadratic is fixed at 0.04, 5, 140.

Integrators (``integrator``, by name):

* ``euler``: forward Euler at the step dt (= NEST izhikevich, consistent_integration=True);
* ``izhikevich2003``: v in two half-steps, then u from the new v (Izhikevich's published
  code; = NEST consistent_integration=False);
* ``rk4`` (the default): classical Runge-Kutta over each step, with event location: where
  v crosses v_peak inside a step (cubic Hermite interpolation of v, bisection) u jumps by d
  and the rest of that step is integrated from (c, u + d) at the next update, so resets do
  not lag by a step. The spike is reported at the step it falls in (time n dt for a
  crossing in [n dt, (n+1) dt)), so spike times are within dt of the exact ones and do not
  drift: at dt = 0.01 ms the first 20 are within 0.01 ms of a scipy DOP853 (rtol 1e-10)
  event-located solution, and the error shrinks with dt (tests/models/test_izhikevich.py).
  Both Euler schemes drift by a few tenths of a millisecond to milliseconds within 20
  spikes at the same dt.

Per neuron: every parameter but the integrator may be an array or a seeded distribution
(Izhikevich's 2003 network draws a, b, c, d per neuron).
Runs in the native grid engine (spikecore/engine/updates/izhikevich.h) and on Brian2
(backends/brian2.py) with the schemes it can express exactly:

* ``euler``: Brian2's method ``'euler'`` (the same forward Euler step of v and u);
* ``izhikevich2003``: the backend's own state updater ``izhikevich2003`` (v in two
  half-steps, then u from the new v, written out as abstract code);
* ``rk4`` is refused there naming it: it resets inside a step, which no Brian2 state
  updater expresses (Brian2's own ``rk4`` resets at the step's end: another scheme).

In both, a refractory neuron's v is clamped by a conditional write while u evolves from
the unclamped step (as the grid update does), and u += d is part of the reset. NEST
(backends/_nest_models.py, docs/nest.md) runs ``euler`` (consistent_integration=True,
spike for spike) and ``izhikevich2003`` (False: NEST adds a weight as a current to both
half-steps, so spikes differ slightly once synapses act) and refuses rk4, a quadratic
other than 0.04, 5, 140 (class1) and t_refrac > 0. Precise mode, Loihi, Lava and NIR have
no such neuron and refuse it.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import units as u
from ..errors import UnsupportedFeature, ValidationError
from .base import Brian2Equations, ParamSpec, NeuronModel

#: integrator name -> the code the grid update reads (param ``integrator``)
INTEGRATORS = {"euler": 0, "izhikevich2003": 1, "rk4": 2}

#: preset -> (a, b, c mV, d, k2, k1, k0, initial v mV); the table of the module docstring
PRESETS = {
    "RS": (0.02, 0.2, -65.0, 8.0, 0.04, 5.0, 140.0, -65.0),
    "IB": (0.02, 0.2, -55.0, 4.0, 0.04, 5.0, 140.0, -65.0),
    "CH": (0.02, 0.2, -50.0, 2.0, 0.04, 5.0, 140.0, -65.0),
    "FS": (0.1, 0.2, -65.0, 2.0, 0.04, 5.0, 140.0, -65.0),
    "LTS": (0.02, 0.25, -65.0, 2.0, 0.04, 5.0, 140.0, -65.0),
    "TC": (0.02, 0.25, -65.0, 0.05, 0.04, 5.0, 140.0, -65.0),
    "RZ": (0.1, 0.26, -65.0, 2.0, 0.04, 5.0, 140.0, -65.0),
    "class1": (0.02, -0.1, -55.0, 6.0, 0.04, 4.1, 108.0, -60.0),
    "class2": (0.2, 0.26, -65.0, 0.0, 0.04, 5.0, 140.0, -64.0),
}

#: other names of parameters (Izhikevich's c and v_peak)
ALIASES = {"c": "v_reset", "v_peak": "v_threshold"}


def preset_params(name: str) -> dict:
    """A preset's parameters as a model file writes them."""
    a, b, c, d, k2, k1, k0, v0 = PRESETS[name]
    return {"a": a, "b": b, "d": d, "k2": k2, "k1": k1, "k0": k0, "v_reset": f"{c} mV", "v_leak": f"{v0} mV"}


@dataclass(frozen=True)
class Izhikevich(NeuronModel):
    def expand_params(self, params, field):
        out = dict(params)
        for alias, name in ALIASES.items():
            if alias in out:
                if name in out:
                    raise ValidationError(f"{field}.{alias}", out[alias], f"either {alias} or {name}, not both")
                out[name] = out.pop(alias)
        if "preset" in out:
            name = out.pop("preset")
            if name not in PRESETS:
                raise ValidationError(f"{field}.preset", name, "one of " + ", ".join(PRESETS))
            out = {**preset_params(name), **out}
        method = out.get("integrator")
        if isinstance(method, str):
            if method not in INTEGRATORS:
                raise ValidationError(f"{field}.integrator", method, "one of " + ", ".join(INTEGRATORS))
            out["integrator"] = INTEGRATORS[method]
        return out

    def check_params(self, si, field):
        if si["integrator"] not in INTEGRATORS.values():
            raise ValidationError(f"{field}.integrator", si["integrator"], "one of " + ", ".join(INTEGRATORS))

    def initial_value(self, var, si_params):
        if var == "u":
            return si_params["b"] * si_params["v_leak"] * 1e3    # b v (mV/ms), Izhikevich's start
        return super().initial_value(var, si_params)

    def tau_mem(self, params):
        return None

    def brian2_unit(self, var):
        return "1" if var == "u" else "volt"

    def brian2_equations(self, params, receptors, dt, refractory_steps):
        method = {INTEGRATORS["euler"]: "euler", INTEGRATORS["izhikevich2003"]: "izhikevich2003"}.get(
            int(params["integrator"]))
        if method is None:
            raise UnsupportedFeature("brian2", "izhikevich's integrator rk4",
                                     "integrator: euler or izhikevich2003 run on Brian2; rk4 resets inside a "
                                     "step where v crosses v_peak, which Brian2's state updaters cannot express")
        constants = {k: (params[k], "1") for k in ("a", "b", "d", "k2", "k1", "k0")}
        constants.update({"c_m": (params["c_m"], "farad"), "bias": (params["bias"], "amp"),
                          "v_threshold": (params["v_threshold"], "volt"), "v_reset": (params["v_reset"], "volt")})
        refractory = refractory_steps > 0
        return Brian2Equations(
            dv_template="dv/dt = (k2*(v/mV)**2 + k1*(v/mV) + k0 - u)*(mV/ms) + (bias{cur})/c_m : volt",
            ode_lines=["du/dt = a*(b*(v/mV) - u)/ms : 1"], constants=constants, current_term=" + I_ext",
            method=method, clamp_v=refractory, delta_gate=refractory, reset="v = v_reset\nu += d")

    def drive(self, params):
        # I = current / c_m in V/s (= mV/ms); the bias is a constant current
        return params["bias"] / params["c_m"], 1.0 / params["c_m"]


MODEL = Izhikevich(
    name="izhikevich",
    synapse="delta",
    # the grid update reads a, b, d, k2, k1, k0, integrator in this order (updates/izhikevich.h)
    params={
        "a": ParamSpec(u.DIMENSIONLESS, 0.02, doc="recovery rate (1/ms)"),
        "b": ParamSpec(u.DIMENSIONLESS, 0.2, doc="sensitivity of u to v (1/ms)"),
        "d": ParamSpec(u.DIMENSIONLESS, 8.0, doc="u increment at a spike (mV/ms)"),
        "k2": ParamSpec(u.DIMENSIONLESS, 0.04, doc="quadratic coefficient (1/(mV ms))"),
        "k1": ParamSpec(u.DIMENSIONLESS, 5.0, doc="linear coefficient (1/ms)"),
        "k0": ParamSpec(u.DIMENSIONLESS, 140.0, doc="constant term (mV/ms)"),
        "integrator": ParamSpec(u.DIMENSIONLESS, float(INTEGRATORS["rk4"]),
                                doc="euler, izhikevich2003 or rk4 (module docstring)"),
        "c_m": ParamSpec(u.CAPACITANCE, 1e-12, positive=True,
                         doc="converts currents to I in mV/ms: I = current / c_m (1 pF: 1 pA = 1 mV/ms)"),
        "v_threshold": ParamSpec(u.VOLTAGE, 0.030, doc="v_peak: spike when v > v_peak"),
        "v_reset": ParamSpec(u.VOLTAGE, -0.065, doc="c: v after a spike"),
        "v_leak": ParamSpec(u.VOLTAGE, -0.065, doc="v's initial value (no leak potential)"),
        "t_refrac": ParamSpec(u.TIME, 0.0, nonnegative=True, doc="refractory period (v clamped; 0 in Izhikevich)"),
        "bias": ParamSpec(u.CURRENT, 0.0, doc="constant input current (I = bias / c_m)"),
    },
    receptor_params={},
    weight_dims=(u.VOLTAGE,),
    state={"v": u.VOLTAGE, "u": u.DIMENSIONLESS},
    default_receptors=("default",),
    doc="Izhikevich (2003) simple model, with presets and three integrators",
    modes=frozenset({"grid", "brian2", "nest"}),
    per_neuron_params=frozenset({"a", "b", "d", "k2", "k1", "k0", "c_m", "v_threshold", "v_reset", "v_leak",
                                 "t_refrac", "bias"}),
    # rk4: the rest of a step after an in-step reset; the Euler schemes: v in mV (updates/izhikevich.h)
    internal_state=("rem", "vmv"),
)
