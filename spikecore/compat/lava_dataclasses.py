"""Make lava-nc 0.10.0 importable on Python >= 3.11, without editing site-packages.

Upstream cause: ``lava/magma/compiler/var_model.py`` (lava-nc 0.10.0, which
declares Requires-Python <3.11) declares dataclass fields whose default is a
dataclass *instance*, e.g. ``x: ByteEncoder = ByteEncoder()`` in CoreEncoder,
ChipEncoder and AxonEncoder. Python 3.11 made ``dataclasses`` reject any
unhashable default ("mutable default <class ...ByteEncoder> for field x is not
allowed: use default_factory"), so ``import lava.magma...`` fails at import time.

Fix: a meta-path finder that, for that one module only, rewrites each
``NAME: T = T()`` field to ``NAME: T = field(default_factory=T)`` in the source
before it is compiled — the same change upstream would make. Everything else is
imported untouched. ``install()`` is idempotent and does nothing on interpreters
that accept the original source (Python < 3.11).

A second import-time trap: ``lava/magma/runtime/message_infrastructure/multiprocessing.py``
runs ``mp.set_start_method('fork')`` when it is imported, which raises "context has
already been set" if anything in the process fixed the default multiprocessing context
first -- and any ``mp.Lock``/``RLock``/``Queue`` or ``ProcessPoolExecutor`` made without a
context does (tqdm's write lock, joblib). Lava needs 'fork' and sets it itself, so the
finder unfixes the context just before that module is imported.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import re
import sys

TARGET_MODULE = "lava.magma.compiler.var_model"
LAVA_MP_MODULE = "lava.magma.runtime.message_infrastructure.multiprocessing"
_INSTANCE_DEFAULT = re.compile(r"^(\s+\w+):\s*(\w+)\s*=\s*\2\(\)\s*$", re.MULTILINE)


def needs_fix(version_info=None) -> bool:
    """True where dataclasses reject unhashable defaults (Python 3.11+)."""
    return tuple(version_info or sys.version_info)[:2] >= (3, 11)


def patch_source(source: str) -> str:
    """Rewrite dataclass-instance defaults to default_factory (pure function, tested alone)."""
    patched, count = _INSTANCE_DEFAULT.subn(r"\1: \2 = _sc_field(default_factory=\2)", source)
    if count == 0:
        return source
    return "from dataclasses import field as _sc_field\n" + patched


class _PatchingLoader(importlib.machinery.SourceFileLoader):
    def source_to_code(self, data, path, *, _optimize=-1):
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        # keep "from __future__" first: insert our import after it
        patched = patch_source(text)
        if patched is not text and "from __future__ import annotations" in patched:
            body = patched.replace("from dataclasses import field as _sc_field\n", "", 1)
            body = body.replace("from __future__ import annotations\n",
                                "from __future__ import annotations\nfrom dataclasses import field as _sc_field\n", 1)
            patched = body
        return compile(patched, path, "exec", dont_inherit=True, optimize=_optimize)

    def get_code(self, fullname):
        # bypass the bytecode cache: it may hold the unpatched module
        source = self.get_data(self.path)
        return self.source_to_code(source, self.path)


def _free_start_method() -> None:
    """Unfix the default multiprocessing context (module docstring) so Lava can set 'fork'."""
    import multiprocessing as mp
    if mp.get_start_method(allow_none=True) is not None:
        mp.set_start_method(None, force=True)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == LAVA_MP_MODULE:
            _free_start_method()
            return None      # imported as usual
        if fullname != TARGET_MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.origin and spec.origin.endswith(".py"):
                spec.loader = _PatchingLoader(fullname, spec.origin)
                return spec
        return None


_FINDER = _Finder()


def install() -> bool:
    """Install the fix if this interpreter needs it; returns whether it is active."""
    if not needs_fix():
        return False
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)
    return True


def is_installed() -> bool:
    return _FINDER in sys.meta_path
