"""Declares the Cython extension modules; everything else lives in pyproject.toml."""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

extensions = [
    Extension(
        "spikecore.engine._core",
        ["spikecore/engine/_core.pyx"],
        include_dirs=[numpy.get_include()],
        depends=["spikecore/engine/_update.h", "spikecore/engine/_core.pxd"],
        # -fno-trapping-math lets loops with refractory selects vectorise; no
        # -ffast-math and no FMA contraction, so results are exact and CPU-independent.
        extra_compile_args=["-O3", "-fno-trapping-math", "-ffp-contract=off"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
    Extension(
        "spikecore.engine._precise",
        ["spikecore/engine/_precise.pyx"],
        include_dirs=[numpy.get_include()],
        depends=["spikecore/engine/_precise_fast.h", "spikecore/engine/_precise.pxd"],
        # as _core: vectorisable selects, no FMA contraction (exact, CPU-independent results)
        extra_compile_args=["-O3", "-fno-trapping-math", "-ffp-contract=off"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
    # bit-accurate Loihi mode (integer arithmetic only; spikecore.engine.loihi)
    Extension(
        "spikecore.engine._loihi",
        ["spikecore/engine/_loihi.pyx"],
        include_dirs=[numpy.get_include()],
        depends=["spikecore/engine/_loihi_update.h", "spikecore/engine/_loihi.pxd"],
        extra_compile_args=["-O3"],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
]

setup(
    ext_modules=cythonize(
        extensions,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True},
    ),
)
