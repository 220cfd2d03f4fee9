"""The README's five-minute tour runs as written: init → edit → validate → compile →
commit → promote → diff, in a scratch directory, with the mlgitops under test."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from compile_helpers import GIT_ENV
from conftest import ROOT, VENV_BIN


def tour() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- tour: [^\n]*-->\n```sh\n(.*?)```", readme, re.DOTALL)
    assert match, "README.md has no tour block"
    return match[1]


@pytest.mark.slow
def test_the_tour_runs_as_written(tmp_path: Path) -> None:
    editor = tmp_path / "editor"
    # What the tour's edit says to do: move dev to 0.2.0.
    editor.write_text(
        '#!/bin/sh\nsed -i \'s/dev: {version: 0.1.0}/dev: {version: 0.2.0}/\' "$1"\ngrep -q 0.2.0 "$1"\n'
    )
    editor.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLGITOPS_", "GIT_"))},
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT / "src"),
        "EDITOR": str(editor),
        **GIT_ENV,
    }
    script = "set -euo pipefail\n" + tour()
    run = subprocess.run(
        ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, check=False, timeout=300
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok: 2 files valid" in run.stdout
    assert "Promote example-model 0.2.0 to staging" in run.stdout
    assert "### mlgitops: what this change does (against `main`)" in run.stdout
    assert (
        "0.2.0"
        in (work / "shop" / "deploy" / "staging" / "example-model" / "inferenceservice.yaml").read_text()
    )
