"""Batch simulator (hwmodels.batch) against the native engine, per inference, same network and inputs.

The precision report simulates thousands of inferences per sweep point; this
measures what batching buys. For each code and bit width it builds the
digits MLP classifier of hwmodels.conversion and times

* native: one spikecore Network per sample (input spikes baked into its spike
  source), ``to_ir`` + compile + run on backends.native — what a user would do;
* batch: the same samples through one ``BatchNet.run`` call;

and prints the median of ``--repeats`` runs, inferences per second and the ratio.
The spikes are checked to be identical on every sample before timing counts.

    python -m benchmarks.precision [--samples 20] [--repeats 3] [--bits 4,8]
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _native_run(model, code, ticks, ev, n_steps, k):
    from backends import get_backend
    from hwmodels import conversion as conv

    a, b = ev.ptr[k], ev.ptr[k + 1]
    steps, idx = np.repeat(ev.step[a:b], ev.mult[a:b]), np.repeat(ev.index[a:b], ev.mult[a:b])
    if code == "rate":
        g = conv.to_ir(conv.build_rate_network(model, ticks, steps, idx))
    else:
        g = conv.finalize_temporal(conv.to_ir(conv.build_temporal_network(model, ticks, steps, idx)))
    res = get_backend("native").compile(g).run(n_steps * g.dt)
    t, i = res.spikes["out"]
    return np.bincount(i, minlength=model.n_classes)


def main(argv=None):
    from hwmodels import conversion as conv
    from hwmodels.batch import BatchNet
    from hwmodels.coding import RateCode, TemporalCode
    from hwmodels.precision import load_task, train

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--bits", default="4,8")
    args = ap.parse_args(argv)
    Xtr, Xte, ytr, yte, _ = load_task("digits", 0)
    model = conv.normalize(train("mlp", Xtr, ytr, 0), Xtr)
    X = Xte[:args.samples]
    print(f"digits MLP 64-64-10, {args.samples} samples, median of {args.repeats}")
    print(f"{'code':9s}{'bits':>5s}{'native inf/s':>14s}{'batch inf/s':>13s}{'batch/native':>14s}")
    for code in ("rate", "temporal"):
        for bits in (int(b) for b in args.bits.split(",")):
            enc = RateCode(bits) if code == "rate" else TemporalCode(bits)
            ev = enc.encode(X)
            if code == "rate":
                g = conv.to_ir(conv.build_rate_network(model, enc.ticks))
                n_steps = conv.rate_steps(model, enc.ticks)
            else:
                g = conv.finalize_temporal(conv.to_ir(conv.build_temporal_network(model, enc.ticks)))
                n_steps = conv.temporal_steps(model, enc.ticks)
            bn = BatchNet(g)
            bn.run(ev, n_steps)  # compile or load the kernel outside the timing
            counts = bn.run(ev, n_steps).counts
            for k in range(args.samples):   # identical spikes before anything is timed
                if not np.array_equal(_native_run(model, code, enc.ticks, ev, n_steps, k), counts[k]):
                    raise SystemExit(f"{code} {bits} bits sample {k}: batch and native output counts differ")
            t_nat, t_bat = [], []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                for k in range(args.samples):
                    _native_run(model, code, enc.ticks, ev, n_steps, k)
                t_nat.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                bn.run(ev, n_steps)
                t_bat.append(time.perf_counter() - t0)
            nat, bat = statistics.median(t_nat), statistics.median(t_bat)
            print(f"{code:9s}{bits:5d}{args.samples / nat:14.1f}{args.samples / bat:13.1f}{nat / bat:13.1f}x")


if __name__ == "__main__":
    main()
