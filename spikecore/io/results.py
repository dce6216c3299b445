"""Result directories and output files that are never half-written, and never mix runs.

Every writer goes through this module: the commands run, compare, deploy, precision,
export and plot, and the Python writers behind them (Result.save, hwmodels.report.
write_report, save_network, save_nir, write_neo, plot_result).

* ``ResultDirectory(path, command, flag)`` — a context manager around the whole
  command. On entry, before any work, it repairs a swap of ``path`` that a killed
  process left half-done, refuses a file or a directory holding files spikecore did
  not write, and creates the sibling staging directory ``PATH.tmp-<run id>`` with a
  probe file written and removed in it: an unusable output fails at once, naming
  ``flag``. The body writes into ``.path``. On success the manifest (``manifest.json``:
  run id, command, every file with its size and SHA-256) is written last, then the
  staging directory is swapped into place — ``PATH -> PATH.old-<run id>``,
  ``staging -> PATH``, remove the old one (``rename(2)`` cannot replace a non-empty
  directory). On any exception, MemoryError and KeyboardInterrupt included, the staging
  directory is removed and ``PATH`` is left exactly as it was. A rerun replaces the
  whole directory, so no file of an earlier run survives beside the new ones.
* ``OutputFile(path, flag)`` — the same for one file: checked on entry, written to a
  hidden sibling with the same suffix, ``os.replace``d on success. A file written into
  a result directory joins its manifest.
* ``verify_result_directory(path, required)`` — what every reader calls first: the
  manifest must exist and every file it lists must have its recorded size. Writers
  also put the run id inside the files that hold data (summary.json, the .npz files);
  ``check_run_id`` compares it with the manifest's, so files of two runs never combine.
* ``repair(path)`` — finishes a swap whose staging directory is complete, rolls it back
  otherwise, and removes what a dead process left; the owner of a staging or old
  directory is the pid inside its run id, and a live owner's are left alone.

Neighbours: spikecore.result (the files of a Result), spikecore.cli (the commands).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import time
from pathlib import Path

from ..errors import ModelFileError, ValidationError
from ..interrupts import deferred

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = "spikecore-result"
MANIFEST_VERSION = 1
RUN_ID_KEY = "run_id"      # the key of the run id in summary.json and in every .npz

# Files spikecore wrote before result directories had manifests: a directory holding only
# these (and subdirectories like it) is an earlier result and may be replaced.
LEGACY_OUTPUT_NAMES = frozenset({
    "summary.json", "spikes.npz", "traces.npz", "raster.png", "overview.png", "result.nix",
    "compare.json", "deploy.json", "precision.json", "report.html", "report.md",
    "accuracy_vs_bits.png", "theory.png", "clock_bits_vs_jitter.png", "pareto.png", "profiles.png",
    "timing_error_vs_bits.png"})

_RUN_ID = re.compile(r"\d{8}T\d{6}Z-(?P<pid>\d+)-[0-9a-f]{6}")
_HASH_CHUNK = 1 << 20


def new_run_id() -> str:
    """UTC time, the writing process's pid (so a later command can tell a dead writer's
    leftovers from a live one's) and a random part."""
    return f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{os.getpid()}-{secrets.token_hex(3)}"


def _owner_alive(run_id: str) -> bool:
    m = _RUN_ID.fullmatch(run_id)
    if m is None:
        return True                # not ours: leave it alone
    pid = int(m["pid"])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _resolve(path) -> Path:
    """The path with symlinks followed, so a swap happens where the data lives."""
    return Path(os.path.realpath(os.fspath(path)))


# ----------------------------------------------------------------------------- manifest
def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_HASH_CHUNK):
            h.update(chunk)
        os.fsync(f.fileno())
    return h.hexdigest()


def _files_under(directory: Path) -> list:
    """Relative POSIX paths of every regular file under ``directory`` except its own manifest."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            rel = Path(root, name).relative_to(directory).as_posix()
            if rel != MANIFEST_FILE:
                found.append(rel)
    return found


def _write_json_atomically(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{new_run_id()}")
    try:
        with open(tmp, "w") as f:
            json.dump(doc, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_manifest(directory, run_id: str, command: str) -> dict:
    """List every file under ``directory`` with its size and SHA-256; written last."""
    directory = Path(directory)
    from .._version import __version__

    files = {}
    for rel in _files_under(directory):
        p = directory / rel
        files[rel] = {"bytes": p.stat().st_size, "sha256": _sha256(p)}
    doc = {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "run_id": run_id, "command": command,
           "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "spikecore": __version__,
           "files": files}
    _write_json_atomically(directory / MANIFEST_FILE, doc)
    return doc


def read_manifest(directory) -> dict:
    """The manifest of a result directory; ModelFileError naming the file when it is missing or malformed."""
    path = Path(directory) / MANIFEST_FILE
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ModelFileError(path, "missing: the directory was written by an older spikecore or by a command "
                                   "that did not finish; rerun the command that writes it") from None
    except (OSError, ValueError) as e:
        raise ModelFileError(path, f"unreadable: {e}") from None
    if not (isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT and isinstance(doc.get("run_id"), str)
            and isinstance(doc.get("files"), dict)):
        raise ModelFileError(path, f"not a spikecore result manifest (expected format '{MANIFEST_FORMAT}', "
                                   "a run_id and files)")
    return doc


def verify_result_directory(directory, required=()) -> dict:
    """Check a result directory before reading it and return its manifest.

    Repairs an interrupted swap first; then ``required`` files must exist, the manifest
    must exist and list them, and every listed file must have its recorded size."""
    directory = Path(directory)
    repair_before_reading(directory)
    if not directory.is_dir():
        what = "no such directory" if not directory.exists() else "a file, not a directory"
        raise ModelFileError(directory, f"not a result directory ({what})")
    for name in required:
        if not (directory / name).exists():
            raise ModelFileError(directory, f"not a result directory (missing {name})")
    manifest = read_manifest(directory)
    run = manifest["run_id"]
    for name in required:
        if name not in manifest["files"]:
            raise ModelFileError(directory / name, f"not listed in {MANIFEST_FILE} of run {run}: "
                                                   "not written by that run")
    for rel, entry in manifest["files"].items():
        p = directory / rel
        try:
            size = p.stat().st_size
        except FileNotFoundError:
            raise ModelFileError(p, f"missing, though {MANIFEST_FILE} of run {run} lists it") from None
        if size != entry.get("bytes"):
            raise ModelFileError(p, f"{size} bytes, but {MANIFEST_FILE} of run {run} records {entry.get('bytes')}: "
                                    "changed or truncated since the run")
    return manifest


def check_run_id(path, found, manifest: dict) -> None:
    """A data file must carry the run id of the manifest beside it."""
    if found != manifest["run_id"]:
        raise ModelFileError(path, f"belongs to run {found}, but {MANIFEST_FILE} is of run {manifest['run_id']}: "
                                   "files of different runs are mixed")


# ----------------------------------------------------------------------------- repair
def _leftovers(final: Path):
    """Dead writers' staging ('tmp') and old ('old') siblings of ``final``: {kind: {run id: path}}."""
    found = {"tmp": {}, "old": {}}
    pattern = re.compile(re.escape(final.name) + r"\.(?P<kind>tmp|old)-(?P<id>.+)")
    try:
        entries = list(os.scandir(final.parent))
    except (FileNotFoundError, NotADirectoryError):
        return found
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and not _owner_alive(m["id"]):
            found[m["kind"]][m["id"]] = Path(entry.path)
    return found


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        path.unlink()


def _complete(staging: Path) -> bool:
    try:
        manifest = read_manifest(staging)
    except ModelFileError:
        return False
    return all((staging / rel).is_file() and (staging / rel).stat().st_size == e.get("bytes")
               for rel, e in manifest["files"].items())


def repair(path) -> None:
    """Repair what a killed writer of ``path`` left: a missing ``path`` comes back from the
    complete staging directory (the swap finishes) or else from the old one (it rolls back);
    other leftovers of dead writers, staging and old directories and temporary files, go."""
    final = _resolve(path)
    found = _leftovers(final)
    for run_id, old in sorted(found["old"].items()):
        if os.path.lexists(final):
            _remove(old)
            continue
        staging = found["tmp"].pop(run_id, None)
        if staging is not None and _complete(staging):
            os.rename(staging, final)
            _remove(old)
        else:
            os.rename(old, final)
            if staging is not None:
                _remove(staging)
    for run_id, staging in sorted(found["tmp"].items()):
        if not os.path.lexists(final) and staging.is_dir() and _complete(staging):
            os.rename(staging, final)
        else:
            _remove(staging)
    _remove_dead_temp_files(final)


def repair_before_reading(path) -> None:
    """``repair``, where possible: a reader of a read-only location reads what is there."""
    try:
        repair(path)
    except OSError:
        pass


def _temp_file_name(final: Path, run_id: str) -> str:
    return f".{final.name}.tmp-{run_id}{final.suffix}"


def _remove_dead_temp_files(final: Path) -> None:
    pattern = re.compile(r"\." + re.escape(final.name) + r"\.tmp-(?P<id>.+?)" + re.escape(final.suffix))
    try:
        entries = list(os.scandir(final.parent))
    except (FileNotFoundError, NotADirectoryError):
        return
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m and not _owner_alive(m["id"]) and entry.is_file(follow_symlinks=False):
            os.unlink(entry.path)


# ----------------------------------------------------------------------------- checks
def _unwritable(flag: str, path, error: OSError, what: str) -> ValidationError:
    reason = error.strerror or type(error).__name__
    where = error.filename
    if where is None or ".tmp-" in os.path.basename(os.fspath(where)):   # our staging name means nothing to the user
        return ValidationError(flag, str(path), f"{what} ({reason})")
    return ValidationError(flag, str(path), f"{what} ({reason}: {where})")


def _make_parent(final: Path, flag: str, original, what: str) -> None:
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as e:
        raise ValidationError(flag, str(original), f"{what} (a file stands where a directory is needed: "
                                                   f"{e.filename})") from None
    except OSError as e:
        raise _unwritable(flag, original, e, what) from None


def _foreign_entry(directory: Path):
    """The first file under ``directory`` that no spikecore run wrote (relative path), or None.

    Files listed in a manifest (the directory's or a subdirectory's) are spikecore's; without
    a manifest at the top, so are the files spikecore wrote before manifests existed."""
    legacy = not (directory / MANIFEST_FILE).is_file()
    listed = set()
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        here = Path(root).relative_to(directory)
        if MANIFEST_FILE in files:
            try:
                listed |= {(here / rel).as_posix() for rel in read_manifest(root)["files"]}
            except ModelFileError:
                return (here / MANIFEST_FILE).as_posix()
        for name in sorted(files):
            rel = (here / name).as_posix()
            if not (name == MANIFEST_FILE or rel in listed or (legacy and name in LEGACY_OUTPUT_NAMES)):
                return rel
    return None


def _check_replaceable(final: Path, flag: str, original) -> None:
    expected = "a new or empty directory, or a result directory spikecore wrote"
    if not os.path.lexists(final):
        return
    if not final.is_dir():
        raise ValidationError(flag, str(original), "a directory (a file of that name exists)")
    if final.parent == final:
        raise ValidationError(flag, str(original), "a directory other than the file system root")
    if final == _resolve(Path.cwd()) or final in _resolve(Path.cwd()).parents:
        raise ValidationError(flag, str(original), "a directory that is not the current one or above it")
    foreign = _foreign_entry(final)
    if foreign is not None:
        raise ValidationError(flag, str(original), f"{expected} (it holds '{foreign}', which spikecore did not "
                                                   "write and a new result would replace)")


# ----------------------------------------------------------------------------- writers
def _fsync_directory(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class ResultDirectory:
    """A result directory written whole or not at all (module docstring).

        with ResultDirectory(out, "run", flag="--out") as staging:
            ...                                   # the work; out was checked already
            result.write_files(staging.path, staging.run_id)
    """

    def __init__(self, path, command: str, flag: str = "--out"):
        self.original = path
        self.final = _resolve(path)
        self.command = command
        self.flag = flag
        self.run_id = new_run_id()
        self._owner = os.getpid()
        self._subdirectories = []
        what = "a writable directory"
        if self.final.parent == self.final:
            raise ValidationError(flag, str(path), "a directory other than the file system root")
        if self.final.parent.is_dir():
            try:
                repair(self.final)
            except OSError as e:
                raise _unwritable(flag, path, e, what) from None
        _check_replaceable(self.final, flag, path)
        _make_parent(self.final, flag, path, what)
        self.path = self.final.with_name(f"{self.final.name}.tmp-{self.run_id}")
        try:
            self.path.mkdir()
            probe = self.path / ".probe"
            probe.write_bytes(b"spikecore")
            probe.unlink()
        except OSError as e:
            _remove(self.path)
            raise _unwritable(flag, path, e, what) from None

    def subdirectory(self, name: str) -> Path:
        """A directory inside this result that is a result of its own (its own manifest, same run id)."""
        sub = self.path / name
        sub.mkdir(parents=True, exist_ok=True)
        self._subdirectories.append(sub)
        return sub

    def __enter__(self) -> "ResultDirectory":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if os.getpid() != self._owner:   # a forked worker leaving the block is not the writer
            return False
        if exc_type is None:
            try:
                self.commit()
            except BaseException:
                self.discard()
                raise
        else:
            self.discard()
        return False

    def discard(self) -> None:
        _remove(self.path)

    def commit(self) -> Path:
        try:
            for sub in reversed(self._subdirectories):
                write_manifest(sub, self.run_id, self.command)
            write_manifest(self.path, self.run_id, self.command)
        except OSError as e:
            raise ModelFileError(self.final, f"cannot write the result: {e.strerror or e}") from None
        _check_replaceable(self.final, self.flag, self.original)   # nobody put files there meanwhile
        old = self.final.with_name(f"{self.final.name}.old-{self.run_id}")
        swapped = False
        try:
            with deferred():   # a signal now is delivered after the swap, not between its renames
                moved = False
                if os.path.lexists(self.final):
                    shutil.copymode(self.final, self.path)   # the directory keeps the permissions it had
                    os.rename(self.final, old)
                    moved = True
                try:
                    os.rename(self.path, self.final)
                except BaseException:
                    if moved:
                        os.rename(old, self.final)
                    raise
                swapped = True
                _fsync_directory(self.final.parent)
        except OSError as e:
            raise ModelFileError(self.final, f"cannot move the new result into place: {e.strerror or e}") from None
        finally:
            if swapped:
                _remove(old)
        return self.final


class OutputFile:
    """One output file written whole or not at all (module docstring).

        with OutputFile(out, "--output") as tmp:   # out was checked already
            write(tmp)                              # same suffix as out
    """

    def __init__(self, path, flag: str = "--output"):
        self.original = path
        self.final = _resolve(path)
        self.flag = flag
        self.run_id = new_run_id()
        self._owner = os.getpid()
        what = "a file in a writable directory"
        if self.final.is_dir():
            raise ValidationError(flag, str(path), "a file name (a directory of that name exists)")
        _make_parent(self.final, flag, path, what)
        try:
            _remove_dead_temp_files(self.final)
        except OSError as e:
            raise _unwritable(flag, path, e, what) from None
        self.path = self.final.with_name(_temp_file_name(self.final, self.run_id))
        try:
            self.path.write_bytes(b"spikecore")
            self.path.unlink()
        except OSError as e:
            if self.path.exists():
                self.path.unlink()
            raise _unwritable(flag, path, e, what) from None

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, exc_type, exc, tb) -> bool:
        if os.getpid() != self._owner:
            return False
        if exc_type is not None:
            self.discard()
            return False
        try:
            if not self.path.is_file():
                raise ModelFileError(self.final, "the writer produced no file")
            with open(self.path, "rb") as f:
                os.fsync(f.fileno())
            os.replace(self.path, self.final)
            _fsync_directory(self.final.parent)
            _join_manifest(self.final)
        except OSError as e:
            self.discard()
            raise ModelFileError(self.final, f"cannot write: {e.strerror or e}") from None
        except BaseException:
            self.discard()
            raise
        return False

    def discard(self) -> None:
        if os.path.lexists(self.path):
            self.path.unlink()


def _join_manifest(path: Path) -> None:
    """A file written into a result directory becomes part of that result (and goes with it)."""
    directory = path.parent
    if not (directory / MANIFEST_FILE).is_file():
        return
    try:
        doc = read_manifest(directory)
    except ModelFileError:
        return
    doc["files"][path.name] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
    _write_json_atomically(directory / MANIFEST_FILE, doc)


def check_output_file(path, flag: str) -> None:
    """Check an output file before the work that produces it (the writer then uses OutputFile)."""
    OutputFile(path, flag)


def write_text_file(path, text: str, flag: str = "path") -> Path:
    """``Path.write_text`` through an OutputFile."""
    with OutputFile(path, flag) as tmp:
        tmp.write_text(text)
    return Path(path)


__all__ = ["ResultDirectory", "OutputFile", "check_output_file", "verify_result_directory", "check_run_id",
           "repair", "repair_before_reading", "read_manifest", "write_manifest", "write_text_file", "new_run_id",
           "MANIFEST_FILE", "RUN_ID_KEY"]
