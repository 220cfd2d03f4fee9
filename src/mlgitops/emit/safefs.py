"""File operations under the project root that never follow a symbolic link.

Everything mlgitops writes, replaces or deletes goes through :class:`ProjectTree`:
each directory on the way is opened relative to its parent's descriptor with
``O_NOFOLLOW | O_DIRECTORY``, starting from a descriptor of the project root opened
once, and the final operation is relative to the parent's descriptor (``openat``
with ``O_NOFOLLOW``, ``renameat``, ``unlinkat``, all of which act on a link itself,
never on its target).  A symlink planted anywhere on a path — by a pull request, or
swapped in while the compile runs — therefore makes the operation fail instead of
reaching outside the project.

A project in a subdirectory of its repository also writes CI files at the repository
root (:mod:`mlgitops.repoplace`).  Those paths start with ``../`` once per level; the
tree then holds a second descriptor, of the repository's top level, under exactly that
prefix (:meth:`ProjectTree.attach_repository`), so ``..`` itself is never opened: any
other path with ``..`` in it is refused as before.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from itertools import groupby
from pathlib import Path

from mlgitops.boundedread import ReadRefused, Unreadable, describe_mode, read_bounded
from mlgitops.emit.noreplace import rename_no_replace
from mlgitops.repoplace import root_prefix

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_MODE = 0o666  # as open() creates files: the umask decides
# Well under the usual soft limit of 1,024 descriptors, with room for the files being
# written, the render workers' pipes and the writer threads.
MAX_OPEN_DIRECTORIES = 256


class UnsafePathError(OSError):
    """A path component is a symbolic link, or not the kind of file expected."""


class ProjectTree:
    """Descriptor-relative access to the files under one project root.

    Directory descriptors are cached, at most ``max_open`` of them (a 10,000-model project
    has more directories than a process may hold descriptors): each operation leases the
    descriptors it uses, and only descriptors nobody holds are closed, the least recently
    used first, so a writer thread never finds its directory's descriptor closed (and its
    number reused for another directory) under it.
    """

    def __init__(self, root: Path, repo_subdir: str = "", *, max_open: int = MAX_OPEN_DIRECTORIES) -> None:
        self.root = root
        self._fds: OrderedDict[str, int] = OrderedDict(
            {"": os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)}
        )
        self._leases: dict[int, int] = {}  # descriptor → blocks using it now
        self._retired: set[int] = set()  # leased descriptors of directories since removed
        self._kept = {""}  # opened once, never closed before the tree is: the roots
        self._max_open = max_open
        self._lock = threading.Lock()  # the writer threads share the descriptor cache
        self.repo_subdir = ""
        self.repo_top: Path | None = None
        if repo_subdir:
            try:
                self.attach_repository(repo_subdir)
            except BaseException:
                self.close()
                raise

    def attach_repository(self, subdir: str) -> None:
        """Reach the repository's top level, ``subdir`` above the project, through the prefix
        ``../``×depth.  The top is opened without following a link, and walking ``subdir``
        down from it, each directory opened without following links, must arrive at the very
        project directory this tree was opened on; otherwise UnsafePathError."""
        if subdir == self.repo_subdir:
            return
        if self.repo_subdir:
            raise ValueError("the tree is attached to its repository already")
        parts = subdir.split("/")
        if any(part in ("", ".", "..") or "\x00" in part for part in parts):
            raise UnsafePathError(errno.EINVAL, "is not a plain sub-path of the repository", subdir)
        top = self.root.resolve()
        for _part in parts:
            top = top.parent
        top_fd = os.open(top, _DIR_FLAGS)
        try:
            _check_reaches(top_fd, parts, self._fds[""], subdir)
        except BaseException:
            os.close(top_fd)
            raise
        prefix = root_prefix(subdir).rstrip("/")
        with self._lock:
            self._fds[prefix] = top_fd
            self._kept.add(prefix)
        self.repo_subdir, self.repo_top = subdir, top

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

    def __enter__(self) -> ProjectTree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def make_directories(self, relative: str) -> None:
        """Create ``relative`` and its missing parents (no link followed on the way)."""
        with self.leased(relative, create=True):
            pass

    @contextlib.contextmanager
    def leased(self, relative: str, *, create: bool = False) -> Iterator[int]:
        """A descriptor of the directory ``relative`` ("" for the root), opened without
        following links (missing directories are created when ``create`` is set), which
        stays open until the block ends."""
        fd = self._lease(relative, create)
        try:
            yield fd
        finally:
            self._release(fd)

    def _lease(self, relative: str, create: bool) -> int:
        """:meth:`leased` without a context manager, for the calls made once per generated file
        (a generator-based one costs more than the system call it guards); pair with
        :meth:`_release` in a ``finally``."""
        with self._lock:
            fd = self._fds.get(relative)
            if fd is None:
                fd = self._open_locked(relative, create)
            else:
                self._fds.move_to_end(relative)
            self._leases[fd] = self._leases.get(fd, 0) + 1
        return fd

    def _release(self, fd: int) -> None:
        with self._lock:
            left = self._leases[fd] - 1
            if left:
                self._leases[fd] = left
            else:
                del self._leases[fd]
                if fd in self._retired:
                    self._retired.discard(fd)
                    os.close(fd)
            self._close_unused_locked()

    @contextlib.contextmanager
    def parent(self, relative: str, *, create: bool = False) -> Iterator[tuple[int, str]]:
        """The descriptor of ``relative``'s directory, held for the block, and its last component."""
        directory, _, name = relative.rpartition("/")
        _check_name(name, relative)
        with self.leased(directory, create=create) as fd:
            yield fd, name

    def _open_locked(self, relative: str, create: bool) -> int:
        """Open each missing directory of ``relative`` from the deepest one already open (a
        loop, not recursion: a forged path may be deep).  The lock is held, so nothing on
        the way is closed meanwhile."""
        missing: list[str] = []
        current = relative
        while current not in self._fds:
            missing.append(current)
            current = current.rpartition("/")[0]
        fd = self._fds[current]
        for path in reversed(missing):
            fd = self._open_child(fd, path, path.rpartition("/")[2], create)
        return fd

    def _close_unused_locked(self) -> None:
        excess = len(self._fds) - self._max_open
        if excess <= 0:
            return
        unused: list[str] = []
        for path, fd in self._fds.items():  # least recently used first
            if fd not in self._leases and path not in self._kept:
                unused.append(path)
                if len(unused) == excess:
                    break
        for path in unused:
            os.close(self._fds.pop(path))

    def _open_child(self, parent_fd: int, relative: str, name: str, create: bool) -> int:
        _check_name(name, relative)
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except FileNotFoundError:
            if not create:
                raise
            with contextlib.suppress(FileExistsError):  # made meanwhile, or a link: the open decides
                os.mkdir(name, 0o777, dir_fd=parent_fd)
            fd = self._open_or_explain(parent_fd, relative, name)
        except OSError as exc:
            raise _explained(exc, parent_fd, relative, name) from None
        self._fds[relative] = fd
        return fd

    def _open_or_explain(self, parent_fd: int, relative: str, name: str) -> int:
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
        except OSError as exc:
            raise _explained(exc, parent_fd, relative, name) from None

    def lstat(self, relative: str) -> os.stat_result | None:
        """The entry itself (a link is not followed); None when nothing is there."""
        directory, _, name = relative.rpartition("/")
        _check_name(name, relative)
        try:
            fd = self._lease(directory, False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        finally:
            self._release(fd)

    def lstat_sorted(self, paths: Iterable[str]) -> Iterator[tuple[str, os.stat_result]]:
        """:meth:`lstat` of each of ``paths`` (sorted) that is there, a directory leased once for a
        run of its files rather than once a file (a compile's cache stats every generated file)."""
        for directory, names in groupby(paths, key=lambda path: path.rpartition("/")[0]):
            try:
                fd = self._lease(directory, False)
            except (FileNotFoundError, NotADirectoryError):
                continue
            try:
                for relative in names:
                    name = relative.rpartition("/")[2]
                    _check_name(name, relative)
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        yield relative, os.stat(name, dir_fd=fd, follow_symlinks=False)
            finally:
                self._release(fd)

    def read(self, relative: str, limit: int) -> bytes:
        """The bytes of the regular file ``relative``; refuses links, special files and files
        over ``limit`` bytes without reading them."""
        with self.parent(relative) as (fd, name):
            try:
                return read_bounded(name, limit, follow_symlinks=False, dir_fd=fd)
            except Unreadable as exc:
                raise exc.error from None
            except ReadRefused as exc:
                raise UnsafePathError(errno.EINVAL, exc.reason, relative) from None

    def write_new(self, relative: str, data: bytes) -> tuple[int, int]:
        """Create ``relative`` (which must not exist) and write ``data``; the new file's size and
        modification time (ns), which a rename of it keeps."""
        directory, _, name = relative.rpartition("/")
        _check_name(name, relative)
        fd = self._lease(directory, True)
        try:
            handle = os.open(name, _NEW_FILE_FLAGS, FILE_MODE, dir_fd=fd)
        finally:
            self._release(fd)
        try:
            _write_all(handle, data)
            written = os.fstat(handle)
        finally:
            os.close(handle)
        return written.st_size, written.st_mtime_ns

    def write_atomic(self, relative: str, data: bytes, *, sync: bool = False) -> None:
        """Replace ``relative`` with ``data`` all at once (a temporary file renamed over it)."""
        with self.parent(relative, create=True) as (fd, name):
            temporary = f".{name}.{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}.tmp"
            handle = os.open(temporary, _NEW_FILE_FLAGS, FILE_MODE, dir_fd=fd)
            try:  # from here the temporary file is ours to remove if anything fails
                try:
                    _write_all(handle, data)
                    if sync:
                        os.fsync(handle)
                finally:
                    os.close(handle)
                os.replace(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=fd)
                raise

    def rename(self, source: str, target: str, *, create_parent: bool = False) -> None:
        """Move ``source`` onto ``target`` (replacing a file there, never following a link)."""
        with (
            self.parent(source) as (source_fd, source_name),
            self.parent(target, create=create_parent) as (target_fd, target_name),
        ):
            os.replace(source_name, target_name, src_dir_fd=source_fd, dst_dir_fd=target_fd)

    def rename_new(self, source: str, target: str, *, whole: bool = False) -> None:
        """Move ``source`` to ``target``, where nothing may be (else FileExistsError: noreplace.py);
        ``whole``: a directory, whose cached descriptors now are of the moved one: dropped."""
        with (
            self.parent(source) as (source_fd, source_name),
            self.parent(target) as (target_fd, target_name),
        ):
            rename_no_replace(source_name, source_fd, target_name, target_fd)
        if whole:
            self._forget(source)

    def link(self, source: str, target: str) -> None:
        """Hard-link the entry ``source`` (not a link's target) as ``target``."""
        with (
            self.parent(source) as (source_fd, source_name),
            self.parent(target, create=True) as (target_fd, target_name),
        ):
            os.link(
                source_name, target_name, src_dir_fd=source_fd, dst_dir_fd=target_fd, follow_symlinks=False
            )

    def unlink(self, relative: str) -> bool:
        """Remove the entry ``relative`` (a link itself, never its target); False if absent."""
        try:
            with self.parent(relative) as (fd, name):
                os.unlink(name, dir_fd=fd)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def remove_empty_parents(self, relative: str, stop: str = "") -> None:
        """Remove the directories above ``relative`` that are left empty, up to ``stop``."""
        directory = relative.rpartition("/")[0]
        while directory and directory != stop:
            parent, _, name = directory.rpartition("/")
            try:
                with self.leased(parent) as fd:
                    os.rmdir(name, dir_fd=fd)
            except OSError:
                return
            self._forget(directory)
            directory = parent

    def remove_tree(self, relative: str) -> None:
        """Delete the directory ``relative`` and everything in it; links are removed, not followed."""
        try:
            with self.leased(relative) as fd:
                _remove_contents(fd)
        except (FileNotFoundError, NotADirectoryError):
            return
        self._forget(relative)
        parent, _, name = relative.rpartition("/")
        with self.leased(parent) as fd:
            os.rmdir(name, dir_fd=fd)

    def _forget(self, relative: str) -> None:
        """Drop the cached descriptors of ``relative`` and below (removed directories); one
        still leased is closed when its lease ends."""
        with self._lock:
            for key in [k for k in self._fds if k == relative or k.startswith(relative + "/")]:
                fd = self._fds.pop(key)
                if fd in self._leases:
                    self._retired.add(fd)
                else:
                    os.close(fd)


def _check_reaches(top_fd: int, parts: list[str], project_fd: int, subdir: str) -> None:
    """Walk ``parts`` down from ``top_fd`` without following links; the end must be the project."""
    fd = top_fd
    try:
        for part in parts:
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            if fd != top_fd:
                os.close(fd)
            fd = child
        reached, project = os.fstat(fd), os.fstat(project_fd)
    except OSError:
        raise UnsafePathError(
            errno.ELOOP, "does not lead from the repository's top level to the project without links", subdir
        ) from None
    finally:
        if fd != top_fd:
            os.close(fd)
    if (reached.st_dev, reached.st_ino) != (project.st_dev, project.st_ino):
        raise UnsafePathError(
            errno.EXDEV, "does not lead from the repository's top level to the project", subdir
        )


def _check_name(name: str, relative: str) -> None:
    if name in ("", ".", "..") or "\x00" in name:
        raise UnsafePathError(errno.EINVAL, "is not a plain relative path", relative)


def _explained(exc: OSError, parent_fd: int, relative: str, name: str) -> OSError:
    """ELOOP/ENOTDIR from an ``O_NOFOLLOW | O_DIRECTORY`` open, said in words."""
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
        return exc
    try:
        mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
    except OSError:
        return exc
    if stat.S_ISLNK(mode):
        return UnsafePathError(errno.ELOOP, "is a symbolic link", relative)
    return UnsafePathError(errno.ENOTDIR, f"is {describe_mode(mode)}, where a directory is needed", relative)


def _write_all(handle: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(handle, view) :]


def _remove_contents(fd: int) -> None:
    for entry in os.scandir(fd):
        if entry.is_dir(follow_symlinks=False):
            child = os.open(entry.name, _DIR_FLAGS, dir_fd=fd)
            try:
                _remove_contents(child)
            finally:
                os.close(child)
            os.rmdir(entry.name, dir_fd=fd)
        else:
            os.unlink(entry.name, dir_fd=fd)
