"""The conformance fixture: every scenario runs on every installed backend.

``backend`` is parametrised over ``backends.available_backends()``; a backend
may run in several variants (VARIANTS: Brian2 with its numpy target by default,
its Cython target and cpp_standalone device in the slow run, because their
first builds compile C code for minutes). A variant's results are compared with
the *reference* backend's: Brian2, the field's reference; Brian2's own results
are compared with the native engine's.

A backend that cannot express a scenario either refuses it when compiling
(``UnsupportedFeature``, the backend contract) or opts out beforehand with a
mapping on its ``Backend`` object (for what it compiles but simulates
differently, e.g. a fixed-point format)::

    conformance_exclusions = {"exact_threshold": "fixed-point state: no ulps",
                              "poisson_exact": "draws its own Poisson trains"}

Either way the scenario is skipped with that reason (never silently passed). What a backend
runs but by design does differently in one part of a scenario — its own ``checks``, its
``spikes`` or its ``traces`` against the reference — it declares with the reason::

    conformance_differences = {("reset", "traces"): "the input ... (docs/nest.md)"}

and that part runs as a strict xfail (so the difference is shown, and a fix shows up as XPASS). Results are cached for the session: one build per variant
runs every deterministic scenario (tests/conformance/conformance_scenarios.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from backends import available_backends, get_backend
from spikecore.errors import UnsupportedFeature

from conformance_scenarios import SCENARIOS, build_suite

REFERENCE = "brian2"
SECOND_REFERENCE = "native"       # the reference's own reference

# backend -> [(label, options, slow)]; backends not listed run once with default options
VARIANTS = {
    "brian2": [("numpy", {"target": "numpy"}, False),
               ("cython", {}, True),
               ("cpp_standalone", {"device": "cpp_standalone"}, True)],
}

# Known differences of other backends, found by this suite: (backend, scenario, part) -> reason, the part
# being the scenario's own "checks", its "spikes" or its "traces" against the reference. They run as strict
# xfails, so a fix shows up as XPASS and the entry must go; a backend that simulates a feature differently
# by design declares it on its Backend object instead (conformance_exclusions, conformance_differences).
_LAVA_RESET = ("lava: a delta input arriving in its target's spike step is applied after the reset "
               "(Loihi) instead of being lost to it (IR step 4-5)")
_LAVA_MULTIPLICITY = ("lava: two spikes of one spike-source neuron in one step are delivered as one "
                      "(Poisson counts are graded messages, spike-time sources are not)")
KNOWN_DIFFERENCES = {
    ("lava", "multiplicity", "checks"): _LAVA_MULTIPLICITY,
    ("lava", "multiplicity", "traces"): _LAVA_MULTIPLICITY,
    ("lava", "reset", "checks"): _LAVA_RESET,
    ("lava", "reset", "traces"): _LAVA_RESET,
    ("lava", "poisson", "spikes"): "lava: delta inputs arriving in a spike step survive the reset (see 'reset'), "
                                   "so the Poisson-driven network's spikes drift by a step",
}

# (backend, statistical case) pairs that cost too much for the fast suite, run with the slow ones:
# NEST integrates COBA with GSL's adaptive solver and replays Brunel's 20 kHz Poisson trains as
# spike_generator events, tens of seconds each on a loaded 2-core machine (cuba stays fast).
SLOW_STATISTICAL = {("nest", "coba"), ("nest", "brunel_small")}

_CACHE: dict = {}


@dataclass(frozen=True)
class Variant:
    backend: str
    label: str = ""
    options: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def id(self) -> str:
        return f"{self.backend}-{self.label}" if self.label else self.backend

    @property
    def exclusions(self) -> dict:
        return dict(getattr(get_backend(self.backend), "conformance_exclusions", {}) or {})

    def unsupported(self, features) -> list:
        ex = self.exclusions
        return [f"{f} ({ex[f]})" for f in features if f in ex]

    def known_difference(self, request, scenario_name, part):
        """Mark the test xfail (strict) when this backend differs in this part (checks, spikes, traces)
        of the scenario: KNOWN_DIFFERENCES, or the backend's own ``conformance_differences``."""
        declared = getattr(get_backend(self.backend), "conformance_differences", {}) or {}
        reason = KNOWN_DIFFERENCES.get((self.backend, scenario_name, part)) or declared.get((scenario_name, part))
        if reason:
            request.applymarker(pytest.mark.xfail(strict=True, reason=reason))

    def require(self, features):
        missing = self.unsupported(features)
        if missing:
            pytest.skip(f"{self.backend} opts out of " + ", ".join(missing))

    # -- running ------------------------------------------------------------------
    def run(self, key, make_network, duration=None, **run_kw):
        """Run a network (made by ``make_network()``) once per session and variant.

        A backend that refuses the network (UnsupportedFeature) skips the test with its reason."""
        ck = (self.id, key)
        if ck not in _CACHE:
            net = make_network()
            try:
                exe = get_backend(self.backend).compile(net.to_ir(**run_kw), **self.options)
                _CACHE[ck] = exe.run(duration if duration is not None else net.duration)
            except UnsupportedFeature as e:
                _CACHE[ck] = e
        if isinstance(_CACHE[ck], UnsupportedFeature):
            pytest.skip(f"{self.id} refuses it: {_CACHE[ck]}")
        return _CACHE[ck]

    def refusals(self) -> dict:
        """Scenarios this variant's backend refuses to compile: {name: UnsupportedFeature message}."""
        ck = (self.id, "refusals")
        if ck not in _CACHE:
            refused = {}
            for sc in SCENARIOS:
                if self.unsupported(sc.features):
                    continue
                try:
                    get_backend(self.backend).compile(build_suite([sc]).to_ir(), **self.options)
                except UnsupportedFeature as e:
                    refused[sc.name] = str(e)
            _CACHE[ck] = refused
        return _CACHE[ck]

    def suite(self, scenario=None):
        """The deterministic suite: every scenario this variant supports, in one network.

        Given a scenario, first skips if the backend opts out of it or refuses it."""
        if scenario is not None:
            self.require(scenario.features)
        ck = (self.id, "suite")
        if ck not in _CACHE:
            supported = [s for s in SCENARIOS if not self.unsupported(s.features)]
            try:
                exe = get_backend(self.backend).compile(build_suite(supported).to_ir(), **self.options)
            except UnsupportedFeature:   # find which scenarios it refuses, run the others
                refused = self.refusals()
                supported = [s for s in supported if s.name not in refused]
                exe = get_backend(self.backend).compile(build_suite(supported).to_ir(), **self.options)
            _CACHE[ck] = exe.run(build_suite([]).duration)
            _CACHE[(self.id, "suite_names")] = {s.name for s in supported}
        if scenario is not None and scenario.name not in _CACHE[(self.id, "suite_names")]:
            pytest.skip(f"{self.id} refuses {scenario.name}: {self.refusals().get(scenario.name)}")
        return _CACHE[ck]

    def reference(self):
        """The variant this one is compared with, or None when that backend is not installed."""
        name = REFERENCE if self.backend != REFERENCE else SECOND_REFERENCE
        if name not in INSTALLED:
            return None
        label, options, _ = VARIANTS.get(name, [("", {}, False)])[0]
        return Variant(name, label, dict(options))


class ScenarioView:
    """One scenario's part of a suite result, addressed by the scenario's own element names."""

    def __init__(self, result, scenario: str):
        self.result = result
        self.prefix = f"{scenario}__"
        self.traces = {k[len(self.prefix):]: v for k, v in result.traces.items() if k.startswith(self.prefix)}

    def populations(self) -> list:
        return [k[len(self.prefix):] for k in self.result.spikes if k.startswith(self.prefix)]

    def spikes(self, pop):
        return self.result.spikes[self.prefix + pop]

    def trace(self, monitor, var):
        return self.traces[monitor]["variables"][var]


def spike_steps(view, pop, dt):
    t, i = view.spikes(pop)
    steps = np.rint(np.asarray(t) / dt).astype(np.int64)
    order = np.lexsort((i, steps))
    return steps[order], np.asarray(i)[order]


INSTALLED = available_backends()


def _params():
    out = []
    for name in INSTALLED:
        for label, options, slow in VARIANTS.get(name, [("", {}, False)]):
            v = Variant(name, label, dict(options))
            out.append(pytest.param(v, id=v.id, marks=[pytest.mark.slow] if slow else []))
    return out


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        variant, case = params.get("backend"), params.get("case")
        if isinstance(variant, Variant) and (variant.backend, case) in SLOW_STATISTICAL:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(params=_params())
def backend(request) -> Variant:
    return request.param
