"""Output paths may only land inside the project, never through a symlink."""

from __future__ import annotations

from pathlib import Path


class PathGuard:
    """Checks output paths under one root, remembering directories already found safe.

    Prefixes are handled as strings: a compile checks tens of thousands of paths, and
    building a ``PurePath`` for every prefix of every one cost more than the file-system
    checks themselves.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = root.resolve()
        self._safe_dirs: set[str] = set()

    def unsafe_reason(self, relative: str) -> str | None:
        """Why writing ``relative`` is unsafe, or None when it is fine."""
        parts = relative.split("/")
        if relative.startswith("/") or any(p in ("..", ".", "") for p in parts):
            return "the path is absolute or leaves the project"
        if "\\" in relative or "\x00" in relative:
            return "the path holds a backslash or NUL"
        prefix = ""
        last = len(parts) - 1
        for index, part in enumerate(parts):
            prefix = f"{prefix}/{part}" if prefix else part
            if prefix in self._safe_dirs:
                continue
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
