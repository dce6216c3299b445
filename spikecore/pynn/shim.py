"""Install or remove the ``pyNN/spikecore`` shim: PyNN finds simulators only as
``pyNN.<name>`` modules (scripts say ``import pyNN.spikecore as sim``, or take the name on
the command line), and has no plugin mechanism; so, as sPyNNaker does, a package of one
file is written into PyNN's own directory, re-exporting spikecore.pynn.

    python -m spikecore.pynn.shim install | uninstall | status
    spikecore-pynn-shim install | uninstall | status

The Makefile's install step runs ``install``. ``uninstall`` removes exactly what
``install`` wrote (the package holds a marker file, and nothing else is touched).
"""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

MARKER = "SPIKECORE_SHIM"
INIT = '''"""spikecore as a PyNN simulator: a shim installed by spikecore (python -m spikecore.pynn.shim);
everything is spikecore.pynn."""
from spikecore.pynn import *  # noqa: F401,F403
from spikecore.pynn import list_standard_models  # noqa: F401
from spikecore.pynn import simulator  # noqa: F401
'''


def pynn_dir() -> Path:
    """PyNN's package directory (where ``pyNN.nest`` lives)."""
    import pyNN
    return Path(pyNN.__file__).resolve().parent


def shim_dir(pynn: Path | None = None) -> Path:
    """Where the shim goes: ``spikecore`` in PyNN's directory (or in ``pynn``)."""
    return (pynn_dir() if pynn is None else Path(pynn)) / "spikecore"


def install(pynn: Path | None = None) -> Path:
    """Write the shim package; an existing one of ours is replaced, anything else is left alone."""
    target = shim_dir(pynn)
    if target.exists() and not (target / MARKER).exists():
        raise FileExistsError(f"{target} exists and was not installed by spikecore; not touching it")
    target.mkdir(exist_ok=True)
    shutil.rmtree(target / "__pycache__", ignore_errors=True)
    (target / "__init__.py").write_text(INIT)
    (target / MARKER).write_text("installed by spikecore.pynn.shim; removed by its uninstall\n")
    return target


def uninstall(pynn: Path | None = None) -> bool:
    """Remove the shim package if it is ours; returns whether there was one."""
    target = shim_dir(pynn)
    if not target.exists():
        return False
    if not (target / MARKER).exists():
        raise FileExistsError(f"{target} was not installed by spikecore; not removing it")
    shutil.rmtree(target)
    return True


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in ("install", "uninstall", "status"):
        print("usage: spikecore-pynn-shim install | uninstall | status", file=sys.stderr)
        return 2
    try:
        if args[0] == "install":
            print(f"installed {install()}")
        elif args[0] == "uninstall":
            print(f"removed {shim_dir()}" if uninstall() else f"no shim at {shim_dir()}")
        else:
            print(f"{shim_dir()}: " + ("installed" if (shim_dir() / MARKER).exists() else "not installed"))
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
