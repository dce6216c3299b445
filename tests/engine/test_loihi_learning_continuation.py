"""Continued runs of the Loihi learning emulator (LearningEmulator.run called again): run(a), run(b),
run(c) gives what one run(a + b + c) gives, bit for bit, in both kernels -- spikes, final u and v,
weights, tags and traces, probe samples and weight snapshots -- with the cuts inside epochs, across
DelayDense rings still holding inputs, reward neurons, graded inputs and bias changes; and a network
handed over for the longer run with ``extend`` (the inputs of the first part only at first)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from benchmarks.lava_learning_reference import differences, random_learning_net, random_recurrent_net
from spikecore.engine.loihi_learning import LearningEmulator, LearningNet, LifProbe
from spikecore.errors import ValidationError

CUTS = (37, 101, 5)           # parts of the run: inside epochs of every length the generators draw


def _parts(emu: LearningEmulator, n_steps: int, probes=(), snapshot_every: int = 0) -> list:
    out, done = [], 0
    for k in (*CUTS, n_steps - sum(CUTS)):
        out.append(emu.run(k, snapshot_every=snapshot_every, probes=probes))
        done += k
    assert emu.step == done == n_steps
    return out


def _assert_parts_equal_whole(parts, whole):
    """The parts' spikes, probe samples and snapshots joined, and the last part's state, equal the whole run's."""
    last = parts[-1]
    joined = dataclasses.replace(last, spikes={g: np.concatenate([p.spikes[g] for p in parts]) for g in whole.spikes})
    assert differences(joined, whole) == []
    for k, (t, v) in enumerate(whole.probes):
        np.testing.assert_array_equal(np.concatenate([p.probes[k][0] for p in parts]), t)
        np.testing.assert_array_equal(np.concatenate([p.probes[k][1] for p in parts]), v)
    snaps = [s for p in parts for s in p.snapshots]
    assert [t for t, _ in snaps] == [t for t, _ in whole.snapshots]
    for (_, a), (_, b) in zip(snaps, whole.snapshots):
        for name in b:
            np.testing.assert_array_equal(a[name], b[name])


def _probes(net: LearningNet) -> list:
    g = net.groups[0]
    return [LifProbe(g.name, "v", [0, g.size - 1], 1, 0), LifProbe(g.name, "u", [0], 7, 3)]


@pytest.mark.parametrize("kernel", ["compiled", "numpy"])
@pytest.mark.parametrize("make, seed", [(random_learning_net, 41), (random_recurrent_net, 42),
                                        (lambda rng, n: random_learning_net(rng, n, sparse=True), 43)])
def test_a_run_in_parts_equals_one_run(kernel, make, seed):
    n = 300
    net = make(np.random.default_rng(seed), n)
    probes = _probes(net)
    whole = LearningEmulator(net, kernel=kernel).run(n, snapshot_every=10, probes=probes)
    assert sum(int(s.sum()) for s in whole.spikes.values()) > 0
    parts = _parts(LearningEmulator(net, kernel=kernel), n, probes, snapshot_every=10)
    _assert_parts_equal_whole(parts, whole)


def test_kernels_agree_on_continued_runs():
    net = random_recurrent_net(np.random.default_rng(44), 300)
    a = _parts(LearningEmulator(net, kernel="numpy"), 300)
    b = _parts(LearningEmulator(net), 300)
    for x, y in zip(a, b):
        assert differences(x, y) == []


def test_bias_changes_across_the_cuts():
    net = random_recurrent_net(np.random.default_rng(45), 300)
    e = net.groups[0]
    rng = np.random.default_rng(1)
    e.bias_changes = ((30, rng.integers(0, 3000, e.size)), (38, np.zeros(e.size, int)),
                      (139, rng.integers(1000, 4000, e.size)), (250, rng.integers(-100, 100, e.size)))
    whole = LearningEmulator(net).run(300)
    _assert_parts_equal_whole(_parts(LearningEmulator(net), 300), whole)
    assert differences(whole, LearningEmulator(dataclasses.replace(
        net, groups=[dataclasses.replace(e, bias_changes=())] + net.groups[1:])).run(300))


def _first_part(net: LearningNet, n: int) -> LearningNet:
    """``net`` as described for a run of n steps: its inputs' first n columns, its bias changes up to n."""
    return LearningNet([dataclasses.replace(g, bias_changes=tuple((t, b) for t, b in g.bias_changes if t <= n))
                        for g in net.groups],
                       [dataclasses.replace(s, data=np.asarray(s.data)[:, :n]) for s in net.inputs], net.conns)


@pytest.mark.parametrize("kernel", ["compiled", "numpy"])
def test_extend_hands_over_the_inputs_of_the_longer_run(kernel):
    net = random_learning_net(np.random.default_rng(46), 300)
    e = net.groups[0]
    e.bias_changes = ((90, np.full(e.size, 2000)), (200, np.zeros(e.size, int)))
    whole = LearningEmulator(net, kernel=kernel).run(300)
    emu = LearningEmulator(_first_part(net, 120), kernel=kernel)
    first = emu.run(120)
    emu.extend(net)
    second = emu.run(180)
    _assert_parts_equal_whole([first, second], whole)


def test_extend_refuses_another_network():
    net = random_learning_net(np.random.default_rng(47), 50)
    other = random_learning_net(np.random.default_rng(48), 50)
    emu = LearningEmulator(net)
    emu.run(10)
    if [(g.name, g.size) for g in other.groups] != [(g.name, g.size) for g in net.groups] or \
            [c.name for c in other.conns] != [c.name for c in net.conns]:
        with pytest.raises(ValidationError, match="net"):
            emu.extend(other)
    smaller = dataclasses.replace(net, groups=[dataclasses.replace(net.groups[0], size=net.groups[0].size + 1)]
                                  + net.groups[1:])
    with pytest.raises(ValidationError, match="net"):
        emu.extend(smaller)


def test_state_written_between_runs_is_stepped_on():
    """lif(name).v written between runs: the next run starts from it (both kernels alike)."""
    net = random_recurrent_net(np.random.default_rng(49), 200)
    runs = []
    for kernel in ("compiled", "numpy"):
        emu = LearningEmulator(net, kernel=kernel)
        emu.run(100)
        emu.lif(net.groups[0].name).v[:] = 0
        runs.append(emu.run(100))
    assert differences(*runs) == []
    assert differences(runs[0], _parts(LearningEmulator(net), 200)[-1])
