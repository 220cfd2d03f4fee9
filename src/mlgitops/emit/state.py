"""mlgitops' own files under ``.mlgitops/``, read as the untrusted input they are.

Only ``manifest.json`` and ``.gitignore`` belong in git.  The rest is local to one
checkout: the lock, the caches and the transaction scratch space (``txn/``).  A pull
request can still commit any of them, or replace one with a symbolic link; so before
a compile or ``check`` uses the directory, :func:`state_problems` refuses a ``.mlgitops``
or known entry that is not a plain directory or file, and any local state file that git
tracks (a journal that arrived with ``git clone`` is never replayed).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import hmac
import os
import secrets
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

from mlgitops.boundedread import ReadRefused, describe_mode, read_bounded
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.emit.manifest import MANIFEST_DIR, MANIFEST_PATH, MAX_MANIFEST_BYTES, Manifest
from mlgitops.emit.safefs import ProjectTree, UnsafePathError
from mlgitops.errors import UserError

STATE_DIR = MANIFEST_DIR
GITIGNORE = f"{STATE_DIR}/.gitignore"
LOCK = f"{STATE_DIR}/lock"
TXN_DIR = f"{STATE_DIR}/txn"  # the transaction's scratch space (emit/transaction.py)
JOURNAL_PATH = f"{TXN_DIR}/journal.json"
RENDER_CACHE_PATH = f"{STATE_DIR}/render-cache.json"  # emit/rendercache.py
# What .mlgitops/.gitignore keeps out of git (``*.tmp``: a state file being replaced).
SCRATCH_FILES = ("*.tmp", "cache.json", "lock", "render-cache.json", "txn/")
_COMMITTED = frozenset({GITIGNORE, MANIFEST_PATH})
_ENTRY_KINDS = {
    GITIGNORE: stat.S_IFREG,
    MANIFEST_PATH: stat.S_IFREG,
    f"{STATE_DIR}/cache.json": stat.S_IFREG,
    RENDER_CACHE_PATH: stat.S_IFREG,
    LOCK: stat.S_IFREG,
    TXN_DIR: stat.S_IFDIR,
}
MAX_LOCAL_STATE_BYTES = 256 << 20  # the render cache of 1,000 models is about 5 MB


class StateError(Exception):
    """The state under .mlgitops/ cannot be used; the diagnostics say why and how to clear it."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = diagnostics


def state_problems(tree: ProjectTree) -> list[Diagnostic]:
    """Everything that makes ``.mlgitops/`` unsafe to use, as located errors."""
    info = tree.lstat(STATE_DIR)
    if info is None:
        return []
    if not stat.S_ISDIR(info.st_mode):
        return [_wrong_kind(STATE_DIR, info.st_mode, stat.S_IFDIR)]
    problems = []
    for relative, kind in _ENTRY_KINDS.items():
        entry = tree.lstat(relative)
        if entry is not None and stat.S_IFMT(entry.st_mode) != kind:
            problems.append(_wrong_kind(relative, entry.st_mode, kind))
    for relative in sorted(tracked_state_files(tree) - _COMMITTED):
        problems.append(
            make(
                "MLG511",
                f"{relative} is tracked by git, but it is local state of one checkout; "
                "mlgitops never uses it from a commit",
                Location(relative),
                f"remove it from git: git rm -r --cached {_top_entry(relative)} "
                "(then run 'mlgitops compile' again)",
            )
        )
    return problems


def _top_entry(relative: str) -> str:
    """``.mlgitops/txn`` for ``.mlgitops/txn/old/0``; ``.mlgitops`` itself (a submodule entry)."""
    return "/".join(relative.split("/")[:2])


def _wrong_kind(relative: str, mode: int, wanted: int) -> Diagnostic:
    expected = "a directory" if wanted == stat.S_IFDIR else "a regular file"
    return make(
        "MLG510",
        f"{relative} is {describe_mode(mode)}; mlgitops only uses it as {expected} and never "
        "follows a link out of the project",
        Location(relative),
        f"delete {relative}; mlgitops recreates what it needs"
        + (" (restore the manifest from git if it was committed)" if relative == MANIFEST_PATH else ""),
    )


def tracked_state_files(tree: ProjectTree) -> set[str]:
    """The files under .mlgitops/ that git tracks, for the message that says how to untrack them;
    none where git cannot tell (no git, no work tree, a repository git refuses to read). What
    keeps such state from being used is its seal (:func:`read_sealed`), not this list."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", STATE_DIR],
            cwd=tree.root,
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return set()
    if listed.returncode != 0:
        return set()
    return {os.fsdecode(name) for name in listed.stdout.split(b"\0") if name}


def read_manifest(tree: ProjectTree) -> Manifest | None:
    """The ownership manifest, None when there is none; StateError when it is unusable."""
    if tree.lstat(MANIFEST_PATH) is None:
        return None
    try:
        return Manifest.parse(tree.read(MANIFEST_PATH, MAX_MANIFEST_BYTES))
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else str(exc)
        raise StateError(
            [
                make(
                    "MLG512",
                    f"the ownership manifest {reason}",
                    Location(MANIFEST_PATH),
                    f"restore it from git (git checkout -- {MANIFEST_PATH}); or delete it, and the "
                    "generated files it listed, and compile again",
                )
            ]
        ) from None


def read_local(tree: ProjectTree, relative: str, limit: int = MAX_LOCAL_STATE_BYTES) -> bytes | None:
    """A local file's bytes, or None when absent, unusable or over ``limit`` bytes."""
    try:
        return tree.read(relative, limit)
    except OSError:
        return None


def read_sealed(tree: ProjectTree, relative: str, limit: int = MAX_LOCAL_STATE_BYTES) -> bytes | None:
    """The body of a local state file this machine wrote for this project (:func:`seal`), or
    None: absent, unusable, too large, or sealed elsewhere (committed, unpacked, forged)."""
    data = read_local(tree, relative, limit)
    if data is None or not data.startswith(_SEAL_PREFIX):
        return None
    seal_line, _, body = data.partition(b"\n")
    expected = _seal_of(tree, relative, body)
    if expected is None or not hmac.compare_digest(seal_line, _SEAL_PREFIX + expected):
        return None
    return body


def seal(tree: ProjectTree, relative: str, body: bytes) -> bytes:
    """``body`` with a first line that only this machine can compute for this project and
    file (an HMAC under a key kept outside the repository); unsealed when no key can be had."""
    digest = _seal_of(tree, relative, body)
    return _SEAL_PREFIX + (digest or b"none") + b"\n" + body


def write_local(tree: ProjectTree, relative: str, body: bytes) -> None:
    """Replace a sealed cache file, best effort: a full disk or read-only checkout goes without."""
    with contextlib.suppress(OSError):
        tree.write_atomic(relative, seal(tree, relative, body))


_SEAL_PREFIX = b"mlgitops-seal "


def _seal_of(tree: ProjectTree, relative: str, body: bytes) -> bytes | None:
    key = _machine_key()
    if key is None:
        return None
    mac = hmac.new(key, digestmod=hashlib.sha256)
    # the message is root NUL relative NUL body, fed in parts: a cache's body is megabytes
    for part in (os.fsencode(tree.root), b"\0", relative.encode(), b"\0", body):
        mac.update(part)
    return mac.hexdigest().encode()


def _machine_key() -> bytes | None:
    """A random key of this user on this machine, created on first use (0600, outside every
    repository), or None when there is nowhere to keep one."""
    base = os.environ.get("XDG_STATE_HOME")
    directory = (Path(base) if base else Path.home() / ".local" / "state") / "mlgitops"
    path = directory / "seal.key"
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(handle, "wb") as stream:
                stream.write(secrets.token_bytes(32))
        key = read_bounded(path, 64, follow_symlinks=False)
    except (OSError, RuntimeError, ReadRefused):  # RuntimeError: no home directory to be found
        return None
    return key if len(key) == 32 else None


def ensure_gitignore(tree: ProjectTree) -> None:
    """Keep the lock, caches and transaction scratch space out of git (the manifest is committed)."""
    wanted = "".join(f"{line}\n" for line in SCRATCH_FILES).encode()
    if read_local(tree, GITIGNORE) != wanted:
        tree.write_atomic(GITIGNORE, wanted)


def has_gitignore(tree: ProjectTree) -> bool:
    """True in a project ``compile`` has set up: its .gitignore keeps the caches out of git."""
    current = read_local(tree, GITIGNORE)
    return current is not None and set(SCRATCH_FILES) <= set(current.decode("utf-8", "replace").split())


@contextlib.contextmanager
def project_lock(tree: ProjectTree) -> Iterator[None]:
    """Exclusive lock on the project's .mlgitops directory for the duration of a compile.

    A POSIX record lock (``lockf``), not ``flock``: it belongs to this process only, so
    forked worker processes do not hold it, and it is released when this process dies,
    even if a worker outlives it.
    """
    try:
        with tree.parent(LOCK, create=True) as (fd, name):
            handle = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnsafePathError(errno.ELOOP, "is a symbolic link", LOCK) from None
        raise
    try:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
            raise UserError("another mlgitops compile is running in this project") from None
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN)
    finally:
        os.close(handle)


def cannot_write(exc: OSError) -> Diagnostic:
    """A failure of the disk or of permissions while updating the project, as a located error."""
    where = exc.filename if isinstance(exc.filename, str) else None
    if isinstance(exc, UnsafePathError):
        reason = f"{where} {exc.strerror}"
    else:
        reason = f"{exc.strerror or exc}" + (f" ({where})" if where else "")
    return make(
        "MLG516",
        f"cannot update the project: {reason}; any partial change was rolled back",
        Location(where) if where and not where.startswith("/") else None,
        "free disk space or fix the permissions of the project directory, then compile again",
    )
