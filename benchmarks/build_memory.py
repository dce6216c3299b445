"""Peak memory, build time and bytes per synapse of large networks on the grid engine.

``python -m benchmarks.build_memory [CASE ...] [--tree PATH] [--threads T]`` builds each case
(Network.to_ir, then the native backend's compile) in a fresh process and prints one table row:
synapses, build seconds, the process's peak RSS (VmHWM) and its growth over the imports, and the
engine's synapse table in bytes per synapse. ``--tree`` runs the same cases against another
checkout of spikecore (e.g. main, for a before/after comparison in one run); a checkout that
has no ``weight_precision`` option runs the float32 cases as float64 and says so.

The network: 10^5 current-based LIF neurons (80 % excitatory), fixed in-degree K (80 % from the
excitatory ones), per-synapse normal weights (87.8 pA and -351 pA, 10 % spread, sign kept by
truncation) and normal delays (1.5 ms and 0.75 ms, 50 % spread, at least 0.1 ms): the
microcircuit's kind of synapses. The machine is shared: timings are noisy (benchmarks/RESULTS.md).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N = 100_000
#: name -> (in-degree K, weight precision)
CASES = {
    "indegree-3e7": (300, "float64"),
    "indegree-3e7-float32": (300, "float32"),
    "indegree-1e8": (1000, "float64"),
    "indegree-1e8-float32": (1000, "float32"),
}


def _hwm() -> int:
    from benchmarks.memory_estimate import _hwm as peak_rss
    return peak_rss()


def build_network(k: int, precision: str):
    """The case's Network (module docstring); returns (network, the precision it got)."""
    import inspect

    from spikecore.network import FixedIndegree, Network, Normal, Population, Projection
    net = Network("build_memory", seed=5, dt="0.1 ms", duration="10 ms")
    params = {"tau_mem": "10 ms", "v_leak": "-65 mV", "v_threshold": "-50 mV", "v_reset": "-65 mV",
              "t_refrac": "2 ms", "r": "40 Mohm", "tau_syn": {"exc": "0.5 ms", "inh": "0.5 ms"}}
    n_e = N * 4 // 5
    net.add(Population(n_e, "lif_cuba", params, name="e"))
    net.add(Population(N - n_e, "lif_cuba", params, name="i"))
    extra = {}
    if "weight_precision" in inspect.signature(Projection).parameters:
        extra["weight_precision"] = precision
    else:
        precision = "float64 (no option)"
    k_e, k_i = k * 4 // 5, k - k * 4 // 5
    w_e = Normal("87.8 pA", "8.78 pA", low="0 pA")
    w_i = Normal("-351.2 pA", "35.12 pA", high="0 pA")
    d_e = Normal("1.5 ms", "0.75 ms", low="0.1 ms")
    d_i = Normal("0.75 ms", "0.375 ms", low="0.1 ms")
    for post in ("e", "i"):
        net.add(Projection("e", post, FixedIndegree(k_e), w_e, d_e, receptor="exc", name=f"e{post}", **extra))
        net.add(Projection("i", post, FixedIndegree(k_i), w_i, d_i, receptor="inh", name=f"i{post}", **extra))
    return net, precision


def child(name: str, threads: int) -> dict:
    from backends import get_backend
    k, precision = CASES[name]
    backend = get_backend("native")
    base = _hwm()
    t0 = time.perf_counter()
    net, precision = build_network(k, precision)
    g = net.to_ir()
    exe = backend.compile(g, threads=threads)
    seconds = time.perf_counter() - t0
    peak = _hwm()
    sim = exe.sim
    return {"case": name, "precision": precision, "threads": threads, "synapses": int(sim.n_synapses),
            "build_s": seconds, "peak": peak, "growth": peak - base,
            "bytes_per_synapse": float(sim.bytes_per_synapse)}


def measure(name: str, tree: Path = ROOT, threads: int = 1, timeout: float = 1800) -> dict:
    """``child(name)`` in a fresh interpreter on the checkout ``tree``."""
    code = (f"import sys; sys.path.insert(0, {str(tree)!r}); import importlib.util, json; "
            f"spec = importlib.util.spec_from_file_location('build_memory_child', {__file__!r}); "
            f"m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m); "
            f"print(json.dumps(m.child({name!r}, {threads})))")
    from benchmarks.memory_estimate import json_from_child
    return json_from_child([sys.executable, "-c", code], tree, f"case {name} on {tree}", timeout)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", help="cases (default: all): " + ", ".join(CASES))
    ap.add_argument("--tree", action="append", type=Path,
                    help="a spikecore checkout to measure (repeatable; default: this one)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    trees = args.tree or [ROOT]
    print("| case | tree | weights | synapses | build s | peak RSS MiB | growth MiB | table B/synapse |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.cases or CASES:
        for tree in trees:
            r = measure(name, tree.resolve(), args.threads)
            print(f"| {name} | {tree} | {r['precision']} | {r['synapses']:.3g} | {r['build_s']:.1f} | "
                  f"{r['peak'] / 2**20:.0f} | {r['growth'] / 2**20:.0f} | {r['bytes_per_synapse']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
