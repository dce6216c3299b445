"""Write the cortical microcircuit of Potjans & Diesmann (2014) as a spikecore model file.

    python examples/microcircuit.py                        # full scale, Poisson drive -> stdout
    python examples/microcircuit.py --scale 0.1 -o examples/microcircuit_small.yaml
    python examples/microcircuit.py --drive dc --thalamus -o mc_dc.yaml
    python examples/microcircuit.py --scale 0.1 --streams per_target -o mc_ranks.yaml

The parameters are those of INM-6's PyNEST implementation, the PyPI package
``microcircuit`` 1.0 (microcircuit/network_params.py, stimulus_params.py; the successor
of NEST's pynest/examples/Potjans_2014), and so is every derived quantity:

* synapses per pair: K = log(1 - p) / log(1 - 1/(N_pre N_post)) at full scale (the
  total number of synapses whose chance of hitting each pair at least once is p),
  times ``scale`` twice (neurons and in-degrees are both scaled, N_scaling = K_scaling),
  connected with ``fixed_total_number`` (multapses and autapses allowed, as NEST);
* weights: a PSP of 0.15 mV (inhibitory g = -4 times that; L4e -> L2/3e doubled) turned
  into a PSC amplitude for iaf_psc_exp (C_m 250 pF, tau_m 10 ms, tau_syn 0.5 ms), normal
  with 10 % relative spread, truncated at 0 by redrawing so the sign is kept (excitatory
  low: 0, inhibitory high: 0), as the package's ``nest.math.redraw``;
* delays: normal, 1.5 ms (excitatory) / 0.75 ms (inhibitory), 50 % relative spread,
  redrawn below half a step (0.05 ms) and rounded to the 0.1 ms grid, so the shortest
  delay is one step, as the package;
* background: Poisson input at 8 Hz through K_ext synapses per neuron (one Poisson
  source per neuron at 8 Hz x K_ext, delay 1.5 ms) — or, with ``--drive dc``, its mean
  as a constant current (bias) per population;
* below full scale (scale < 1) in-degrees are K * scale, weights are divided by
  sqrt(scale), and a constant current per population restores the mean input lost
  with the synapses, 0.001 tau_syn (1 - sqrt(scale)) x (recurrent input at the full-scale
  rates ``full_mean_rates`` + Poisson input) (helpers.adjust_weights_and_input_to_
  synapse_scaling); the Poisson in-degrees are scaled too;
* ``--thalamus``: 902 thalamic neurons firing at 120 Hz from 700 to 710 ms onto L4 and L6
  (stimulus_params.py), synapses per pair from the same formula times scale (in-degree
  scaling only), weights / sqrt(scale).
* weights are stored as float32 values (``weight_precision: float32``, each drawn weight
  rounded once, a relative change below 6e-8): the engine then keeps a synapse in 8 bytes
  (its packed table), 2.4 GB at full scale; ``--weight-precision float64`` keeps them exact.
* ``--streams per_target`` (for MPI runs on NEST): the recurrent and thalamic projections get
  ``streams: per_target``, so each synapse's weight and delay come from its target's own
  stream and an MPI rank draws only the synapses onto its own neurons (docs/nest.md). The
  same distributions and the same sources (fixed_total_number's already come per target),
  other draws of the weights and delays; the example files keep the default stream.

The membrane is iaf_psc_exp as spikecore's lif_cuba: r = tau_m / C_m = 40 Mohm turns
the PSC weights (pA) and the bias into volts of drive; one receptor of 0.5 ms, since
NEST's tau_syn_ex and tau_syn_in are equal here (their sum is the same current).
Initial potentials: normal per population ("optimized" V0 of the package).
"""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

# ----------------------------------------------------------------------------- PD14 parameters
# microcircuit 1.0, microcircuit/network_params.py (net_dict) — copied, not imported, so this
# script runs without NEST; tests/test_microcircuit.py checks them against the package.
POPULATIONS = ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
NAMES = ["L23e", "L23i", "L4e", "L4i", "L5e", "L5i", "L6e", "L6i"]
FULL_NUM_NEURONS = np.array([20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948])
FULL_MEAN_RATES = np.array([0.903, 2.965, 4.414, 5.876, 7.569, 8.633, 1.105, 7.829])   # Hz
# connection probabilities, [target][source]
CONN_PROBS = np.array([
    [0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0],
    [0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0],
    [0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0],
    [0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0],
    [0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0],
    [0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0],
    [0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252],
    [0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443],
])
PSP_EXC_MEAN = 0.15        # mV
WEIGHT_REL_STD = 0.1
G = -4.0
DELAY_EXC_MEAN = 1.5       # ms
DELAY_INH_MEAN = 0.75      # ms
DELAY_REL_STD = 0.5
K_EXT = np.array([1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100])
BG_RATE = 8.0              # Hz
DELAY_POISSON = 1.5        # ms
V0_MEAN = [-68.28, -63.16, -63.33, -63.45, -63.11, -61.66, -66.72, -61.43]   # mV, "optimized"
V0_STD = [5.36, 4.57, 4.74, 4.94, 4.94, 4.55, 5.46, 4.48]
E_L, V_TH, V_RESET = -65.0, -50.0, -65.0   # mV
C_M, TAU_M, TAU_SYN, T_REF = 250.0, 10.0, 0.5, 2.0   # pF, ms, ms, ms
# microcircuit/stimulus_params.py (stim_dict): optional thalamic input
TH_START, TH_DURATION, TH_RATE, NUM_TH_NEURONS = 700.0, 10.0, 120.0, 902   # ms, ms, Hz
CONN_PROBS_TH = np.array([0.0, 0.0, 0.0983, 0.0619, 0.0, 0.0, 0.0512, 0.0196])
PSP_TH, DELAY_TH_MEAN, DELAY_TH_REL_STD = 0.15, 1.5, 0.5
# microcircuit/sim_params.py: resolution and seed
DT_MS, SEED = 0.1, 55
T_PRESIM_MS, T_SIM_MS = 500.0, 1000.0


# ----------------------------------------------------------------------------- derived (helpers.py)
def num_synapses_from_conn_probs(conn_probs, popsize1, popsize2):
    prod = np.outer(popsize1, popsize2)
    return np.log(1.0 - conn_probs) / np.log((prod - 1.0) / prod)


def psc_over_psp(c_m=C_M, tau_m=TAU_M, tau_syn=TAU_SYN):
    """pA of PSC amplitude per mV of PSP peak for iaf_psc_exp."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac ** tau_m - frac ** tau_syn))


def derive(scale: float = 1.0, drive: str = "poisson", thalamus: bool = False) -> dict:
    """Everything the model file needs, as the package derives it for N_scaling = K_scaling = scale."""
    if not 0 < scale <= 1:
        raise ValueError(f"scale: got {scale}, expected a number in (0, 1]")
    if drive not in ("poisson", "dc"):
        raise ValueError(f"drive: got {drive!r}, expected 'poisson' or 'dc'")
    full_syn = num_synapses_from_conn_probs(CONN_PROBS, FULL_NUM_NEURONS, FULL_NUM_NEURONS)
    sizes = np.round(FULL_NUM_NEURONS * scale).astype(int)
    synapses = np.round(full_syn * scale * scale).astype(int)
    ext_indegrees = np.round(K_EXT * scale).astype(int)
    ratio = psc_over_psp()
    psp = np.zeros((8, 8))
    psp[:, 0::2], psp[:, 1::2] = PSP_EXC_MEAN, PSP_EXC_MEAN * G
    psp[0, 2] = 2.0 * PSP_EXC_MEAN         # L4e -> L2/3e doubled
    psc = psp * ratio
    psc_ext = PSP_EXC_MEAN * ratio
    dc = np.zeros(8) if drive == "poisson" else BG_RATE * K_EXT * psc_ext * TAU_SYN * 0.001
    if scale != 1:
        indegree = full_syn / FULL_NUM_NEURONS[:, None]
        input_rec = np.sum(psc * indegree * FULL_MEAN_RATES, axis=1)
        dc = dc + 0.001 * TAU_SYN * (1.0 - math.sqrt(scale)) * input_rec
        if drive == "poisson":
            dc = dc + 0.001 * TAU_SYN * (1.0 - math.sqrt(scale)) * psc_ext * K_EXT * BG_RATE
        psc, psc_ext = psc / math.sqrt(scale), psc_ext / math.sqrt(scale)
    out = {"scale": scale, "drive": drive, "sizes": sizes, "synapses": synapses, "weights": psc,
           "weight_ext": psc_ext, "dc": dc, "ext_indegrees": ext_indegrees, "thalamus": None}
    if thalamus:
        th = num_synapses_from_conn_probs(CONN_PROBS_TH, NUM_TH_NEURONS, FULL_NUM_NEURONS)[0] * scale
        out["thalamus"] = {"synapses": np.round(th).astype(int), "weight": PSP_TH * ratio / math.sqrt(scale)}
    return out


# ----------------------------------------------------------------------------- the model file
def _f(x: float) -> str:
    return f"{float(x):.10g}"


def _normal(mean, std, unit, low=None, high=None) -> str:
    s = f"{{distribution: normal, mean: {_f(mean)} {unit}, std: {_f(std)} {unit}"
    if low is not None:
        s += f", low: {_f(low)} {unit}"
    if high is not None:
        s += f", high: {_f(high)} {unit}"
    return s + "}"


def _weight(w: float) -> str:
    # redrawn at 0 so the sign is kept, as the package's nest.math.redraw(min=0 / max=0)
    return _normal(w, abs(w) * WEIGHT_REL_STD, "pA", **({"low": 0.0} if w >= 0 else {"high": 0.0}))


def _delay(mean: float, rel_std: float) -> str:
    # redrawn below half a step, then rounded to the grid: the shortest delay is one step
    return _normal(mean, mean * rel_std, "ms", low=0.5 * DT_MS)


def model_file(scale: float = 1.0, drive: str = "poisson", thalamus: bool = False,
               duration_ms: float = T_PRESIM_MS + T_SIM_MS, seed: int = SEED,
               weight_precision: str = "float32", streams: str = "projection") -> str:
    d = derive(scale, drive, thalamus)
    precision = "" if weight_precision == "float64" else f", weight_precision: {weight_precision}"
    if streams not in ("projection", "per_target"):
        raise ValueError(f"streams: got {streams!r}, expected projection or per_target")
    if streams != "projection":
        precision += f", streams: {streams}"
    variant = (f"scale {scale:g}, {drive} drive" + (", thalamic input" if thalamus else "")
               + (", per-target streams" if streams != "projection" else ""))
    lines = [
        f"# Cortical microcircuit, Potjans & Diesmann (2014), Cereb. Cortex 24:785: {variant}.",
        "# Written by examples/microcircuit.py from the parameters of INM-6's PyNEST implementation",
        "# (PyPI microcircuit 1.0, network_params.py and stimulus_params.py); see that script for",
        "# every derived number. Rates are meant to be read after the first 500 ms (the package's",
        "# presimulation).",
        "spikecore: 1",
        f"name: microcircuit{'' if scale == 1 else '_' + format(scale, 'g').replace('.', '_')}",
        f"seed: {seed}",
        f"dt: {_f(DT_MS)} ms",
        f"duration: {_f(duration_ms)} ms",
        "populations:",
    ]
    r_mohm = TAU_M / C_M * 1e3   # ms / pF = 1e9 ohm -> Mohm
    for k, name in enumerate(NAMES):
        lines += [
            f"  {name}:",
            f"    size: {d['sizes'][k]}",
            "    model: lif_cuba",
            f"    params: {{tau_mem: {_f(TAU_M)} ms, r: {_f(r_mohm)} Mohm, v_leak: {_f(E_L)} mV, "
            f"v_threshold: {_f(V_TH)} mV, v_reset: {_f(V_RESET)} mV, t_refrac: {_f(T_REF)} ms, "
            f"bias: {_f(d['dc'][k])} pA, tau_syn: {{syn: {_f(TAU_SYN)} ms}}}}",
            f"    initial: {{v: {_normal(V0_MEAN[k], V0_STD[k], 'mV')}}}",
        ]
    sources = []
    if drive == "poisson":
        for k, name in enumerate(NAMES):
            sources.append(f"  bg_{name}: {{type: poisson, size: {d['sizes'][k]}, "
                           f"rate: {_f(BG_RATE * d['ext_indegrees'][k])} Hz}}   "
                           f"# {d['ext_indegrees'][k]} inputs at {_f(BG_RATE)} Hz")
    if thalamus:
        sources.append(f"  thalamus: {{type: poisson, size: {NUM_TH_NEURONS}, rate: {_f(TH_RATE)} Hz, "
                       f"start: {_f(TH_START)} ms, stop: {_f(TH_START + TH_DURATION)} ms}}")
    if sources:
        lines += ["sources:"] + sources
    lines.append("projections:")
    if drive == "poisson":
        for name in NAMES:
            lines.append(f"  bg_to_{name}: {{pre: bg_{name}, post: {name}, connector: {{type: one_to_one}}, "
                         f"weight: {_f(d['weight_ext'])} pA, delay: {_f(DELAY_POISSON)} ms}}")
    for t, post in enumerate(NAMES):
        for s, pre in enumerate(NAMES):
            n = int(d["synapses"][t, s])
            if n == 0:          # p = 0 in the table: no projection
                continue
            mean_delay = DELAY_EXC_MEAN if s % 2 == 0 else DELAY_INH_MEAN
            lines.append(f"  {pre}_{post}: {{pre: {pre}, post: {post}, "
                         f"connector: {{type: fixed_total_number, n: {n}}}{precision},\n"
                         f"    weight: {_weight(d['weights'][t, s])},\n"
                         f"    delay: {_delay(mean_delay, DELAY_REL_STD)}}}")
    if thalamus:
        for t, post in enumerate(NAMES):
            n = int(d["thalamus"]["synapses"][t])
            if n == 0:
                continue
            lines.append(f"  th_to_{post}: {{pre: thalamus, post: {post}, "
                         f"connector: {{type: fixed_total_number, n: {n}}}{precision},\n"
                         f"    weight: {_weight(d['thalamus']['weight'])},\n"
                         f"    delay: {_delay(DELAY_TH_MEAN, DELAY_TH_REL_STD)}}}")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python examples/microcircuit.py",
        description="Write the Potjans & Diesmann (2014) cortical microcircuit as a spikecore model file, "
                    "with the parameters of INM-6's PyNEST implementation (PyPI microcircuit 1.0). "
                    "examples/microcircuit.yaml is the default output (full scale, Poisson drive); "
                    "examples/microcircuit_small.yaml is --scale 0.1.")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="neuron numbers and in-degrees times SCALE (0 < SCALE <= 1); below 1, weights are "
                         "divided by sqrt(SCALE) and a constant current per population restores the lost mean "
                         "input (the package's N_scaling = K_scaling = SCALE). Default 1")
    ap.add_argument("--drive", choices=("poisson", "dc"), default="poisson",
                    help="background input: Poisson input at 8 Hz through K_ext synapses per neuron, or its "
                         "mean as a constant current per population (the package's default, bg_input_type "
                         "'dc'; meaningful near full scale). Default poisson")
    ap.add_argument("--thalamus", action="store_true",
                    help="add the thalamic pulse (902 neurons at 120 Hz, 700-710 ms, onto L4 and L6)")
    ap.add_argument("--duration", type=float, default=T_PRESIM_MS + T_SIM_MS,
                    help="simulated time in ms (default 1500: 500 ms transient + 1 s)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"network seed (default {SEED}, the package's)")
    ap.add_argument("--weight-precision", choices=("float32", "float64"), default="float32",
                    help="the recurrent and thalamic weights as float32 values (8 bytes per synapse in the "
                         "engine) or exact float64 ones. Default float32")
    ap.add_argument("--streams", choices=("projection", "per_target"), default="projection",
                    help="where the recurrent and thalamic weights and delays are drawn from: one stream per "
                         "projection in the order of its synapse list (the default, the example files'), or "
                         "per_target: each target's own stream, so an MPI rank of the NEST backend draws only "
                         "its own neurons' synapses (docs/nest.md). Default projection")
    ap.add_argument("-o", "--out", help="write here instead of stdout")
    args = ap.parse_args(argv)
    try:
        text = model_file(args.scale, args.drive, args.thalamus, args.duration, args.seed, args.weight_precision,
                          args.streams)
    except ValueError as e:
        ap.error(str(e))
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
