"""Fixtures shared by the tests of the neuron models that only some modes support."""
from __future__ import annotations

import pytest

from backends import get_backend
from spikecore.errors import BackendUnavailable, UnsupportedFeature

#: the modes with no kernel for if_cuba, izhikevich or adex (Brian2 runs izhikevich and adex with
#: integrator euler, and refuses their default, the event-located rk4): (backend, compile options)
MODES_WITHOUT_THE_NEWER_MODELS = [("native", {"timing": "precise"}), ("native", {"format": "loihi"}),
                                  ("brian2", {}), ("lava", {})]


@pytest.fixture(params=MODES_WITHOUT_THE_NEWER_MODELS, ids=lambda mode: "-".join([mode[0], *mode[1].values()]))
def assert_refused_in_mode(request):
    """A check that compiling and running ``net`` in the mode of this parameter raises
    UnsupportedFeature naming ``model`` (skipped where the backend is not installed)."""
    backend, options = request.param

    def check(net, model: str):
        try:
            be = get_backend(backend)
        except BackendUnavailable:
            pytest.skip(f"{backend} is not installed")
        with pytest.raises(UnsupportedFeature, match=model):
            be.compile(net.to_ir(timing=options.get("timing", "grid")), **options).run(0.001)
    return check
