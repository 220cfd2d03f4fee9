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
from pathlib import Path

from mlgitops.boundedread import ReadRefused, Unreadable, describe_mode, read_bounded
from mlgitops.repoplace import root_prefix

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
FILE_MODE = 0o666  # as open() creates files: the umask decides


class UnsafePathError(OSError):
    """A path component is a symbolic link, or not the kind of file expected."""


class ProjectTree:
    """Descriptor-relative access to the files under one project root."""

    def __init__(self, root: Path, repo_subdir: str = "") -> None:
        self.root = root
        self._fds: dict[str, int] = {"": os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)}
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
        with self._lock:
            self._fds[root_prefix(subdir).rstrip("/")] = top_fd
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

    def directory(self, relative: str, *, create: bool = False) -> int:
        """A descriptor of the directory ``relative`` ("" for the root), opened without
        following links; missing directories are created when ``create`` is set."""
        fd = self._fds.get(relative)  # a dict lookup is atomic: no lock for directories already open
        if fd is not None:
            return fd
        with self._lock:
            return self._directory_locked(relative, create)

    def _directory_locked(self, relative: str, create: bool) -> int:
        """Open each missing directory of ``relative`` from the deepest one already open (a
        loop, not recursion: a forged path may be deep)."""
        missing: list[str] = []
        current = relative
        while current not in self._fds:
            missing.append(current)
            current = current.rpartition("/")[0]
        fd = self._fds[current]
        for path in reversed(missing):
            fd = self._open_child(fd, path, path.rpartition("/")[2], create)
        return fd

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

    def parent(self, relative: str, *, create: bool = False) -> tuple[int, str]:
        """The descriptor of ``relative``'s directory and its last component."""
        directory, _, name = relative.rpartition("/")
        _check_name(name, relative)
        return self.directory(directory, create=create), name

    def lstat(self, relative: str) -> os.stat_result | None:
        """The entry itself (a link is not followed); None when nothing is there."""
        try:
            fd, name = self.parent(relative)
            return os.stat(name, dir_fd=fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def read(self, relative: str, limit: int) -> bytes:
        """The bytes of the regular file ``relative``; refuses links, special files and files
        over ``limit`` bytes without reading them."""
        fd, name = self.parent(relative)
        try:
            return read_bounded(name, limit, follow_symlinks=False, dir_fd=fd)
        except Unreadable as exc:
            raise exc.error from None
        except ReadRefused as exc:
            raise UnsafePathError(errno.EINVAL, exc.reason, relative) from None

    def write_new(self, relative: str, data: bytes) -> None:
        """Create ``relative`` (which must not exist) and write ``data``."""
        fd, name = self.parent(relative, create=True)
        handle = os.open(name, _NEW_FILE_FLAGS, FILE_MODE, dir_fd=fd)
        try:
            _write_all(handle, data)
        finally:
            os.close(handle)

    def write_atomic(self, relative: str, data: bytes, *, sync: bool = False) -> None:
        """Replace ``relative`` with ``data`` all at once (a temporary file renamed over it)."""
        fd, name = self.parent(relative, create=True)
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
        source_fd, source_name = self.parent(source)
        target_fd, target_name = self.parent(target, create=create_parent)
        os.replace(source_name, target_name, src_dir_fd=source_fd, dst_dir_fd=target_fd)

    def link(self, source: str, target: str) -> None:
        """Hard-link the entry ``source`` (not a link's target) as ``target``."""
        source_fd, source_name = self.parent(source)
        target_fd, target_name = self.parent(target, create=True)
        os.link(source_name, target_name, src_dir_fd=source_fd, dst_dir_fd=target_fd, follow_symlinks=False)

    def unlink(self, relative: str) -> bool:
        """Remove the entry ``relative`` (a link itself, never its target); False if absent."""
        try:
            fd, name = self.parent(relative)
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
                fd = self.directory(parent)
                os.rmdir(name, dir_fd=fd)
            except OSError:
                return
            self._forget(directory)
            directory = parent

    def remove_tree(self, relative: str) -> None:
        """Delete the directory ``relative`` and everything in it; links are removed, not followed."""
        try:
            fd = self.directory(relative)
        except (FileNotFoundError, NotADirectoryError):
            return
        _remove_contents(fd)
        self._forget(relative)
        parent, _, name = relative.rpartition("/")
        os.rmdir(name, dir_fd=self.directory(parent))

    def _forget(self, relative: str) -> None:
        with self._lock:
            for key in [k for k in self._fds if k == relative or k.startswith(relative + "/")]:
                os.close(self._fds.pop(key))


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
