"""Benchmarks: spikecore against its peers (Brian2, NEST, Lava), measured in the same run.

Each script prints ratios (median of several runs) and appends nothing to tests:
tests assert behaviour, benchmarks measure. Results are recorded, with the
command that produced them, in benchmarks/RESULTS.md.
"""
