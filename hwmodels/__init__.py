"""hwmodels: hardware precision models as IR -> IR passes.

Quantizers, hardware profiles (ideal, loihi, xylo, spinnaker), coding schemes and
the rate-vs-temporal precision report (DESIGN.md §7). Transforms spikecore.ir
graphs into quantized graphs that every backend can run.
"""
