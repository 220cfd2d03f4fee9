"""Output paths may only land inside the project (or, for its CI files, the repository root
above it: :mod:`mlgitops.repoplace`), never through a symlink."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlgitops.repoplace import strip_root_prefix

if TYPE_CHECKING:
    from mlgitops.emit.safefs import ProjectTree


class PathGuard:
    """Checks output paths under one root, remembering directories already found safe.

    Prefixes are handled as strings: a compile checks tens of thousands of paths, and
    building a ``PurePath`` for every prefix of every one cost more than the file-system
    checks themselves.
    """

    def __init__(self, root: Path, repo_subdir: str = "", repo_top: Path | None = None) -> None:
        self.root = root
        self.real_root = root.resolve()
        self._safe_dirs: set[str] = set()
        # Directories the caller found missing (:meth:`absent`): nothing below one is looked at.
        self._absent: set[str] = set()
        self._repo_subdir = repo_subdir
        self._top = PathGuard(repo_top) if repo_subdir and repo_top is not None else None

    @classmethod
    def of(cls, tree: ProjectTree) -> PathGuard:
        """The guard for the tree's project and, when attached, its repository's top level."""
        return cls(tree.root, tree.repo_subdir, tree.repo_top)

    def unsafe_reason(self, relative: str, *, check_leaf: bool = True) -> str | None:
        """Why writing ``relative`` is unsafe, or None when it is fine.  ``check_leaf`` false:
        the last component is left to the caller, who stats it anyway (a compile's planner,
        per generated file) and names a link there with :meth:`link_reason`."""
        rooted = strip_root_prefix(self._repo_subdir, relative)
        if rooted is not None and self._top is not None:
            return self._top.unsafe_reason(rooted, check_leaf=check_leaf)
        parts = relative.split("/")
        if relative.startswith("/") or any(p in ("..", ".", "") for p in parts):
            return "the path is absolute or leaves the project"
        if "\\" in relative or "\x00" in relative:
            return "the path holds a backslash or NUL"
        directory = relative.rpartition("/")[0]
        if not check_leaf and directory in self._safe_dirs:
            return None  # its directories were all found safe (added top-down), the leaf is not asked
        prefix = ""
        last = len(parts) - 1
        for index, part in enumerate(parts):
            prefix = f"{prefix}/{part}" if prefix else part
            if prefix in self._absent:  # (found safe too, when it was found missing)
                if index < last:  # nothing below it: no link, file or way out to find
                    self._safe_dirs.add(directory)
                return None
            if prefix in self._safe_dirs:
                continue
            if index == last and not check_leaf:
                break
            current = self.root / prefix
            if current.is_symlink():
                return f"{prefix} is a symbolic link"
            if index < last:
                if current.exists():
                    if not current.resolve().is_relative_to(self.real_root):
                        return "the path resolves outside the project"
                    if not current.is_dir():
                        return f"{prefix} is a file, where a directory is needed"
                self._safe_dirs.add(prefix)
        return None

    def absent(self, directory: str) -> None:
        """Take ``directory``, which the caller found missing, as missing from now on: what
        lies below it is not looked at, like a directory found safe (a first compile's
        planner, whose whole output directory is missing, stats none of its tens of
        thousands of paths).  One that appears later is met by the descriptor-relative
        writes of :mod:`mlgitops.emit.safefs`, which follow no link and replace nothing
        when they create."""
        rooted = strip_root_prefix(self._repo_subdir, directory)
        if rooted is not None and self._top is not None:
            self._top.absent(rooted)
        elif rooted is None:
            self._absent.add(directory)

    def link_reason(self, relative: str) -> str:
        """What :meth:`unsafe_reason` says of ``relative`` when its last component is a
        symbolic link."""
        rooted = strip_root_prefix(self._repo_subdir, relative)
        if rooted is not None and self._top is not None:
            return self._top.link_reason(rooted)
        return f"{relative} is a symbolic link"
