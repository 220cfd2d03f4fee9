"""A rename that fails, instead of replacing, when something is already at the target.

The commit phase moves whole staged directories into place in one rename, and new files
one by one; in both cases the compile decided (while planning) that nothing was there.
Something that appeared since must not be overwritten: ``rename(2)`` silently replaces a
file, and replaces an *empty* directory too.  Linux has ``renameat2(RENAME_NOREPLACE)``
for exactly this (glibc 2.28+, called through ctypes: Python has no binding); a file
system or C library without it (EINVAL, ENOSYS, a libc without the symbol) gets the
fallback: check with ``lstat`` that nothing is there, then rename.  That leaves a window
of one system call in which a file created by someone else can be replaced — the same
window the commit phase always had, and no worse — where renameat2 leaves none.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable

_RENAME_NOREPLACE = 1
_Renameat2 = Callable[[int, bytes, int, bytes, int], int]


def _load_renameat2() -> _Renameat2 | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)  # CDLL calls release the GIL: writer threads run on
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()  # looked up once; immutable afterwards


def rename_no_replace(source: str, source_fd: int, target: str, target_fd: int) -> None:
    """Rename ``source`` (in the directory ``source_fd``) to ``target`` (in ``target_fd``);
    FileExistsError when anything — a file, a link, an empty directory — is at the target."""
    if _renameat2 is not None:
        if _renameat2(source_fd, os.fsencode(source), target_fd, os.fsencode(target), _RENAME_NOREPLACE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), target)  # EEXIST makes a FileExistsError
    try:
        os.stat(target, dir_fd=target_fd, follow_symlinks=False)
    except FileNotFoundError:
        os.rename(source, target, src_dir_fd=source_fd, dst_dir_fd=target_fd)
        return
    raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), target)
