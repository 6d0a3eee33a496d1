"""Atomic writes: every file coder writes appears whole or not at all, and stays written after a power cut;
folders are built aside and swapped in; an output that would overwrite an input is refused before any work.

The data is written to a temporary file beside the target, flushed to disk (fsync), renamed over the
target in one step, and the folder is fsynced so the rename itself is on disk.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from coder.errors import InputError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success it replaces `path` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp makes files private (0600); give the file the mode an ordinary write would.
        os.chmod(tmp, 0o666 & ~_umask())
        fsync_file(tmp)
        os.replace(tmp, path)
        fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fsync_file(path: str | Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | Path) -> None:
    """Make a rename in `path` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | Path, obj: object) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _same_path(a: Path, b: Path) -> bool:
    """Whether two paths name the same file (hard links and symlinks included)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def _inside(child: Path, folder: Path) -> bool:
    child, folder = child.resolve(), folder.resolve()
    return child == folder or folder in child.parents


def check_output(out: str | Path, inputs: Iterable[str | Path | None] = (), *, folder: bool = False,
                 option: str = "--out") -> Path:
    """Refuse, before any work, an output that would overwrite an input or cannot be written.

    An output is refused when it resolves to an input file (symlinks and hard links included), lies inside
    an input folder, or (for a folder output, which is replaced whole) contains an input. It is also refused
    when it is a folder where a file is expected (or the reverse), when a parent on its path is a file, or
    when the folder it would be written into is not writable.
    """
    out = Path(out)
    for given in inputs:
        if given is None:
            continue
        inp = Path(given)
        if inp.is_dir():
            clash = _inside(out, inp) or (folder and _inside(inp, out))
        else:
            clash = _same_path(out, inp) or (folder and inp.exists() and _inside(inp, out))
        if clash and inp.is_dir() and not _inside(inp, out):
            raise InputError(f"{option} is inside the input folder {str(inp)!r} (it could overwrite or be read as "
                             "an input): choose a path outside it", file=str(out))
        if clash:
            raise InputError(f"{option} would overwrite the input {str(inp)!r}: choose another path", file=str(out))
    if out.exists() or out.is_symlink():
        if out.exists() and not out.is_dir() and not out.is_file():
            # a device (/dev/full), pipe or socket: the atomic rename would replace it with a plain file
            raise InputError(f"{option} is not a plain file (a device, pipe or socket): choose a file path",
                             file=str(out))
        if folder and not out.is_dir():
            raise InputError(f"{option} is a file, not a folder", file=str(out))
        if not folder and out.is_dir():
            raise InputError(f"{option} is a folder, not a file", file=str(out))
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{option}: {str(parent)!r} is a file, not a folder", file=str(out))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{option}: the folder {str(parent)!r} is not writable", file=str(out))
    if out.exists() and not os.access(out, os.W_OK) and not folder:
        # replacing a read-only file by rename would work, but the user asked for it to stay as it is
        raise InputError(f"{option} is read-only", file=str(out))
    return out


@contextmanager
def staged_dir(target: str | Path) -> Iterator[Path]:
    """Build a folder beside `target` and swap it in whole on success.

    A failure or an interrupt before the swap leaves `target` exactly as it was (the staging folder is
    removed); the swap itself is two renames in the same parent folder.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_abandoned_stages(target)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".staging", dir=target.parent))
    try:
        os.chmod(stage, 0o777 & ~_umask())
        yield stage
        swap_in(stage, target)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)


def _remove_abandoned_stages(target: Path) -> None:
    """Staging folders of runs that were killed (their process is gone): a kill cannot clean up after itself,
    so the next run does. Folders of a run still going are left alone."""
    for stage in target.parent.glob(f".{glob.escape(target.name)}.*.staging"):
        pid = stage.name[len(target.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stage, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def swap_in(stage: Path, target: Path) -> None:
    """Replace folder `target` by folder `stage` (same parent): the old one is moved aside, then removed."""
    if not target.exists():
        os.rename(stage, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.rename(target, old)
    try:
        os.rename(stage, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def staged_files(targets: Iterable[str | Path]) -> Iterator[dict[Path, Path]]:
    """Write several files that belong together (a table and its sidecars) as one step.

    Yields {target: temporary path}; the temporaries live in one staging folder beside the first target and
    replace their targets only once every one is written, so a failure leaves the previous set complete.
    """
    targets = [Path(t) for t in targets]
    targets[0].parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{targets[0].name}.", suffix=".staging", dir=targets[0].parent))
    try:
        tmps = {t: stage / f"{i}-{t.name}" for i, t in enumerate(targets)}
        yield tmps
        for t, tmp in tmps.items():
            if tmp.exists():
                os.chmod(tmp, 0o666 & ~_umask())
                t.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, t)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
