"""Running a piece of a test as a user whom file permissions apply to.

The tests run as root here and in CI, and root reads a file of mode 000 anyway. So
:func:`run_unprivileged` forks, and the child gives up root for ``nobody`` before it
runs the function: the kernel then really refuses to open an unreadable file or list
an unreadable directory. The child inherits the parent's imported modules (the
interpreter's own files may not be readable for ``nobody``); its result comes back
pickled through a pipe. Not root: the function runs in the test process itself.

Projects such a child works on live in :func:`shared_directory`, which ``nobody`` can
reach and write (pytest's ``tmp_path`` sits under a directory only its owner enters).
"""

from __future__ import annotations

import os
import pickle
import pwd
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest

T = TypeVar("T")


def _nobody() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return 65534, 65534
    return entry.pw_uid, entry.pw_gid


def run_unprivileged(function: Callable[[], T]) -> T:
    """``function()`` run by a process that file permissions apply to."""
    if os.geteuid() != 0:
        return function()
    uid, gid = _nobody()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            outcome: tuple[bool, object] = (True, function())
        except BaseException:
            outcome = (False, traceback.format_exc())
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pickle.dump(outcome, pipe)
        except BaseException:
            code = 1
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and data, "the unprivileged child failed to report"
    succeeded, value = pickle.loads(data)
    if not succeeded:
        pytest.fail(f"the unprivileged child raised:\n{value}", pytrace=False)
    return value  # type: ignore[no-any-return]


@contextmanager
def shared_directory() -> Iterator[Path]:
    """A fresh directory that the unprivileged child can enter and write (removed afterwards)."""
    path = Path(tempfile.mkdtemp(prefix="mlgitops-unprivileged-")).resolve()
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def give_to_unprivileged(root: Path) -> None:
    """Make the tree under ``root`` belong to the user :func:`run_unprivileged` runs as."""
    if os.geteuid() != 0:
        return
    uid, gid = _nobody()
    for directory, _subdirectories, files in os.walk(root):
        os.chown(directory, uid, gid)
        for name in files:
            os.chown(Path(directory, name), uid, gid, follow_symlinks=False)
