"""Atomic file writes: a failed or interrupted save never leaves a half-written file in place.

The bytes go to a temporary file in the target's folder, are flushed and fsynced, and only then
renamed over the target with :func:`os.replace` (atomic on POSIX and Windows when both are on the
same file system, which the shared folder guarantees). Any exception, ``KeyboardInterrupt``
included, removes the temporary file and leaves the old target byte-identical; a process killed
midway leaves at most a hidden ``.NAME.*.tmp`` file beside an untouched target.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

_NEW_FILE_MODE = 0o666  # what open() asks for; the umask is applied to it


def writable_target(path: str | os.PathLike[str]) -> Path:
    """The file an atomic write of ``path`` replaces, with its parent folders created.

    A symbolic link is followed, so the link survives and the file it points to is replaced.

    Raises:
        IsADirectoryError: if ``path`` is an existing directory.
        NotADirectoryError: if a parent of ``path`` is an existing file.
        PermissionError: if the parent folder cannot be created.
        OSError: any other reason the parent folder cannot be created.
    """
    target = Path(os.path.realpath(Path(path).expanduser()))
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a directory, not a file")
    parent = target.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (parent, *parent.parents) if p.is_file()), parent)
        raise NotADirectoryError(
            f"cannot write {str(path)!r}: {str(blocker)!r} is a file, not a folder"
        ) from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise type(err)(
            f"cannot write {str(path)!r}: its folder {str(parent)!r} cannot be created ({reason})"
        ) from None
    return target


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[IO[bytes]]:
    """Open a binary temporary file that replaces ``path`` when the ``with`` block succeeds.

    The new file gets the mode of the file it replaces, or the usual umask-based mode when
    ``path`` is new (not the 0600 of a temporary file).

    Example:
        >>> with atomic_write("report.html") as f:  # doctest: +SKIP
        ...     f.write(page.encode("utf-8"))

    Raises:
        The errors of :func:`writable_target`, and whatever the block or the write raises
        (e.g. ``OSError`` for a full disk, then naming ``path``), after the temporary file is
        removed.
    """
    target = writable_target(path)
    temp: Path | None = None
    try:
        with tempfile.NamedTemporaryFile(
            mode="wb", dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
        ) as handle:
            temp = Path(handle.name)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            os.chmod(temp, _mode_for(target))
        os.replace(temp, target)
    except BaseException as err:
        if temp is not None:
            temp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.errno is not None and err.filename is None:
            err.filename = str(path)  # say which file could not be written
        raise
    _fsync_folder(target.parent)


def _mode_for(target: Path) -> int:
    """Permission bits of the existing ``target``, or the umask-based bits of a new file."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        return _NEW_FILE_MODE & ~_umask()


def _umask() -> int:
    """The process umask (read from /proc where possible, so it is never changed, even briefly)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable; folders cannot be opened on some platforms (Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
