"""Declares the Cython extension modules; everything else lives in pyproject.toml."""
import glob
import os
import shutil
import sys
import tempfile

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup


def openmp_flags():
    """-fopenmp when the C compiler builds and links an OpenMP program, else nothing.

    The engine then runs single-threaded (spikecore.engine.simulator says so when
    more threads are asked for); no system package beyond the compiler is required.
    SPIKECORE_NO_OPENMP=1 forces the fallback."""
    if os.environ.get("SPIKECORE_NO_OPENMP"):
        return []
    from setuptools._distutils.ccompiler import new_compiler
    from setuptools._distutils.sysconfig import customize_compiler

    cc = new_compiler()
    customize_compiler(cc)
    tmp = tempfile.mkdtemp()
    try:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() > 0 ? 0 : 1;}\n")
        devnull = os.open(os.devnull, os.O_WRONLY)
        saved = os.dup(2)
        os.dup2(devnull, 2)     # the probe's compiler errors are expected where OpenMP is missing
        try:
            objs = cc.compile([src], output_dir=tmp, extra_postargs=["-fopenmp"])
            cc.link_executable(objs, os.path.join(tmp, "omp"), extra_postargs=["-fopenmp"])
        finally:
            os.dup2(saved, 2)
            os.close(devnull)
            os.close(saved)
        return ["-fopenmp"]
    except Exception:
        print("spikecore: the C compiler has no OpenMP; the native engine will run on one thread",
              file=sys.stderr)
        return []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


OPENMP = openmp_flags()

extensions = [
    Extension(
        "spikecore.engine._core",
        ["spikecore/engine/_core.pyx", "spikecore/engine/_kernel.c"],
        include_dirs=[numpy.get_include(), "spikecore/engine"],
        # the step loop's headers, each model's update (updates/*.h) among them
        depends=sorted(glob.glob("spikecore/engine/_*.h") + glob.glob("spikecore/engine/updates/*.h")
                       + glob.glob("spikecore/engine/plasticity/*.h"))
        + ["spikecore/engine/_core.pxd"],
        # -fno-trapping-math lets loops with refractory selects vectorise; no
        # -ffast-math and no FMA contraction, so results are exact and CPU-independent.
        extra_compile_args=["-O3", "-fno-trapping-math", "-ffp-contract=off"] + OPENMP,
        extra_link_args=OPENMP,
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    ),
    Extension(
        "spikecore.engine._precise",
        ["spikecore/engine/_precise.pyx"],
        include_dirs=[numpy.get_include()],
        depends=["spikecore/engine/_precise_fast.h", "spikecore/engine/_precise_replay.h", "spikecore/engine/_precise.pxd",
                 "spikecore/engine/_poisson_stream.h"],
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
    # Lava's fixed-point learning engine (spikecore.engine.loihi_learning); no FMA contraction:
    # its trace decay and stochastic rounding are numpy's IEEE operations, exactly
    Extension(
        "spikecore.engine._loihi_learning",
        ["spikecore/engine/_loihi_learning.pyx"],
        include_dirs=[numpy.get_include()],
        extra_compile_args=["-O3", "-ffp-contract=off"],
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
