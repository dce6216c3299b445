"""hwmodels: hardware precision models as IR -> IR passes, and the precision report.

* ``quantizers`` — weights, spike counters, clocks/timestamps, state variables, decays;
* ``profiles`` — chips as data (ideal, loihi, xylo, spinnaker, user YAML);
* ``passes`` — ``quantize(ir, profile) -> ir``: the network as the chip holds it;
* ``conversion`` — float classifiers to rate- and time-to-first-spike-coded networks;
* ``coding`` — rate and temporal encoders/decoders;
* ``continuous`` — the temporal code in continuous time, run in the native engine's
  precise mode: the reference clock quantization, jitter and drift are measured against;
* ``batch`` — numba batch simulator, spike for spike the native engine's;
* ``precision`` / ``report`` — the rate-vs-temporal precision report (benchmarks/RESULTS.md),
  ``spikecore precision`` on the command line.

``hwmodels.loihi`` (the exact Loihi conversion, written with the Lava backend) plugs
into the ``loihi`` profile through ``Profile.exact``.
"""
