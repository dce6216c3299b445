"""spikecore/compat/lava_dataclasses.py: Lava 0.10 imports on Python 3.11 through our shim only.

Imports of Lava run in fresh interpreters (subprocess) so the test sees the import
machinery as a user does, whatever other tests imported before.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from spikecore.compat import lava_dataclasses as shim

UPSTREAM_SNIPPET = textwrap.dedent("""\
    from dataclasses import dataclass

    @dataclass
    class ByteEncoder:
        p: int = 0

    @dataclass
    class CoreEncoder:
        x: ByteEncoder = ByteEncoder()
        y: ByteEncoder = ByteEncoder()
        n: int = 3
""")


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_needs_fix_only_from_python_311():
    assert shim.needs_fix((3, 10)) is False
    assert shim.needs_fix((3, 10, 12, "final", 0)) is False
    assert shim.needs_fix((3, 11)) is True
    assert shim.needs_fix((3, 12, 1)) is True


def test_patch_source_rewrites_instance_defaults_to_default_factory():
    patched = shim.patch_source(UPSTREAM_SNIPPET)
    assert "x: ByteEncoder = _sc_field(default_factory=ByteEncoder)" in patched
    assert "n: int = 3" in patched
    ns: dict = {}
    exec(compile(patched, "<patched>", "exec"), ns)
    a, b = ns["CoreEncoder"](), ns["CoreEncoder"]()
    assert isinstance(a.x, ns["ByteEncoder"]) and a.x is not b.x
    # untouched source stays the same object
    plain = "x = 1\n"
    assert shim.patch_source(plain) is plain


@pytest.mark.skipif(not shim.needs_fix(), reason="the upstream failure only exists on Python >= 3.11")
def test_upstream_snippet_really_fails_without_the_fix():
    with pytest.raises(ValueError, match="mutable default"):
        exec(compile(UPSTREAM_SNIPPET, "<upstream>", "exec"), {})


def test_install_is_a_noop_where_the_interpreter_does_not_need_it(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not shim._FINDER])
    monkeypatch.setattr(sys, "version_info", (3, 10, 13, "final", 0))
    assert shim.install() is False
    assert shim._FINDER not in sys.meta_path
    assert shim.is_installed() is False


def test_install_is_idempotent(monkeypatch):
    monkeypatch.setattr(sys, "meta_path", [f for f in sys.meta_path if f is not shim._FINDER])
    if not shim.needs_fix():
        pytest.skip("nothing to install on this interpreter")
    assert shim.install() is True and shim.install() is True
    assert sum(f is shim._FINDER for f in sys.meta_path) == 1


@pytest.mark.skipif(not shim.needs_fix(), reason="the upstream failure only exists on Python >= 3.11")
def test_lava_imports_with_the_fix_and_not_without():
    without = run_python("import lava.magma.compiler.var_model")
    assert without.returncode != 0
    assert "mutable default" in without.stderr
    with_fix = run_python(textwrap.dedent("""\
        from spikecore.compat.lava_dataclasses import install
        assert install()
        from lava.magma.compiler import var_model as vm
        a, b = vm.CoreEncoder(), vm.CoreEncoder()
        assert isinstance(a.x, vm.ByteEncoder) and a.x is not b.x
        from lava.proc.lif.process import LIF
        from lava.magma.core.run_configs import Loihi2SimCfg
        print("ok")
    """))
    assert with_fix.returncode == 0, with_fix.stderr
    assert with_fix.stdout.strip() == "ok"


def test_lava_imports_after_something_fixed_the_multiprocessing_context():
    """tqdm's write lock (any mp.Lock made without a context) fixes the default context;
    Lava's import then ran set_start_method('fork') into "context has already been set"."""
    pytest.importorskip("lava")
    code = ("import multiprocessing as mp, tqdm\n"
            "tqdm.tqdm(range(2), disable=False).close()\n"
            "mp.Lock()\n"
            "assert mp.get_start_method(allow_none=True) is not None\n"
            "from spikecore.compat.lava_dataclasses import install\n"
            "install()\n"
            "import lava.proc.lif.models\n"
            "print(mp.get_start_method())\n")
    out = run_python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "fork"
