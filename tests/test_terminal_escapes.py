"""Control characters from a spec never reach the terminal (cli/output.py).

A spec comes from whoever opened the pull request; ESC sequences in it would otherwise
drive the terminal of whoever runs mlgitops on it (clear the screen, fake a clean run).
The real console script runs in a subprocess and its raw output bytes are checked.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from compile_helpers import minimal_project
from conftest import ROOT

FORBIDDEN = (b"\x1b", b"\x07", b"\x9b", b"\xe2\x80\xae")  # ESC, BEL, CSI (C1, any byte of it), RLO
MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: iris
  owner: "data\\e[2J\\a-science"
  description: "\\e]0;pwned\\a\\x9b31m \\u202e"
spec:
  serving:
    runtime: sklearn
    artifact: "s3://models/{model}/{version}/"
    env: {BANNER: "\\e[31mred\\e[0m"}
  deployments:
    dev:
      version: "1.0.0"
"""


def _mlgitops(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGITOPS_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "mlgitops", *map(str, args)],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=120,
    )


def _project(root: Path, model: str | bytes) -> Path:
    return minimal_project(root, model)


def _assert_clean(result: subprocess.CompletedProcess[bytes]) -> None:
    for stream in (result.stdout, result.stderr):
        for sequence in FORBIDDEN:
            assert sequence not in stream, (sequence, stream.decode("utf-8", "replace"))


def test_raw_control_characters_in_the_caret_display(tmp_path: Path) -> None:
    """A raw ESC in a file is a YAML error, whose caret display quotes the line."""
    raw = MODEL.replace('"data\\e[2J\\a-science"', "data\x1b[2J\x07-science").encode()
    assert b"\x1b" in raw
    result = _mlgitops("validate", _project(tmp_path, raw))
    assert result.returncode == 1
    _assert_clean(result)
    assert b"data\\x1b[2J\\x07-science" in result.stdout  # shown, visibly, not dropped
    line = next(line for line in result.stdout.splitlines() if line.startswith(b"5 | "))
    caret = result.stdout.splitlines()[result.stdout.splitlines().index(line) + 1]
    assert caret.index(b"^") == line.index(b"\\x1b")  # the caret still points at it


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_escapes_in_reported_values(tmp_path: Path, fmt: str) -> None:
    """Values written with YAML escapes load fine and are quoted in messages."""
    model = MODEL.replace('version: "1.0.0"', 'version: "1.0\\e[2J"')
    result = _mlgitops("validate", "--format", fmt, _project(tmp_path, model))
    assert result.returncode == 1
    _assert_clean(result)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_explain_prints_resolved_values_visibly(tmp_path: Path, fmt: str) -> None:
    result = _mlgitops("explain", "iris", "--project", _project(tmp_path, MODEL), "--format", fmt)
    assert result.returncode == 0, result.stderr
    _assert_clean(result)
    assert b"red" in result.stdout


def test_visible_controls_keeps_newlines_tabs_and_text() -> None:
    from mlgitops.reporters import visible_controls

    assert visible_controls("a\tb\nc é ✓") == "a\tb\nc é ✓"
    assert visible_controls("\x1b[2J\x07\x9b\x7f\r\u202e") == "\\x1b[2J\\x07\\x9b\\x7f\\x0d\\u202e"
