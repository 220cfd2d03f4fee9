"""Progress on stderr: on a terminal (after a second, or at once with --progress), never on
a pipe unless asked; --verbose timings; the core only calls an observer."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from compile_helpers import copy_specs, example
from mlgitops.cli.progress import SHOW_AFTER_SECONDS, TerminalProgress
from mlgitops.pipeline import check_project, compile_project
from test_cli_formats import _in_terminal, _piped

STAGES = ["discover", "load and check the schema", "check references, resolve, policies"]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = copy_specs(example("quickstart"), tmp_path / "broken")
    model = next((root / "models").glob("*.yaml"))
    model.write_text(model.read_text(encoding="utf-8").replace("runtime: sklearn\n", "runtime: sklearnn\n"))
    return root


@pytest.fixture
def quickstart(tmp_path: Path) -> Path:
    return copy_specs(example("quickstart"), tmp_path / "quickstart")


class Recorder:
    def __init__(self) -> None:
        self.stages: list[tuple[str, int]] = []

    def stage(self, name: str, items: int) -> None:
        self.stages.append((name, items))


def test_the_pipeline_reports_its_stages_to_the_observer(quickstart: Path) -> None:
    seen = Recorder()
    assert compile_project(quickstart, progress=seen).ok
    # a compile writes each file as it is rendered (emit/staging.py): one stage
    assert [name for name, _ in seen.stages] == [*STAGES, "render and write"]
    assert seen.stages[1] == ("load and check the schema", 2)  # the project file and one model
    assert seen.stages[-1][1] > 0
    checked = Recorder()
    assert check_project(quickstart, progress=checked).ok
    assert [name for name, _ in checked.stages] == [*STAGES, "render", "compare with the tree"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_short_run_on_a_terminal_shows_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    now = [0.0]
    stream = FakeTerminal()
    progress = TerminalProgress(stream=stream, clock=lambda: now[0])
    progress.stage("load", 3)
    now[0] = SHOW_AFTER_SECONDS / 2
    progress.stage("render", 3)
    progress.finish()
    assert stream.getvalue() == ""


def test_a_long_run_on_a_terminal_shows_the_stage_and_wipes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    now = [0.0]
    stream = FakeTerminal()
    progress = TerminalProgress(stream=stream, clock=lambda: now[0])
    progress.stage("load", 1000)
    now[0] = SHOW_AFTER_SECONDS + 0.5
    progress.stage("render", 1000)
    progress.finish()
    assert stream.getvalue() == "\rmlgitops: render (1000)…\x1b[K\r\x1b[K"


def test_ci_on_a_terminal_shows_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    now = [0.0]
    stream = FakeTerminal()
    progress = TerminalProgress(stream=stream, clock=lambda: now[0])
    now[0] = 5.0
    progress.stage("render", 1)
    progress.finish()
    assert stream.getvalue() == ""


def test_verbose_prints_each_stage_time() -> None:
    ticks = iter([0.0, 0.0, 0.25, 1.0, 1.5])  # start, load, render, finish, total
    stream = io.StringIO()
    progress = TerminalProgress(stream=stream, verbose=True, clock=lambda: next(ticks))
    progress.stage("load", 2)
    progress.stage("render", 7)
    progress.finish()
    assert stream.getvalue() == "load      0.250 s  (2)\nrender    0.750 s  (7)\ntotal     1.500 s\n"


def test_a_terminal_gets_colour_and_progress(broken: Path) -> None:
    code, output = _in_terminal(["validate", "--progress", "."], broken)
    assert code == 1
    text = output.decode("utf-8")
    assert "\x1b[1;31merror\x1b[0m" in text  # colour
    assert "\rmlgitops: load and check the schema (2)…\x1b[K" in text  # progress, drawn in place
    assert "\r\x1b[K" in text  # and wiped


def test_a_pipe_gets_neither_colour_nor_progress(broken: Path) -> None:
    run = _piped(["validate", "."], broken)
    assert run.returncode == 1
    assert b"\x1b" not in run.stdout + run.stderr
    assert b"mlgitops: " not in run.stderr


def test_progress_on_a_pipe_is_plain_lines(quickstart: Path) -> None:
    run = _piped(["validate", "--progress", "."], quickstart)
    assert run.returncode == 0
    assert run.stderr.decode() == "".join(
        f"mlgitops: {name} ({n})…\n"
        for name, n in [
            ("discover", 1),
            ("load and check the schema", 2),
            ("check references, resolve, policies", 1),
        ]
    )
    assert run.stdout == b"ok: 2 files valid\n"


def test_verbose_times_go_to_stderr(quickstart: Path) -> None:
    run = _piped(["check", "--verbose", "--no-diff", "."], quickstart)
    lines = run.stderr.decode().splitlines()
    assert run.returncode == 1  # never compiled: every file is missing
    assert [line.split("  ")[0] for line in lines] == [*STAGES, "render", "compare with the tree", "total"]
    assert all(re.fullmatch(r"[a-z ,]+ +\d+\.\d{3} s(  \(\d+\))?", line) for line in lines), lines
