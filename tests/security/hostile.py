"""Hostile repositories: a compiled project committed to git with an attacker's additions,
cloned fresh, next to a fake home directory whose files nothing may touch.

Every test of tests/security/ plants something in ``origin`` (specs, state under
``.mlgitops/``, symbolic links), commits it with ``git add -f`` (so ignored files are
committed too, as a pull request can), clones it, runs the real ``mlgitops`` console
script on the clone and then compares both the clone and the home directory with what
they held before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from compile_helpers import GIT_ENV, Tree, copy_specs, example
from conftest import run_mlgitops

HOME_FILES = {".profile": b"# the victim's profile\n", ".ssh/authorized_keys": b"ssh-ed25519 AAAA victim\n"}


def git(*args: str, cwd: Path) -> str:
    run = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, f"git {' '.join(args)} failed: {run.stderr}"
    return run.stdout


def snapshot(root: Path) -> Tree:
    """Every entry under ``root`` (``.git`` included): files by bytes, links by target, dirs by name."""
    out: Tree = {}
    for current, directories, files in os.walk(root):
        for name in [*directories, *files]:
            path = Path(current, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[relative] = b"-> " + os.fsencode(path.readlink())
            elif path.is_dir():
                out[relative + "/"] = b""
            else:
                out[relative] = path.read_bytes()
    return out


@dataclass
class Clone:
    root: Path  # the fresh clone: the project mlgitops runs on
    home: Path  # outside the project: must never change
    home_before: Tree

    def compile(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_mlgitops(["compile", *args, str(self.root)])

    def assert_home_untouched(self) -> None:
        assert snapshot(self.home) == self.home_before, "a file outside the project changed"


def compiled_origin(tmp_path: Path, name: str = "quickstart") -> Path:
    """A git repository holding ``name``'s specs and their compiled output, committed."""
    origin = copy_specs(example(name), tmp_path / "origin")
    (origin / "README.md").write_text("# our models\n", encoding="utf-8")
    git("init", "-q", "-b", "main", cwd=origin)
    compiled = run_mlgitops(["compile", str(origin)])
    assert compiled.returncode == 0, compiled.stderr
    for local in ("lock", "cache.json", "render-cache.json"):  # a pull request plants these on purpose
        (origin / ".mlgitops" / local).unlink()
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "compiled", cwd=origin)
    return origin


def hostile_clone(tmp_path: Path, plant: Callable[[Path, Path], None], *, name: str = "quickstart") -> Clone:
    """Compile ``name`` in a repository, let ``plant(origin, home)`` add the attack, commit
    everything (ignored files included) and clone it fresh."""
    home = tmp_path / "home"
    for relative, data in HOME_FILES.items():
        (home / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / relative).write_bytes(data)
    origin = compiled_origin(tmp_path, name)
    plant(origin, home)
    git("add", "-A", "-f", cwd=origin)
    git("commit", "-q", "--allow-empty", "-m", "innocent-looking change", cwd=origin)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    return Clone(clone, home, snapshot(home))


def relative_to(path: Path, start: Path) -> str:
    return os.path.relpath(path, start)


def remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()
