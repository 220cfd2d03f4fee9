"""Inputs mlgitops cannot use are located errors (exit 1), and a compile then changes nothing.

A model file that discovery dropped without a word would count as deleted, and compile
would prune everything generated from it (with Argo CD's ``prune: true``, the running
service). Each case below plants one unusable input in a compiled copy of the quickstart,
runs ``validate`` and ``compile`` through the real command line, and checks the exit code,
the message naming the path, and that the tree on disk is byte for byte what it was.

Unreadable files and directories need a process that permissions apply to; tests run as
root, so those commands run in a child that gave up root (``tests/unprivileged.py``).
All commands run that way, so every case goes through the same path.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from compile_helpers import copy_specs, example
from mlgitops.load import MAX_FILE_BYTES
from unprivileged import give_to_unprivileged, run_unprivileged, shared_directory

MODEL = "models/iris-classifier.yaml"


@dataclass(frozen=True)
class Case:
    plant: Callable[[Path], None]  # makes the project unusable
    code: str
    message: str  # the diagnostic's message (after "error[CODE]: ")
    remove: Callable[[Path], None] = lambda root: None  # undoes ``plant`` before the tree is compared


def _outside_spec(root: Path) -> Path:
    """A valid model spec next to the project, not inside it."""
    outside = root.parent / "elsewhere" / "stolen.yaml"
    outside.parent.mkdir(exist_ok=True)
    text = (root / MODEL).read_text(encoding="utf-8").replace("iris-classifier", "stolen", 1)
    outside.write_text(text, encoding="utf-8")
    return outside


def _unlink(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).unlink()


def _rmtree(relative: str) -> Callable[[Path], None]:
    return lambda root: shutil.rmtree(root / relative)


def _chmod(relative: str, mode: int) -> Callable[[Path], None]:
    return lambda root: (root / relative).chmod(mode)


def _symlink(
    relative: str, target: Callable[[Path], str], *, directory: bool = False
) -> Callable[[Path], None]:
    def plant(root: Path) -> None:
        (root / relative).symlink_to(target(root), target_is_directory=directory)

    return plant


def _fifo(root: Path) -> None:
    os.mkfifo(root / "models/pipe.yaml")


def _socket(root: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(root / "models/listening.yaml"))


def _directory_named_like_a_spec(root: Path) -> None:
    (root / "models/archive.yaml").mkdir()
    (root / "models/archive.yaml/notes.txt").write_text("old models\n", encoding="utf-8")


def _unreadable_team_directory(root: Path) -> None:
    team = root / "models/team-b"
    team.mkdir()
    shutil.copy2(root / MODEL, team / "churn.yaml")
    give_to_unprivileged(team)
    team.chmod(0)


def _huge_sparse_spec(root: Path) -> None:
    with (root / "models/huge.yaml").open("wb") as handle:
        handle.truncate(1 << 30)  # 1 GiB that takes no disk space; reading it whole would take the memory


def _templates_setting(value: str) -> Callable[[Path], None]:
    def plant(root: Path) -> None:
        project = root / "mlgitops.yaml"
        text = project.read_text(encoding="utf-8")
        project.write_text(
            text.replace("\nspec:\n", f'\nspec:\n  templates: "{value}"\n', 1), encoding="utf-8"
        )

    return plant


CASES = {
    "symlink-leaving-the-project": Case(
        _symlink("models/stolen.yaml", lambda root: str(_outside_spec(root))),
        "MLG004",
        "models/stolen.yaml is a symbolic link leading outside the project",
        _unlink("models/stolen.yaml"),
    ),
    "dangling-symlink": Case(
        _symlink("models/gone.yaml", lambda root: "nowhere.yaml"),
        "MLG004",
        "models/gone.yaml is a dangling symbolic link",
        _unlink("models/gone.yaml"),
    ),
    "looping-symlink": Case(
        _symlink("models/loop.yaml", lambda root: "loop.yaml"),
        "MLG004",
        "models/loop.yaml is a symbolic link that loops",
        _unlink("models/loop.yaml"),
    ),
    "symlinked-directory-leaving-the-project": Case(
        _symlink("models/team-c", lambda root: str(_outside_spec(root).parent), directory=True),
        "MLG004",
        "models/team-c is a symbolic link to a directory outside the project",
        _unlink("models/team-c"),
    ),
    "directory-named-like-a-spec": Case(
        _directory_named_like_a_spec,
        "MLG005",
        "models/archive.yaml is a directory, not a regular file",
        _rmtree("models/archive.yaml"),
    ),
    "fifo": Case(
        _fifo, "MLG006", "models/pipe.yaml is a FIFO, not a regular file", _unlink("models/pipe.yaml")
    ),
    "socket": Case(
        _socket,
        "MLG006",
        "models/listening.yaml is a socket, not a regular file",
        _unlink("models/listening.yaml"),
    ),
    "unreadable-directory": Case(
        _unreadable_team_directory,
        "MLG007",
        "models/team-b cannot be read: Permission denied",
        lambda root: (_chmod("models/team-b", 0o755)(root), _rmtree("models/team-b")(root)),
    ),
    "unreadable-model-file": Case(
        _chmod(MODEL, 0),
        "MLG113",
        "file cannot be read: Permission denied",
        _chmod(MODEL, 0o644),
    ),
    "unreadable-project-file": Case(
        _chmod("mlgitops.yaml", 0),
        "MLG113",
        "file cannot be read: Permission denied",
        _chmod("mlgitops.yaml", 0o644),
    ),
    "spec-of-1-GiB": Case(
        _huge_sparse_spec,
        "MLG102",
        f"file is {1 << 30:,} bytes; the limit is {MAX_FILE_BYTES:,} (1 MiB)",
        _unlink("models/huge.yaml"),
    ),
    "templates-are-the-project": Case(
        _templates_setting("."),
        "MLG504",
        "template directory '.' is the project directory itself",
    ),
}
WHERE = {  # the file each diagnostic is located in
    "unreadable-model-file": MODEL,
    "spec-of-1-GiB": "models/huge.yaml",
}


def _run_cli(*args: str | Path) -> tuple[int, str]:
    from mlgitops.cli import run

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = run([str(a) for a in args])
    return code, out.getvalue()


def snapshot(root: Path) -> dict[str, bytes]:
    """Every path under ``root`` with its bytes (a link: its target; a directory: nothing)."""
    out: dict[str, bytes] = {}
    for directory, subdirectories, files in os.walk(root):
        for name in subdirectories + files:
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[relative] = b"-> " + str(path.readlink()).encode()
            elif path.is_dir():
                out[relative + "/"] = b""
            else:
                out[relative] = path.read_bytes()
    return out


@pytest.fixture(scope="module")
def compiled() -> Iterator[Path]:
    """The quickstart's specs compiled once; each test works on a copy."""
    with shared_directory() as shared:
        root = copy_specs(example("quickstart"), shared / "compiled")
        code, output = _run_cli("compile", root)
        assert code == 0, output
        yield root


@pytest.fixture
def project(compiled: Path) -> Iterator[Path]:
    with shared_directory() as shared:
        root = shutil.copytree(compiled, shared / "proj", symlinks=True)
        give_to_unprivileged(shared)
        yield root


@pytest.mark.parametrize("name", list(CASES))
def test_validate_reports_an_unusable_input(project: Path, name: str) -> None:
    case = CASES[name]
    case.plant(project)
    code, output = run_unprivileged(lambda: _run_cli("validate", project))
    # Shown relative to the working directory, wherever the checkout is: compare the tail.
    where = f"/{project.name}/{WHERE.get(name, 'mlgitops.yaml')}"
    assert code == 1, output
    assert f"{where}:" in output and f"error[{case.code}]: {case.message}\n" in output, output
    assert "Traceback" not in output


@pytest.mark.parametrize("name", list(CASES))
def test_compile_refuses_and_changes_nothing(project: Path, name: str) -> None:
    case = CASES[name]
    before = snapshot(project)
    case.plant(project)
    code, output = run_unprivileged(lambda: _run_cli("compile", project))
    case.remove(project)
    assert code == 1, output
    assert f"error[{case.code}]: {case.message}\n" in output, output
    if name != "templates-are-the-project":  # that one's edit of mlgitops.yaml stays
        assert snapshot(project) == before


def test_compile_still_works_once_the_input_is_usable_again(project: Path) -> None:
    """The refusals above leave no cache behind that would skip the next compile's work."""
    case = CASES["unreadable-model-file"]
    case.plant(project)
    assert run_unprivileged(lambda: _run_cli("compile", project))[0] == 1
    case.remove(project)
    (project / "deploy/dev/iris-classifier/inferenceservice.yaml").unlink()
    code, output = run_unprivileged(lambda: _run_cli("compile", project))
    assert code == 0, output
    assert (project / "deploy/dev/iris-classifier/inferenceservice.yaml").is_file()


def test_compile_never_writes_through_a_committed_gitignore_link(project: Path) -> None:
    """.mlgitops/.gitignore and cache.json are repository content too: a link there is a located
    error (MLG510), its target untouched."""
    victim = project.parent / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    ignore = project / ".mlgitops/.gitignore"
    ignore.unlink()
    ignore.symlink_to(victim)
    cache = project / ".mlgitops/cache.json"
    cache.unlink()
    cache.symlink_to(victim)
    code, output = _run_cli("compile", project)
    assert code == 1, output
    assert ".mlgitops/.gitignore is a symbolic link" in output and "MLG510" in output
    assert victim.read_text(encoding="utf-8") == "precious\n"
    assert ignore.is_symlink() and cache.is_symlink()


def test_a_committed_cache_of_any_shape_only_misses(project: Path) -> None:
    (project / ".mlgitops/cache.json").write_bytes(b"[" * 100_000)
    (project / "deploy/dev/iris-classifier/inferenceservice.yaml").unlink()
    code, output = _run_cli("compile", project)
    assert code == 0, output
    assert (project / "deploy/dev/iris-classifier/inferenceservice.yaml").is_file()


def test_a_huge_spec_is_refused_without_being_read(project: Path) -> None:
    """A 1 GiB spec: compile reads none of it (the memory of the whole process stays small)."""
    _huge_sparse_spec(project)
    child = (
        "import resource, subprocess, sys\n"
        "code = subprocess.run(sys.argv[1:], capture_output=True).returncode\n"
        "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    mlgitops = shutil.which("mlgitops", path=str(Path(sys.executable).parent))
    assert mlgitops is not None
    result = subprocess.run(
        [sys.executable, "-c", child, mlgitops, "compile", str(project)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    code, max_rss_kib = map(int, result.stdout.split())
    assert code == 1
    assert max_rss_kib < 300 * 1024, f"compile grew to {max_rss_kib // 1024} MiB"
