"""``spec.templates``: the project's override templates, checked before anything renders them.

The directory is repository content, so it is held to a narrow shape: a real directory
inside the project (no symbolic link on the way, not the project itself, not ``.git``
or ``.mlgitops``) holding only ``<target>/<name>.j2`` files that replace a built-in
template of that target, each a small UTF-8 file.  Anything else is an error rather
than ignored, since a misspelt override silently falls back to the built-in template.
The accepted texts are read here, bounded, once; rendering uses them and never opens
the directory again.  Imports no Jinja: ``validate`` runs these checks too.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from mlgitops.boundedread import ReadRefused, TooLarge, describe_mode, read_bounded
from mlgitops.diagnostics import Diagnostic, Location, did_you_mean, make
from mlgitops.resources import templates_dir

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_ENTRIES = 256  # per directory; the built-in set has a few dozen templates in all
RESERVED_DIRECTORIES = (".git", ".mlgitops")
NOT_RENDERED = ("init",)  # `mlgitops init` scaffolding: compile never renders these
_SHAPE = "spec.templates names a directory inside the project holding <target>/<name>.j2 files"


@dataclass(frozen=True)
class Overrides:
    """The accepted override templates: ``"<target>/<name>.j2"`` → text."""

    directory: Path
    texts: Mapping[str, str] = field(default_factory=dict)


def builtin_templates(builtin: Path | None = None) -> dict[str, frozenset[str]]:
    """Target directory → names of its built-in templates (what an override may replace)."""
    found: dict[str, frozenset[str]] = {}
    with os.scandir(builtin or templates_dir()) as targets:
        for target in targets:
            if target.is_dir() and target.name not in NOT_RENDERED:
                with os.scandir(target.path) as names:
                    found[target.name] = frozenset(n.name for n in names if n.name.endswith(".j2"))
    return found


def check_overrides(root: Path, setting: str, where: Location) -> tuple[Overrides | None, list[Diagnostic]]:
    """The override templates named by ``spec.templates: setting`` (``where``), or the problems."""
    directory, problem = _directory(root, setting)
    if directory is None:
        return None, [make("MLG504", f"template directory {setting!r} {problem}", where, _SHAPE)]
    shown = PurePosixPath(setting).as_posix()
    known = builtin_templates()
    texts: dict[str, str] = {}
    found = _Findings(where)
    for target, mode in _entries(directory, shown, found):
        place = f"{shown}/{target}"
        if not stat.S_ISDIR(mode):
            found.add("MLG506", f"{place} is {describe_mode(mode)}, not a target directory", _targets(known))
        elif target not in known:
            found.add("MLG506", f"{place} is not a target mlgitops renders", _targets(known, target))
        else:
            for name, name_mode in _entries(directory / target, place, found):
                path = f"{place}/{name}"
                if not stat.S_ISREG(name_mode):
                    found.add("MLG506", f"{path} is {describe_mode(name_mode)}, not a template file")
                elif name not in known[target]:
                    guess = did_you_mean(name, known[target])
                    found.add(
                        "MLG506",
                        f"{path} is not a template of {target}",
                        f"{guess + ' ' if guess else ''}{target} has {', '.join(sorted(known[target]))}",
                    )
                elif (text := _read(directory / target / name, path, found)) is not None:
                    texts[f"{target}/{name}"] = text
    if found.problems:
        return None, found.problems
    return Overrides(directory, texts), []


class _Findings:
    """The problems found in the template directory, all located at ``spec.templates``."""

    def __init__(self, where: Location) -> None:
        self.where = where
        self.problems: list[Diagnostic] = []

    def add(self, code: str, message: str, hint: str = _SHAPE) -> None:
        self.problems.append(make(code, message, self.where, hint))


def _directory(root: Path, setting: str) -> tuple[Path | None, str]:
    """The directory ``setting`` names, or why it cannot be used."""
    pure = PurePosixPath(setting)
    if pure.is_absolute() or ".." in pure.parts or "\\" in setting:
        return None, "is outside the project"
    if not pure.parts:
        return None, "is the project directory itself"
    reserved = next((part for part in pure.parts if part in RESERVED_DIRECTORIES), None)
    if reserved is not None:
        return None, f"is inside {reserved}, which is not the project's to hold templates"
    current = root
    for index, part in enumerate(pure.parts):
        current = current / part
        step = PurePosixPath(*pure.parts[: index + 1]).as_posix()
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return None, "does not exist"
        except OSError as exc:
            return None, f"cannot be read ({step}: {exc.strerror or exc})"
        if stat.S_ISLNK(mode):
            return None, f"goes through the symbolic link {step}"
        if not stat.S_ISDIR(mode):
            return None, f"is not a directory ({step} is {describe_mode(mode)})"
    return current, ""


def _entries(directory: Path, shown: str, found: _Findings) -> list[tuple[str, int]]:
    """The entries of ``directory`` and their modes (no symbolic link followed), sorted."""
    entries: list[tuple[str, int]] = []
    try:
        with os.scandir(directory) as listing:
            for entry in listing:
                if len(entries) == MAX_ENTRIES:
                    found.add("MLG506", f"{shown} holds more than {MAX_ENTRIES} entries")
                    return []
                entries.append((entry.name, entry.stat(follow_symlinks=False).st_mode))
    except OSError as exc:
        found.add("MLG504", f"template directory {shown} cannot be read: {exc.strerror or exc}")
        return []
    return sorted(entries)


def _read(path: Path, shown: str, found: _Findings) -> str | None:
    try:
        raw = read_bounded(path, MAX_TEMPLATE_BYTES, follow_symlinks=False)
    except TooLarge as exc:
        found.add("MLG507", f"{shown} {exc.reason} (256 KiB)", "keep override templates small")
        return None
    except ReadRefused as exc:
        found.add("MLG507", f"{shown} {exc.reason}", "check the file's permissions")
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        found.add("MLG507", f"{shown} is not valid UTF-8 (byte offset {exc.start})", "save the file as UTF-8")
        return None


def _targets(known: Mapping[str, frozenset[str]], misspelt: str | None = None) -> str:
    guess = did_you_mean(misspelt, known) if misspelt else None
    listed = f"the template directory holds one directory per target: {', '.join(sorted(known))}"
    return f"{guess} {listed}" if guess else listed
