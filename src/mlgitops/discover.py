"""Stage 1, discover: find the project file and the model files it includes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlgitops.diagnostics import Diagnostic, Location, make

API_VERSION = "mlgitops/v1"  # the spec language this mlgitops reads
PROJECT_FILE = "mlgitops.yaml"
DEFAULT_INCLUDE = ("models/**/*.yaml",)


@dataclass(frozen=True, slots=True)
class ProjectFiles:
    """The project directory and its project file."""

    root: Path
    project_file: Path

    def display(self, path: Path) -> str:
        """Path as shown in diagnostics: relative to the project, POSIX separators."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


def find_project(path: Path) -> tuple[ProjectFiles | None, list[Diagnostic]]:
    """Locate ``mlgitops.yaml`` given a project directory or the file itself."""
    candidate = path / PROJECT_FILE if path.is_dir() else path
    if not candidate.is_file():
        return None, [
            make(
                "MLG001",
                f"no {PROJECT_FILE} found at {candidate.as_posix()}",
                None,
                "pass the project directory, or create one with 'mlgitops init'",
            )
        ]
    root = candidate.parent.resolve()
    return ProjectFiles(root=root, project_file=root / candidate.name), []


def find_models(
    files: ProjectFiles, patterns: tuple[str, ...], where: Location
) -> tuple[list[Path], list[Diagnostic]]:
    """Model files matched by ``patterns``, sorted, each inside the project."""
    diagnostics: list[Diagnostic] = []
    found: set[Path] = set()
    for pattern in patterns:
        pure = PurePosixPath(pattern)
        if pure.is_absolute() or ".." in pure.parts or "\\" in pattern:
            diagnostics.append(
                make(
                    "MLG003",
                    f"include pattern {pattern!r} reaches outside the project",
                    where,
                    "use a relative pattern such as 'models/**/*.yaml'",
                )
            )
            continue
        for match in files.root.glob(pattern):
            if match.is_file() and match.resolve().is_relative_to(files.root):
                found.add(match)
    found.discard(files.project_file)
    if not found and not diagnostics:
        diagnostics.append(
            make(
                "MLG002",
                f"no model files match {', '.join(patterns)}",
                where,
                "add a model spec under models/, or change spec.include",
            )
        )
    return sorted(found, key=files.display), diagnostics


def repository_subdir(root: Path) -> str:
    """The project directory relative to its git repository's root ("" when they coincide).

    GitOps objects name paths inside the repository, so a project kept in a
    subdirectory must prefix them.  Outside a git repository the project
    directory counts as the root.
    """
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            relative = root.relative_to(candidate).as_posix()
            return "" if relative == "." else relative
    return ""
