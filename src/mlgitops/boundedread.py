"""Reading a file that an attacker may have chosen, without letting it choose the cost.

Every input mlgitops reads from a repository (specs, override templates, a metrics
file) may be a FIFO that never answers, a device that never ends, or a file of many
gigabytes.  :func:`read_bounded` opens first and asks the open descriptor what it is
(a ``stat`` taken before ``open`` describes whatever the path named at that moment),
opens non-blocking so that a FIFO cannot hang the open, refuses anything but a regular
file and reads at most ``limit + 1`` bytes, so a file that grows while it is read is
still caught.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

_CHUNK = 1 << 16


class ReadRefused(Exception):
    """The file was not read; ``reason`` completes the sentence "the file ..."."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(ReadRefused):
    def __init__(self, size: int, limit: int, *, exact: bool) -> None:
        shown = f"{size:,} bytes" if exact else f"more than {limit:,} bytes"
        super().__init__(f"is {shown}; the limit is {limit:,}")
        self.size = size if exact else None
        self.limit = limit


class NotRegularFile(ReadRefused):
    def __init__(self, kind: str) -> None:
        super().__init__(f"is a {kind}, not a regular file")
        self.kind = kind


class Unreadable(ReadRefused):
    def __init__(self, error: OSError) -> None:
        super().__init__(f"cannot be read: {error.strerror or error}")
        self.error = error


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words for a diagnostic."""
    kinds = (
        (stat.S_ISDIR, "directory"),
        (stat.S_ISFIFO, "FIFO"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
        (stat.S_ISLNK, "symbolic link"),
        (stat.S_ISREG, "regular file"),
    )
    return next((name for test, name in kinds if test(mode)), "special file")


def describe_mode(mode: int) -> str:
    """ "a FIFO", "a directory", …: what an entry is, for a message (every kind starts with a
    consonant)."""
    return f"a {file_kind(mode)}"


def read_bounded(
    path: Path | str, limit: int, *, follow_symlinks: bool = True, dir_fd: int | None = None
) -> bytes:
    """The bytes of the regular file ``path``, at most ``limit`` of them.

    Raises :class:`TooLarge`, :class:`NotRegularFile` or :class:`Unreadable` (whose
    ``error`` is the ``OSError``, e.g. a ``FileNotFoundError``).  With
    ``follow_symlinks=False`` a symbolic link as the last component is refused.
    ``dir_fd``: ``path`` is relative to that open directory (as ``openat``).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        descriptor = os.open(path, flags, dir_fd=dir_fd)
    except OSError as exc:
        # Say what the path is when that is why the open failed (O_NOFOLLOW's ELOOP on a
        # symbolic link, ENXIO on a socket); anything else is a read error.
        try:
            mode = os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks).st_mode
        except OSError:
            raise Unreadable(exc) from None
        if stat.S_ISREG(mode):
            raise Unreadable(exc) from None
        raise NotRegularFile(file_kind(mode)) from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(file_kind(info.st_mode))
        if info.st_size > limit:
            raise TooLarge(info.st_size, limit, exact=True)
        chunks: list[bytes] = []
        remaining = limit + 1  # one byte more than allowed tells a file that grew from one that fits
        request = max(info.st_size + 1, _CHUNK)  # a file that stays as it was: one read and the EOF
        while remaining > 0:
            chunk = os.read(descriptor, min(request, remaining))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except OSError as exc:
        raise Unreadable(exc) from None
    finally:
        os.close(descriptor)
    if remaining <= 0:
        raise TooLarge(limit + 1, limit, exact=False)
    return b"".join(chunks)
