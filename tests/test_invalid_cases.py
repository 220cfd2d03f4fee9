"""The invalid-input corpus: every folder under ``tests/cases/invalid/`` is a tiny project
with one kind of problem, and ``expected.txt`` holds exactly what ``validate`` reports.

Format of ``expected.txt``, one diagnostic per line (a location-less one shows ``-``)::

    {file}:{line}:{column}: {severity} {code} {message}
        hint: {hint}

A case may hold ``files.txt``, the files named on the command line (one per line,
relative to the case): then only those are reported, as ``validate FILE...`` does.

The absolute path of the case folder, which appears in a few messages (a missing
project file), is written as ``<case>`` so the files are the same on every machine.

``MLGITOPS_UPDATE_GOLDEN=1 pytest tests/test_invalid_cases.py`` (or ``make golden``)
rewrites the expected files from the current behaviour; review the diff before committing.
"""

from __future__ import annotations

import datetime
import difflib
import os
from collections.abc import Iterable
from pathlib import Path

import pytest

from compile_helpers import minimal_project
from mlgitops.codes import CODES
from mlgitops.diagnostics import Diagnostic, has_errors
from mlgitops.load import MAX_FILE_BYTES
from mlgitops.pipeline import validate_project
from unprivileged import give_to_unprivileged, run_unprivileged, shared_directory

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = Path(__file__).resolve().parent / "cases" / "invalid"
CASES = sorted(path for path in CASES_DIR.iterdir() if path.is_dir())
EXAMPLES = sorted(path.parent for path in (ROOT / "examples").glob("*/mlgitops.yaml"))
TODAY = datetime.date(2026, 1, 1)
UPDATE = os.environ.get("MLGITOPS_UPDATE_GOLDEN") == "1"

# Codes that no committed case folder can produce, each with the test that covers it instead.
NOT_IN_CASE_FOLDERS = {
    "MLG102": "a file over 1 MiB is not committed; test_oversize_file builds one on the fly",
    "MLG006": "git keeps no FIFO or socket; test_unusable_inputs.py plants them",
    "MLG007": "git keeps no permissions but the executable bit; test_unusable_inputs.py makes a "
    "directory unreadable and runs mlgitops as a user that root's permissions bind",
    "MLG009": "every case folder lies inside this repository, whose top level the upward search "
    "stops at; test_cli_discovery.py searches from scratch directories",
    "MLG113": "an unreadable file cannot be committed; test_unreadable_file (and test_unusable_inputs.py) "
    "make one at run time",
    "MLG351": "a note of compile (not validate), printed when it writes the promotion workflow; "
    "test_ci_tokens.py compiles twice and sees it once",
    "MLG352": "a warning of compile (not validate), given when it writes the pipeline whose install "
    "steps stop; test_ci_install.py compiles without spec.ci.mlgitops",
}
# Later stages (render, emit) own MLG5xx; validate_project never reaches them.
EXEMPT_PREFIXES = ("MLG5",)


def render(diagnostics: Iterable[Diagnostic], case_dir: Path) -> str:
    """Diagnostics in the expected.txt format."""
    lines = []
    for d in diagnostics:
        where = f"{d.location.file}:{d.location.line}:{d.location.column}" if d.location else "-"
        message = d.message.replace(case_dir.as_posix(), "<case>")
        lines.append(f"{where}: {d.severity.value} {d.code} {message}")
        if d.hint:
            lines.append(f"    hint: {d.hint.replace(case_dir.as_posix(), '<case>')}")
    return "".join(line + "\n" for line in lines)


def compare(actual: str, expected: str, name: str) -> None:
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"{name}/expected.txt",
                tofile=f"{name} (actual)",
            )
        )
        pytest.fail(
            f"diagnostics of {name} differ from expected.txt (MLGITOPS_UPDATE_GOLDEN=1 rewrites it):\n{diff}",
            pytrace=False,
        )


def expected_codes(text: str) -> set[str]:
    return {line.split(" ")[2] for line in text.splitlines() if not line.startswith("    hint: ")}


@pytest.mark.golden
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_case(case: Path) -> None:
    named = case / "files.txt"
    only = [case / line for line in named.read_text(encoding="utf-8").split()] if named.exists() else None
    actual = render(validate_project(case, today=TODAY, only=only).diagnostics, case)
    expected_file = case / "expected.txt"
    if UPDATE:
        expected_file.write_text(actual, encoding="utf-8", newline="\n")
    assert expected_file.is_file(), f"{case.name} has no expected.txt"
    compare(actual, expected_file.read_text(encoding="utf-8"), case.name)


def test_corpus_is_large_and_every_case_is_invalid() -> None:
    assert len(CASES) >= 45
    for case in CASES:
        text = (case / "expected.txt").read_text(encoding="utf-8")
        assert text.strip(), f"{case.name} expects no diagnostics, so it is not an invalid case"
        assert all(code in CODES for code in expected_codes(text)), case.name


def test_every_code_is_covered() -> None:
    covered: set[str] = set()
    for case in CASES:
        covered |= expected_codes((case / "expected.txt").read_text(encoding="utf-8"))
    wanted = {code for code in CODES if not code.startswith(EXEMPT_PREFIXES)}
    assert set(NOT_IN_CASE_FOLDERS) <= wanted
    missing = wanted - covered - set(NOT_IN_CASE_FOLDERS)
    assert not missing, f"no case folder produces {sorted(missing)}"
    # A code listed as unreachable that a case does reach belongs in the corpus instead.
    assert not covered & set(NOT_IN_CASE_FOLDERS)


def test_many_problems_are_all_reported_sorted_by_file_and_line() -> None:
    case = CASES_DIR / "many-problems-in-several-files"
    diagnostics = validate_project(case, today=TODAY).diagnostics
    located = [d.location for d in diagnostics if d.location is not None]
    assert len(located) == len(diagnostics) >= 10
    assert len({loc.file for loc in located}) >= 5  # the project and four model files
    assert [(loc.file, loc.line, loc.column) for loc in located] == sorted(
        (loc.file, loc.line, loc.column) for loc in located
    )
    # Loader, schema, secret, semantic and policy problems all come out of one run.
    assert {"MLG104", "MLG204", "MLG310", "MLG301", "MLG312", "MLG402"} <= {d.code for d in diagnostics}


MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: iris
  owner: data-science
spec:
  serving:
    runtime: sklearn
    artifact: "s3://models/{model}/{version}/"
  deployments:
    dev:
      version: "1.0.0"
"""


def _project(root: Path, model: str | bytes = MODEL) -> Path:
    return minimal_project(root, model)


def test_helper_project_is_valid(tmp_path: Path) -> None:
    """The base of the on-the-fly cases below is clean, so their diagnostics are theirs."""
    assert validate_project(_project(tmp_path), today=TODAY).diagnostics == []


def test_oversize_file(tmp_path: Path) -> None:
    padding = "# " + "x" * 98 + "\n"
    big = MODEL + padding * (MAX_FILE_BYTES // len(padding) + 1)
    root = _project(tmp_path, big)
    size = len(big.encode())
    assert size > MAX_FILE_BYTES
    compare(
        render(validate_project(root, today=TODAY).diagnostics, root),
        f"models/iris.yaml:1:1: error MLG102 file is {size:,} bytes; the limit is 1,048,576 (1 MiB)\n"
        "    hint: split the spec or move large data out of it\n",
        "oversize-file",
    )


def test_file_of_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    filler = MAX_FILE_BYTES - len(MODEL.encode())
    text = MODEL + "#" * (filler - 1) + "\n"
    assert len(text.encode()) == MAX_FILE_BYTES
    assert validate_project(_project(tmp_path, text), today=TODAY).diagnostics == []


def test_unreadable_file() -> None:
    with shared_directory() as shared:
        root = _project(shared / "project")
        give_to_unprivileged(shared)
        (root / "models" / "iris.yaml").chmod(0)
        diagnostics = run_unprivileged(lambda: validate_project(root, today=TODAY).diagnostics)
        compare(
            render(diagnostics, root),
            "models/iris.yaml:1:1: error MLG113 file cannot be read: Permission denied\n"
            "    hint: check the file's permissions\n",
            "unreadable-file",
        )


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
def test_examples_validate_clean(example: Path) -> None:
    diagnostics = validate_project(example, today=TODAY).diagnostics
    assert not has_errors(diagnostics), render(diagnostics, example)


def test_there_are_examples() -> None:
    assert EXAMPLES, "no examples/*/mlgitops.yaml found"
