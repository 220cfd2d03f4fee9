"""Stage 1, discover: find the project file and the model files it includes."""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlgitops.boundedread import describe_mode
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
        # Below the root, the rest of the path's text: what relative_to gives for normalized
        # POSIX paths, without the two part lists it builds (a compile asks ~6,000 times).
        text, root = str(path), str(self.root)
        if os.sep == "/" and len(root) > 1 and text.startswith(root + "/"):
            return text[len(root) + 1 :]
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()


@dataclass(frozen=True, slots=True)
class Upward:
    """No project was named: look for it from ``start`` upward, as git looks for its repository."""

    start: Path


# A project named by the user (its directory or its mlgitops.yaml), or a place to search from.
ProjectRef = Path | Upward


def find_project(path: ProjectRef) -> tuple[ProjectFiles | None, list[Diagnostic]]:
    """Locate ``mlgitops.yaml`` given a project directory or the file itself, or by
    searching upward (:func:`search_project`).

    The project file must be a regular file, or a symbolic link to one in the same
    directory tree: a link leading elsewhere would have mlgitops read (and quote in
    its diagnostics) a file outside the repository.
    """
    if isinstance(path, Upward):
        found, problems = search_project(path.start)
        if found is None:
            return None, problems
        path = found
    try:
        is_directory = stat.S_ISDIR(path.stat().st_mode)
    except OSError:
        is_directory = False  # then the path itself is looked at, and its problem reported
    candidate = path / PROJECT_FILE if is_directory else path
    try:
        mode = os.lstat(candidate).st_mode
    except FileNotFoundError:
        return None, [
            make(
                "MLG001",
                f"no {PROJECT_FILE} found at {candidate.as_posix()}",
                None,
                "pass the project directory, or create one with 'mlgitops init'",
            )
        ]
    except OSError as exc:
        return None, [_unusable_project_file(candidate, f"cannot be read: {exc.strerror or exc}")]
    root = candidate.parent.resolve()
    what = _what_is(candidate, mode, root)
    if what is not None:
        return None, [_unusable_project_file(candidate, what)]
    return ProjectFiles(root=root, project_file=root / candidate.name), []


def search_project(start: Path) -> tuple[Path | None, list[Diagnostic]]:
    """The nearest directory holding ``mlgitops.yaml``, from ``start`` (a directory, or a file
    whose directory is meant) upward.

    Like git, the search stops at the top level of the git repository (the directory
    holding ``.git``, a directory or, in a worktree or submodule, a file) or at the
    filesystem root: a project above the repository is someone else's.  Any entry named
    ``mlgitops.yaml`` counts, so that a broken one is reported (MLG008) rather than skipped.
    """
    here = start.absolute()
    while not here.is_dir() and here != here.parent:  # a file, or one that does not exist
        here = here.parent
    here = first = here.resolve()
    while True:
        if os.path.lexists(here / PROJECT_FILE):
            return here, []
        if os.path.lexists(here / ".git"):
            limit = f"{here.as_posix()}, the top level of the git repository"
            break
        if here == here.parent:
            limit = f"{here.as_posix()}, the filesystem root"
            break
        here = here.parent
    where = f"in {limit}" if first == here else f"from {first.as_posix()} up to {limit}"
    return None, [
        make(
            "MLG009",
            f"no {PROJECT_FILE} found {where}",
            None,  # there is no project to locate it in
            "run mlgitops inside a project, name one with --project DIR or -C DIR, "
            "or create one with 'mlgitops init'",
        )
    ]


def _unusable_project_file(candidate: Path, what: str) -> Diagnostic:
    return make(
        "MLG008",
        f"{candidate.as_posix()} {what}",
        None,  # like MLG001: there is no project yet to locate it in
        "the project file must be a regular file in the project directory",
    )


def find_models(
    files: ProjectFiles,
    patterns: tuple[str, ...],
    where: Location,
    pattern_locations: Sequence[Location] = (),
) -> tuple[list[Path], list[Diagnostic]]:
    """Model files matched by ``patterns``, sorted, each inside the project.

    Every path a pattern matches that is not a usable model file, and every directory
    on the way that cannot be listed, is an error located at the pattern
    (``pattern_locations[i]``, else ``where``): a model file that silently went
    missing would count as deleted, and compile would prune its outputs.
    """
    search = _Search(files.root)
    for index, pattern in enumerate(patterns):
        pure = PurePosixPath(pattern)
        here = pattern_locations[index] if index < len(pattern_locations) else where
        if pure.is_absolute() or ".." in pure.parts or "\\" in pattern:
            search.problems.append(
                make(
                    "MLG003",
                    f"include pattern {pattern!r} reaches outside the project",
                    here,
                    "use a relative pattern such as 'models/**/*.yaml'",
                )
            )
            continue
        search.run(pure.parts, here)
    found = {files.root / relative for relative in search.found}
    found.discard(files.project_file)
    if not found and not search.problems:
        search.problems.append(
            make(
                "MLG002",
                f"no model files match {', '.join(patterns)}",
                where,
                "add a model spec under models/, or change spec.include",
            )
        )
    return sorted(found, key=files.display), search.problems


_WILDCARD = re.compile(r"[*?[]")
# What a directory entry is, from the directory listing alone (no stat call per file).
_FILE, _DIRECTORY, _LINK, _OTHER = "file", "directory", "link", "other"


class _Search:
    """One walk of the project tree for all include patterns (``pathlib.Path.glob`` skips
    what it cannot read and follows or ignores symbolic links without a word)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.found: set[str] = set()
        self.problems: list[Diagnostic] = []
        self._listings: dict[str, list[tuple[str, str]]] = {}
        self._reported: set[str] = set()
        self._visited: set[tuple[str, int]] = set()
        self._parts: tuple[str, ...] = ()
        self._where = Location(PROJECT_FILE)

    def run(self, parts: tuple[str, ...], where: Location) -> None:
        self._parts, self._where = parts, where
        self._visited = set()
        self._walk("", 0)

    def _walk(self, directory: str, index: int) -> None:
        if (directory, index) in self._visited:
            return
        self._visited.add((directory, index))
        if index == len(self._parts):  # the pattern ends at a directory ('.', 'models/**')
            self._match(directory, _DIRECTORY)
            return
        part = self._parts[index]
        if part == "**":
            self._walk(directory, index + 1)  # no directory at all
            for name, kind in self._listing(directory):
                child = _join(directory, name)
                if kind == _DIRECTORY:
                    self._walk(child, index)
                elif kind == _LINK:
                    self._linked_directory(child)
            return
        if _WILDCARD.search(part):
            entries = [(n, k) for n, k in self._listing(directory) if fnmatch.fnmatchcase(n, part)]
        else:
            entries = self._lookup(directory, part)
        last = index == len(self._parts) - 1
        for name, kind in entries:
            child = _join(directory, name)
            if last:
                self._match(child, kind)
            elif kind == _DIRECTORY:
                self._walk(child, index + 1)
            elif kind == _LINK:
                self._linked_directory(child)

    def _listing(self, directory: str) -> list[tuple[str, str]]:
        """The entries of a directory, each with its kind; an unreadable one is reported."""
        listing = self._listings.get(directory)
        if listing is None:
            listing = []
            try:
                with os.scandir(self.root / directory) as entries:
                    listing = [(entry.name, _entry_kind(entry)) for entry in entries]
            except OSError as exc:
                self._report("MLG007", directory or ".", f"cannot be read: {exc.strerror or exc}")
            self._listings[directory] = listing
        return listing

    def _lookup(self, directory: str, name: str) -> list[tuple[str, str]]:
        """A literal pattern part needs no listing, only a look at that one name."""
        try:
            mode = os.lstat(self.root / directory / name).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            self._report("MLG007", directory or ".", f"cannot be read: {exc.strerror or exc}")
            return []
        return [(name, _mode_kind(mode))]

    def _match(self, relative: str, kind: str) -> None:
        if kind == _FILE:
            self.found.add(relative)
            return
        path = self.root / relative
        try:
            mode = os.lstat(path).st_mode
        except OSError as exc:
            self._report("MLG007", relative, f"cannot be read: {exc.strerror or exc}")
            return
        if stat.S_ISREG(mode):  # it changed since the listing; take it as it is now
            self.found.add(relative)
            return
        what = _what_is(path, mode, self.root)
        if what is None:
            self.found.add(relative)  # a symbolic link to a regular file inside the project
            return
        code = {_DIRECTORY: "MLG005", _OTHER: "MLG006"}.get(_mode_kind(mode), "MLG004")
        if what.startswith("cannot be read"):
            code = "MLG007"
        self._report(code, relative or ".", what)

    def _linked_directory(self, relative: str) -> None:
        """A symbolic link met on the way down: report it if it leads to a directory, which
        may hold model files that mlgitops does not look for."""
        path = self.root / relative
        try:
            is_directory = stat.S_ISDIR(path.stat().st_mode)
        except OSError as exc:  # dangling or looping: no directory behind it
            if exc.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                self._report("MLG007", relative, f"cannot be read: {exc.strerror or exc}")
            return
        if is_directory:
            inside = Path(os.path.realpath(path)).is_relative_to(self.root)
            where = "inside" if inside else "outside"
            self._report("MLG004", relative, f"is a symbolic link to a directory {where} the project")

    def _report(self, code: str, relative: str, what: str) -> None:
        if relative in self._reported:
            return
        self._reported.add(relative)
        hints = {
            "MLG004": "mlgitops follows a symbolic link only to a regular file inside the project; "
            "list the real directory in spec.include, or move the link out of the patterns' reach",
            "MLG005": "include patterns must match model files; end each with a file name such as '*.yaml'",
            "MLG006": "a model spec must be a regular file",
            "MLG007": "make it readable, or move it out of the include patterns' reach",
        }
        self.problems.append(make(code, f"{relative} {what}", self._where, hints[code]))


def _what_is(path: Path, mode: int, root: Path) -> str | None:
    """Why ``path`` (lstat ``mode``) is no usable spec file; None when it is one."""
    if stat.S_ISREG(mode):
        return None
    if not stat.S_ISLNK(mode):
        return f"is {describe_mode(mode)}, not a regular file"
    if not Path(os.path.realpath(path)).is_relative_to(root):
        return "is a symbolic link leading outside the project"
    try:
        target = path.stat().st_mode
    except FileNotFoundError:
        return "is a dangling symbolic link"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symbolic link that loops"
        return f"cannot be read: {exc.strerror or exc}"
    if stat.S_ISREG(target):
        return None
    return f"is a symbolic link to {describe_mode(target)}"


def _entry_kind(entry: os.DirEntry[str]) -> str:
    if entry.is_symlink():
        return _LINK
    if entry.is_file(follow_symlinks=False):
        return _FILE
    if entry.is_dir(follow_symlinks=False):
        return _DIRECTORY
    return _OTHER


def _mode_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return _LINK
    if stat.S_ISREG(mode):
        return _FILE
    return _DIRECTORY if stat.S_ISDIR(mode) else _OTHER


def _join(directory: str, name: str) -> str:
    return f"{directory}/{name}" if directory else name


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


def project_subdir(declared_root: str | None, root: Path) -> str:
    """Where the project sits in its repository: nowhere below the root when the spec declares
    the project directory the repository root (``spec.repositoryRoot: .``), else as git says."""
    return "" if declared_root == "." else repository_subdir(root)
