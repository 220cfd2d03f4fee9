"""One script runs every model's command: the words come as ``<prefix>_0``, ``<prefix>_1``…
variables (contract.command_variables) and ``contract.run_numbered_variables`` passes exactly
those, however many, to the command, under ``sh``, whatever they contain."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mlgitops.targets.ci.contract import command_variables, run_numbered_variables

WORDS = [
    ["python", "-m", "train"],
    ["a b", "", "$(touch pwned)", "`id`", '"q"', "'s'", "\\", "x\ny", "*", "-n", "--flag=1"],
    ["only"],
]


@pytest.mark.parametrize("words", WORDS)
def test_the_command_gets_exactly_its_words(words: list[str], tmp_path: Path) -> None:
    script = run_numbered_variables("MLGITOPS_TRAIN_CMD")
    variables = command_variables("MLGITOPS_TRAIN_CMD", ("printf", "<%s>\\n"), tuple(words))
    run = subprocess.run(
        ["sh", "-c", script],
        env={"PATH": os.environ["PATH"], **variables},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    assert run.stdout == "".join(f"<{w}>\n" for w in words)
    assert not list(tmp_path.iterdir()), "a word was run as a command"


def test_no_words_runs_the_fallback() -> None:
    script = run_numbered_variables("MLGITOPS_EVAL_CMD", otherwise="echo fallback")
    run = subprocess.run(
        ["sh", "-c", script], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True, check=True
    )
    assert run.stdout == "fallback\n"
