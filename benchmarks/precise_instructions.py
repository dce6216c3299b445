"""Run one example in precise timing on the native backend, for an instruction count.

On a loaded machine wall and CPU times of the precise kernel vary by a third from run to
run; callgrind's instruction count of the kernel's step does not. Each tree with its own
compiled engine, from the tree's root:

    valgrind --tool=callgrind --toggle-collect='*PreciseKernel__step*' \\
        .venv/bin/python benchmarks/precise_instructions.py examples/cuba.yaml 0.1

(the count is the line ``Collected``; the spike count printed here must agree between
the trees).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backends import get_backend  # noqa: E402
from spikecore.io import load_network  # noqa: E402


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: precise_instructions.py MODEL_FILE DURATION_S", file=sys.stderr)
        return 2
    g = load_network(argv[0]).to_ir(timing="precise")
    res = get_backend("native").compile(g, timing="precise").run(float(argv[1]))
    print("spikes", sum(t.size for t, _ in res.spikes.values()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
