"""``spikecore fi MODEL --population P --currents 0nA:1nA:41 --out DIR``: the f-I curve,
rheobase and onset type of a population's neuron model (spikecore.analysis.fi, docs/fi.md).
Writes DIR/fi.json, DIR/fi.png and DIR/manifest.json through spikecore.io.results."""
from __future__ import annotations

import argparse
import sys

from .. import units as u
from ..errors import ValidationError
from .common import load_model
from .run import parse_options

DESCRIPTION = """\
Drive population P's neuron model with constant currents and measure its f-I curve.

One run holds one copy of P's neuron per current (the current is its `bias`; P's
projections, sources and injected currents are left out); the rate of each is
1 / mean inter-spike interval after --transient (0 Hz below two spikes, or when it stopped
firing). A few more runs of 8 neurons narrow the rheobase down to --resolution (1e-7) of
the range, and one run probes the onset over decades of I - I_c above it.

Onset types (fi.json "onset"):
  type1        continuous onset through a saddle-node on an invariant circle (SNIC):
               f ~ (I - I_c)^beta with beta about 1/2; "exponent" and its 95 % CI
  type2        a jump to a non-zero rate at the rheobase (a Hopf bifurcation, rest losing
               stability to an oscillation): "min_rate_hz", the rate at the rheobase,
               judged at the bisection's resolution
  logarithmic  continuous, but 1/f grows only with log(1/(I - I_c)): a leaky
               integrate-and-fire's onset (no exponent is fitted)
  null         the range does not bracket the rheobase, or too few onset probes fire
               above the rate floor 1/(duration - transient); a note says which

Units: currents with units (pA, nA, uA, A). For izhikevich, I = current / c_m and with
its default c_m = 1 pF, 1 pA is I = 1 mV/ms: Izhikevich's I and NEST's I_e in pA
(docs/models.md). LIF models: the drive is r * current; adex: the current itself."""

EPILOG = """examples:
  spikecore fi examples/izhikevich_class1.yaml --population n --currents 0pA:10pA:41 --out results/class1
  spikecore fi examples/adex_type2.yaml --population n --currents 0nA:2nA:41 --out results/adex
  spikecore fi examples/cuba.yaml --population exc --currents -0.2nA:0.5nA:41 --duration 2s --out results/lif

The output directory holds fi.json (model, currents_A, rates_hz, first_spike_s,
rheobase_A, rheobase_resolution_A, onset, exponent, exponent_ci95, min_rate_hz,
onset_probes, notes), fi.png and manifest.json; it is replaced only by a complete result."""


def add_parser(sub):
    p = sub.add_parser("fi", help="f-I curve, rheobase and onset type (Type I / Type II) of a neuron model",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", help="model file (.yaml, .yml, .json)")
    p.add_argument("--population", required=True, help="the population whose neuron model is measured")
    p.add_argument("--currents", required=True, metavar="START:STOP:COUNT",
                   help="constant currents, e.g. 0nA:1nA:41 (COUNT >= 3, START below STOP)")
    p.add_argument("--duration", help="simulated time of every run, e.g. 2s (default: the model's)")
    p.add_argument("--transient", default="0.5s", help="time discarded before rates are measured (default 0.5s)")
    p.add_argument("--dt", help="time step, e.g. 0.1ms (default: the model's)")
    p.add_argument("--resolution", type=float, default=None, metavar="REL",
                   help="width of the rheobase's bracket as a fraction of the current range (default 1e-7); "
                        "the onset type is judged at this resolution")
    p.add_argument("--backend", default="native", help="backend that runs the neurons (default native)")
    p.add_argument("--option", "-O", action="append", default=[], metavar="KEY=VALUE",
                   help="backend option, repeatable")
    p.add_argument("--out", required=True, help="output directory for fi.json, fi.png and manifest.json")
    p.add_argument("--no-plot", action="store_true", help="skip fi.png")
    p.set_defaults(func=main)
    return p


def _time(text, flag, allow_zero=False):
    value = u.to_si(text, u.TIME, flag)
    if not (value > 0 or (allow_zero and value == 0)):
        raise ValidationError(flag, text, "a time >= 0" if allow_zero else "a positive time")
    return value


def main(args) -> int:
    from ..analysis.fi import REL_RESOLUTION, check_times, current_range, fi_curve, write_fi_files
    from ..io.results import ResultDirectory

    currents = current_range(args.currents)
    transient = _time(args.transient, "--transient", allow_zero=True)
    net = load_model(args.model)
    duration = net.duration if args.duration is None else _time(args.duration, "--duration")
    check_times(duration, transient)
    dt = None if args.dt is None else _time(args.dt, "--dt")
    resolution = REL_RESOLUTION if args.resolution is None else args.resolution
    if not 1e-12 <= resolution < 1:
        raise ValidationError("--resolution", args.resolution, "a fraction of the current range in [1e-12, 1)")
    if args.population not in net.populations:
        from ..errors import nearest
        raise ValidationError("--population", args.population, "a population of the model: "
                              + ", ".join(net.populations) + nearest(args.population, list(net.populations)))
    with ResultDirectory(args.out, "fi", flag="--out") as staging:    # checked before any run
        fi = fi_curve(net, args.population, currents, duration=duration, transient=transient, dt=dt,
                      backend=args.backend, progress=sys.stderr.isatty(), rel_resolution=resolution,
                      **parse_options(args.option))
        fi["model"] = str(args.model)
        write_fi_files(fi, staging.path, plot=not args.no_plot)
    print(summary(fi))
    print(f"results in {args.out}/ (fi.json{'' if args.no_plot else ', fi.png'}, manifest.json)")
    return 0


def summary(fi: dict) -> str:
    lines = [f"f-I of {fi['population']} ({fi['neuron_model']}), {len(fi['currents_A'])} currents, "
             f"rates after {fi['transient_s']:g} s of {fi['duration_s']:g} s (floor {fi['rate_floor_hz']:.3g} Hz)"]
    if fi["rheobase_A"] is not None:
        lines.append(f"  rheobase {fi['rheobase_A'] * 1e12:.6g} pA (resolution {fi['rheobase_resolution_A'] * 1e12:.2g} pA)")
    onset = fi["onset"]
    if onset == "type1":
        ci = fi["exponent_ci95"]
        lines.append(f"  onset type1 (continuous, SNIC): exponent {fi['exponent']:.3f}"
                     + (f" [95 % CI {ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""))
    elif onset == "type2":
        lines.append(f"  onset type2 (a jump, Hopf): {fi['min_rate_hz']:.3g} Hz at the rheobase")
    elif onset == "logarithmic":
        lines.append("  onset logarithmic (continuous, 1/f ~ log(1/(I - I_c)): integrate-and-fire)")
    for note in fi["notes"]:
        lines.append(f"  note: {note}")
    return "\n".join(lines)
