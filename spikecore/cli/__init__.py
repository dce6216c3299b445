"""The ``spikecore`` command line.

Each subcommand is one module in this package exposing ``add_parser(subparsers)``
and ``main(args) -> int``; ``COMMANDS`` lists them in the order ``--help`` shows.
A user mistake (any SpikecoreError) prints one line and exits 2; tracebacks
only with ``--debug``. SIGINT, SIGTERM and SIGHUP stop any command cleanly
(spikecore.interrupts): one line, exit 128 + the signal; no child process
outlives the command (spikecore.procs).
"""
from __future__ import annotations

import argparse
import importlib
import sys

from .. import procs
from ..errors import SpikecoreError
from ..interrupts import exit_code, handle_interrupts, signal_name

COMMANDS = ["run", "info", "compare", "export", "plot", "lint", "deploy", "precision", "sweep", "fi"]

EPILOG = """examples:
  spikecore run examples/cuba.yaml                      simulate 1 s on the native engine
  spikecore run examples/cuba.yaml --duration 200ms --dt 0.05ms --seed 3 --out results/cuba
  spikecore info examples/brunel.yaml                   validate a model and print its size
  spikecore compare examples/cuba.yaml --backends native,brian2   do the native engine and Brian2 agree?
  spikecore run examples/cuba.yaml --backend nest --threads 2   the same network on NEST (docs/nest.md)
  spikecore export examples/cuba.yaml -o cuba.nir --keep-refractory   the model as a NIR graph
  spikecore export results/cuba -o cuba.nix              the result as a Neo block
  spikecore plot results/cuba                            raster, rate, ISI and traces in one PNG
  spikecore run examples/cuba.yaml --backend lava --format fixed --policy approximate   on Loihi's simulator
  spikecore lint examples/cuba.yaml --target loihi2     what Loihi 2 would clip, truncate or approximate
  spikecore deploy examples/cuba.yaml --target lava-sim --out deploy/cuba --policy approximate
  spikecore sweep examples/cuba.yaml --set populations.exc.params.v_leak=-55mV:-45mV:5 --out results/sweep
  spikecore fi examples/izhikevich_class1.yaml --population n --currents 0pA:10pA:41 --out results/fi
                                                        f-I curve, rheobase, Type I or Type II onset

Quantities take units: 200ms, 0.1 ms, 1s. Results go to --out DIR as summary.json,
spikes.npz (and traces.npz when state is monitored) plus a raster/rate PNG and
manifest.json; DIR is checked before any work and replaced only by a complete result.

exit status:
  0 success; 1 the verdict was no (compare: a metric out of tolerance, lint: an error
  finding); 2 a mistake in the input (one line names it); 3 an internal error;
  130, 143, 129: interrupted by SIGINT (Ctrl-C), SIGTERM, SIGHUP -- the command stops
  cleanly, ends its child processes and removes its temporary files (docs/reliability.md)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spikecore",
        description="Describe a spiking network once; simulate it on the native engine, "
                    "check it against Brian2, deploy it to Lava.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__name__}.{name}").add_parser(sub)
    return parser


def _values_may_start_with_dash(parser: argparse.ArgumentParser, argv: list) -> list:
    """``--duration -1s`` -> ``--duration=-1s`` for options that take a value.

    argparse reads a value starting with '-' as the next option ("expected one
    argument"); joined to its option it reaches our validation, which says what
    is wrong with it."""
    takes_value, options = set(), set()
    parsers = [parser]
    while parsers:
        p = parsers.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            options.update(action.option_strings)
            if action.option_strings and action.nargs is None and not isinstance(
                    action, (argparse._StoreConstAction, argparse._CountAction)):
                takes_value.update(action.option_strings)
    out, k = [], 0
    while k < len(argv):
        arg = argv[k]
        if (arg in takes_value and k + 1 < len(argv) and argv[k + 1].startswith("-")
                and argv[k + 1] not in options and argv[k + 1] != "--"):
            out.append(f"{arg}={argv[k + 1]}" if arg.startswith("--") else f"{arg}{argv[k + 1]}")
            k += 2
            continue
        if arg == "--":
            out.extend(argv[k:])
            break
        out.append(arg)
        k += 1
    return out


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(_values_may_start_with_dash(parser, argv))
    if args.command is None:
        parser.print_help()
        return 2
    earlier_children = procs.children()     # a caller's (main() may run inside a program)
    with handle_interrupts() as interrupts:
        try:
            code = _dispatch(args)
            interrupts.defer()    # a signal from here on is reported, not raised into the clean-up
        except KeyboardInterrupt as e:          # one that came just after the command's own handling
            code = _interrupted(args, e)
        procs.reap_children(keep=earlier_children)
    late = interrupts.late_signal()
    if late is not None and code == 0:
        print(f"spikecore {args.command}: interrupted by {late.name}", file=sys.stderr)
        return late.exit_code
    return code


def _dispatch(args) -> int:
    try:
        return int(args.func(args) or 0)
    except SpikecoreError as e:
        if args.debug:
            raise
        print(f"spikecore {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into head & co.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as e:    # SIGINT, SIGTERM, SIGHUP (spikecore.interrupts)
        return _interrupted(args, e)
    except Exception as e:  # an internal error still gets one line unless --debug
        if args.debug:
            raise
        print(f"spikecore {args.command}: internal error: {type(e).__name__}: {e} (rerun with --debug)",
              file=sys.stderr)
        return 3


def _interrupted(args, e: KeyboardInterrupt) -> int:
    print(f"spikecore {args.command}: interrupted by {signal_name(e)}", file=sys.stderr)
    return exit_code(e)


def run_main():
    sys.exit(main())
