"""``spikecore export``: a model to NIR, or a result directory to Neo.

* ``spikecore export MODEL --format nir -o FILE.nir`` realises MODEL (.yaml, .yml,
  .json or .nir) and writes its NIR graph (spikecore.io.nir);
* ``spikecore export RESULT_DIR --format neo -o FILE.nix`` reads a result directory
  written by ``spikecore run`` and writes a Neo block (spikecore.io.neo).

The format defaults from -o's suffix, else from SOURCE (a directory is a result).
"""
from __future__ import annotations

from pathlib import Path

from .. import units as u
from ..errors import ValidationError
from ..io.results import check_output_file, repair_before_reading
from .common import load_model, quantity_arg

DESCRIPTION = """Export a model to NIR, or a simulation result to Neo.

  MODEL --format nir       the network as a NIR graph (HDF5 .nir), readable by nir.read,
                           snnTorch, Norse, Sinabs, Rockpool, Lava-dl ... and by
                           `spikecore run FILE.nir`
  RESULT_DIR --format neo  the spikes (a SpikeTrain per neuron) and monitored traces
                           (AnalogSignals with units) as a Neo block, for Elephant & co.
                           -o suffix picks the Neo IO: .nix (NixIO, default), .mat, .pkl"""

EPILOG = """examples:
  spikecore export examples/cuba.yaml --format nir -o cuba.nir --keep-refractory
  spikecore run cuba.nir --out results/cuba_nir        a .nir file is a model file
  spikecore run examples/cuba.yaml --out results/cuba
  spikecore export results/cuba --format neo -o cuba.nix
  spikecore export results/cuba -o cuba.mat            format from the suffix

NIR has no conductance synapses and no refractory period: lif_coba models and
t_refrac > 0 are refused with a one-line reason; --keep-refractory stores
t_refrac in spikecore metadata, which other NIR tools ignore. Several receptors
become NIR's own CubaLIF decomposition (one LI synaptic filter per receptor).
NIR weights are dense matrices: very large projections are refused."""

NIR_SUFFIX = ".nir"


def add_parser(sub):
    import argparse

    p = sub.add_parser("export", help="export a model to NIR or a result directory to Neo",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", metavar="SOURCE", help="a model file (for nir) or a result directory (for neo)")
    p.add_argument("--format", "-f", choices=("nir", "neo"),
                   help="nir (SOURCE is a model) or neo (SOURCE is a result directory); "
                        "default: from -o's suffix, else from SOURCE")
    p.add_argument("--output", "-o", metavar="FILE",
                   help="output file (default: MODEL's name with .nir in the current directory; "
                        "RESULT_DIR/result.nix)")
    p.add_argument("--dt", help="nir: time step the model is realised with, e.g. 0.1ms (default: the model's)")
    p.add_argument("--seed", type=int, help="nir: network seed (default: the model's)")
    p.add_argument("--keep-refractory", action="store_true",
                   help="nir: store t_refrac in spikecore metadata instead of refusing it")
    p.set_defaults(func=main)
    return p


def _format(args) -> str:
    from ..io.neo import NEO_FORMATS

    if args.format:
        return args.format
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix == NIR_SUFFIX:
            return "nir"
        if suffix in NEO_FORMATS:
            return "neo"
    return "neo" if Path(args.source).is_dir() else "nir"


def main(args) -> int:
    repair_before_reading(args.source)   # a result directory a killed writer left half-swapped
    fmt = _format(args)
    source = Path(args.source)
    if fmt == "nir":
        return _export_nir(args, source)
    return _export_neo(args, source)


def _export_nir(args, source: Path) -> int:
    from ..io.nir import save_nir

    if source.is_dir():
        raise ValidationError("SOURCE", str(source), "a model file (.yaml, .yml, .json, .nir) for --format nir "
                                                     "(a result directory exports with --format neo)")
    out = Path(args.output) if args.output else Path(source.stem + NIR_SUFFIX)
    if out.suffix.lower() != NIR_SUFFIX:
        raise ValidationError("--output", str(out), f"a file name ending in {NIR_SUFFIX} for --format nir")
    check_output_file(out, "--output")   # before the model is realised
    net = load_model(source)
    dt = quantity_arg(args.dt, u.TIME, "--dt")
    g = net.to_ir(dt=dt, seed=args.seed)
    save_nir(g, out, duration=u.Quantity(net.duration, u.TIME), keep_refractory=args.keep_refractory)
    print(f"wrote {out}: NIR graph of '{g.name}' ({len(g.populations)} populations, {g.n_neurons} neurons, "
          f"{len(g.projections)} projections, {g.n_synapses} synapses, dt {g.dt * 1e3:g} ms)")
    return 0


def _export_neo(args, source: Path) -> int:
    from ..io.neo import NEO_FORMATS, neo_io, write_neo
    from ..result import Result

    if not source.is_dir():
        raise ValidationError("SOURCE", str(source), "a result directory (written by `spikecore run --out DIR`) "
                                                     "for --format neo (a model exports with --format nir)")
    out = Path(args.output) if args.output else source / "result.nix"
    for flag in ("dt", "seed"):
        if getattr(args, flag) is not None:
            raise ValidationError(f"--{flag}", getattr(args, flag), "nothing: a result is exported as it was run")
    neo_io(out)   # a supported suffix, before anything is read or written
    check_output_file(out, "--output")
    result = Result.load(source)
    block = result.to_neo()
    write_neo(block, out)
    seg = block.segments[0]
    io_name = NEO_FORMATS[out.suffix.lower()][0]
    print(f"wrote {out} ({io_name}): 1 segment, {len(seg.spiketrains)} spike trains "
          f"({sum(st.size for st in seg.spiketrains)} spikes), {len(seg.analogsignals)} analog signals")
    return 0
