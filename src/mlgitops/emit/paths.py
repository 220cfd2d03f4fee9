"""Output paths may only land inside the project, never through a symlink."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


class PathGuard:
    """Checks output paths under one root, remembering directories already found safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.real_root = root.resolve()
        self._safe_dirs: set[PurePosixPath] = {PurePosixPath()}

    def unsafe_reason(self, relative: str) -> str | None:
        """Why writing ``relative`` is unsafe, or None when it is fine."""
        pure = PurePosixPath(relative)
        if pure.is_absolute() or not pure.parts or any(p in ("..", ".", "") for p in relative.split("/")):
            return "the path is absolute or leaves the project"
        if "\\" in relative or "\x00" in relative:
            return "the path holds a backslash or NUL"
        for index in range(1, len(pure.parts) + 1):
            prefix = PurePosixPath(*pure.parts[:index])
            if prefix in self._safe_dirs:
                continue
            current = self.root / prefix
            if current.is_symlink():
                return f"{prefix.as_posix()} is a symbolic link"
            if index < len(pure.parts):
                if current.exists() and not current.resolve().is_relative_to(self.real_root):
                    return "the path resolves outside the project"
                self._safe_dirs.add(prefix)
        return None
