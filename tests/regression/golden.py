"""Fingerprints of every example and conformance scenario on every engine mode.

The architecture refactor (engine layout, model modules, one simulator base) must
not change a single spike: this module runs each case and reduces its Result to a
fingerprint (SHA-256 of each population's spike times, indices and steps, of each
trace, and the Result's descriptive fields). ``golden.json`` beside it holds the
fingerprints recorded before the refactor, written by::

    .venv/bin/python tests/regression/golden.py --write

and ``test_golden.py`` compares against it. Cases marked ``slow`` (Brian2 and
Lava on the full-size examples) run in the slow suite.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GOLDEN = HERE / "golden.json"

EXAMPLES = ("cuba", "coba", "brunel")
EXAMPLE_MS = {"cuba": 100, "coba": 100, "brunel": 50}

#: mode -> (backend, options)
NATIVE_MODES = {
    "grid": ("native", {}),
    "precise": ("native", {"timing": "precise"}),
    "float32": ("native", {"precision": "float32"}),
    "threads2": ("native", {"threads": 2}),
    "loihi": ("native", {"format": "loihi", "policy": "approximate"}),
}
PEER_MODES = {
    "brian2_runtime": ("brian2", {"target": "numpy"}),
    "lava_fixed": ("lava", {"format": "fixed", "policy": "approximate"}),
}


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(str(a.dtype).encode())
        h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()[:24]


def fingerprint(result) -> dict:
    """What must not change: spikes (times, indices, steps), traces, and the Result's fields."""
    spikes = {}
    for name, (t, i) in sorted(result.spikes.items()):
        t, i = np.asarray(t, np.float64), np.asarray(i, np.int64)
        steps = result.spike_steps.get(name)
        parts = [t, i] + ([np.asarray(steps, np.int64)] if steps is not None else [])
        spikes[name] = {"n": int(t.size), "sha": _digest(*parts)}
    traces = {}
    for mname, m in sorted(result.traces.items()):
        traces[mname] = {var: _digest(np.asarray(m["times"], np.float64), np.asarray(block, np.float64))
                         for var, block in sorted(m["variables"].items())}
        traces[mname]["neurons"] = [int(x) for x in np.asarray(m["neurons"]).ravel()]
        traces[mname]["target"] = m["target"]
    return {"backend": result.backend, "duration": result.duration, "dt": result.dt,
            "sizes": {k: int(v) for k, v in sorted(result.sizes.items())}, "seed": result.seed,
            "model": result.model, "n_synapses": int(result.n_synapses),
            "approximations": sorted(map(str, result.approximations)),
            "spikes": spikes, "traces": traces}


def _example(name):
    from spikecore.io import load_network
    return load_network(ROOT / "examples" / f"{name}.yaml")


def _scenarios():
    sys.path.insert(0, str(ROOT / "tests" / "conformance"))
    try:
        import conformance_scenarios
    finally:
        sys.path.pop(0)
    return conformance_scenarios


def _conformance(name=None):
    """The whole conformance suite in one network, or one scenario of it (precise, Loihi and Lava
    refuse some models, which would refuse the whole suite)."""
    cs = _scenarios()
    return cs.build_suite([s for s in cs.SCENARIOS if name is None or s.name == name])


def cases():
    """(case id, make network, duration in s, backend, options, slow)."""
    out = []
    for ex in EXAMPLES:
        dur = f"{EXAMPLE_MS[ex]} ms"
        for mode, (be, opts) in NATIVE_MODES.items():
            out.append((f"example:{ex}:{mode}", lambda ex=ex: _example(ex), dur, be, opts, False))
        for mode, (be, opts) in PEER_MODES.items():
            out.append((f"example:{ex}:{mode}", lambda ex=ex: _example(ex), dur, be, opts, True))
    for mode, (be, opts) in {**NATIVE_MODES, **PEER_MODES}.items():
        out.append((f"conformance:{mode}", _conformance, None, be, opts, False))
        for sc in _scenarios().SCENARIO_NAMES:
            out.append((f"conformance:{sc}:{mode}", lambda sc=sc: _conformance(sc), None, be, opts, False))
    return out


def run_case(make, duration, backend, options) -> dict:
    from spikecore.errors import SpikecoreError
    net = make()
    try:
        result = net.run(duration, backend=backend, **options)
    except SpikecoreError as e:         # a refusal is part of the behaviour too
        return {"refused": type(e).__name__, "message": str(e)}
    return fingerprint(result)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"record the fingerprints into {GOLDEN.name}")
    ap.add_argument("--only", default="", help="substring of the case ids to run")
    args = ap.parse_args(argv)
    got = {}
    for cid, make, dur, be, opts, _slow in cases():
        if args.only and args.only not in cid:
            continue
        got[cid] = run_case(make, dur, be, opts)
        print(cid, json.dumps(got[cid])[:120], flush=True)
    if args.write:
        old = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
        old.update(got)
        GOLDEN.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))      # this checkout's code, whatever is installed
    main()
