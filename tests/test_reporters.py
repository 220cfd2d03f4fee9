"""Reporters: text for people, JSON for machines, GitHub annotations, SARIF 2.1.0."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import QUICKSTART, CliRunner, assert_valid_sarif
from mlgitops.codes import CODES, Severity
from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.reporters import FORMATS, Report, render
from mlgitops.reporters.github import escape_data, escape_property

MODEL = "models/fraud.yaml"
MODEL_TEXT = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: fraud
  colour: red
spec:
  serving:
    runtime: sklearnn
"""
PROJECT_TEXT = "apiVersion: mlgitops/v1\nkind: Project\n"


def sample_report(prefix: str = "") -> Report:
    diagnostics = [
        make(
            "MLG201",
            "unknown field 'colour' in metadata",
            Location(MODEL, 5, 3),
            "allowed fields here: description, labels, name, owner",
        ),
        make(
            "MLG204",
            "spec.serving.runtime: 'sklearnn' is not allowed",
            Location(MODEL, 8, 14),
            "did you mean 'sklearn'?",
            related=[Location("mlgitops.yaml", 2, 1)],
        ),
        make("MLG002", "no model files match models/**/*.yaml", Location("mlgitops.yaml", 1, 1)),
    ]
    return Report(diagnostics, {MODEL: MODEL_TEXT, "mlgitops.yaml": PROJECT_TEXT}, prefix, 2)


def empty_report(files: int = 2) -> Report:
    return Report([], {}, "", files)


# --- text -----------------------------------------------------------------------------------


def block_of(text: str, code: str) -> list[str]:
    """The lines of the text block for ``code`` (from its header to the next blank line)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if f"[{code}]" in line)
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def test_text_header_source_line_caret_and_hint() -> None:
    out = render(sample_report(), "text")
    block = block_of(out, "MLG204")
    assert block[0] == f"{MODEL}:8:14: error[MLG204]: spec.serving.runtime: 'sklearnn' is not allowed"
    assert block[1] == "  |"
    assert block[2] == "8 |     runtime: sklearnn"
    caret_line = block[3]
    assert caret_line.rstrip().endswith("^")
    assert caret_line.count("^") == 1
    # The caret sits under column 14 of the quoted source line.
    source_start = block[2].index("| ") + 2
    assert caret_line.index("^") - source_start == 14 - 1
    assert block[2][caret_line.index("^")] == "s"
    assert "  = hint: did you mean 'sklearn'?" in block
    assert "  = see also: mlgitops.yaml:2:1" in block


def test_text_caret_under_every_column() -> None:
    source = "key:\n  nested: [alpha, beta, gamma]\n"
    for column in range(1, len("  nested: [alpha, beta, gamma]") + 1):
        report = Report([make("MLG206", "bad", Location("f.yaml", 2, column))], {"f.yaml": source}, "", 1)
        lines = render(report, "text").splitlines()
        quoted, caret = lines[2], lines[3]
        assert caret.index("^") == quoted.index("| ") + 2 + column - 1


def test_text_gutter_widens_with_the_line_number() -> None:
    source = "".join(f"k{i}: {i}\n" for i in range(1, 120))
    report = Report([make("MLG206", "bad", Location("f.yaml", 105, 1))], {"f.yaml": source}, "", 1)
    lines = render(report, "text").splitlines()
    assert lines[1:4] == ["    |", "105 | k105: 105", "    | ^"]


def test_text_tabs_do_not_shift_the_caret() -> None:
    source = "a: 1\n\tb: 2\n"
    report = Report(
        [make("MLG106", "tab character in indentation", Location("f.yaml", 2, 1))], {"f.yaml": source}
    )
    lines = render(report, "text").splitlines()
    assert lines[2] == "2 |  b: 2"
    assert lines[3] == "  | ^"


def test_text_prefix_is_prepended_to_every_path() -> None:
    out = render(sample_report("examples/acme/"), "text")
    assert f"examples/acme/{MODEL}:5:3: error[MLG201]" in out
    assert "see also: examples/acme/mlgitops.yaml:2:1" in out


def test_text_without_location_or_source() -> None:
    diagnostics = [
        make("MLG001", "no mlgitops.yaml found at nowhere", None, "pass the project directory"),
        make("MLG103", "YAML syntax error", Location("gone.yaml", 3, 2)),
        make("MLG103", "past the end", Location(MODEL, 99, 1)),
    ]
    out = render(Report(diagnostics, {MODEL: MODEL_TEXT}, "", 0), "text")
    lines = out.splitlines()
    assert lines[0] == "error[MLG001]: no mlgitops.yaml found at nowhere"
    assert lines[1] == "  = hint: pass the project directory"
    assert "gone.yaml:3:2: error[MLG103]: YAML syntax error" in lines
    assert f"{MODEL}:99:1: error[MLG103]: past the end" in lines
    assert not any(line.startswith("99 |") for line in lines)
    assert lines[-1] == "3 errors in 0 files"


@pytest.mark.parametrize(
    ("diagnostics", "files", "summary"),
    [
        ([], 1, "ok: 1 file valid"),
        ([], 12, "ok: 12 files valid"),
        ([make("MLG201", "x", Location("a.yaml"))], 1, "1 error in 1 file"),
        ([make("MLG201", "x", Location("a.yaml"))] * 2, 3, "2 errors in 3 files"),
        (
            [make("MLG201", "x", Location("a.yaml")), make("MLG002", "y", Location("b.yaml"))],
            2,
            "1 error and 1 warning in 2 files",
        ),
        ([make("MLG002", "y", Location("b.yaml"))], 2, "0 errors and 1 warning in 2 files"),
    ],
)
def test_text_summary(diagnostics: list[Diagnostic], files: int, summary: str) -> None:
    out = render(Report(diagnostics, {}, "", files), "text")
    assert out.endswith(summary + "\n")


def test_text_severity_words() -> None:
    out = render(sample_report(), "text")
    assert "mlgitops.yaml:1:1: warning[MLG002]: no model files match" in out


# --- json -----------------------------------------------------------------------------------


def test_json_document() -> None:
    document = json.loads(render(sample_report("p/"), "json"))
    assert document == {
        "version": 1,
        "ok": False,
        "summary": {"errors": 2, "warnings": 1, "files": 2},
        "diagnostics": [
            {
                "code": "MLG201",
                "severity": "error",
                "title": "unknown field",
                "message": "unknown field 'colour' in metadata",
                "file": f"p/{MODEL}",
                "line": 5,
                "column": 3,
                "hint": "allowed fields here: description, labels, name, owner",
            },
            {
                "code": "MLG204",
                "severity": "error",
                "title": "value not allowed",
                "message": "spec.serving.runtime: 'sklearnn' is not allowed",
                "file": f"p/{MODEL}",
                "line": 8,
                "column": 14,
                "hint": "did you mean 'sklearn'?",
            },
            {
                "code": "MLG002",
                "severity": "warning",
                "title": "no model files matched",
                "message": "no model files match models/**/*.yaml",
                "file": "p/mlgitops.yaml",
                "line": 1,
                "column": 1,
            },
        ],
    }


def test_json_is_stable_and_keeps_the_order() -> None:
    first = render(sample_report(), "json")
    assert render(sample_report(), "json") == first
    keys = list(json.loads(first))
    assert keys == ["version", "ok", "summary", "diagnostics"]
    assert first.endswith("}\n")
    assert list(json.loads(first)["diagnostics"][0]) == [
        "code",
        "severity",
        "title",
        "message",
        "file",
        "line",
        "column",
        "hint",
    ]


def test_json_clean_and_without_location() -> None:
    assert json.loads(render(empty_report(3), "json")) == {
        "version": 1,
        "ok": True,
        "summary": {"errors": 0, "warnings": 0, "files": 3},
        "diagnostics": [],
    }
    item = json.loads(render(Report([make("MLG001", "nothing here")], {}), "json"))["diagnostics"][0]
    assert item == {
        "code": "MLG001",
        "severity": "error",
        "title": "project file not found",
        "message": "nothing here",
    }


def test_json_warnings_only_is_ok() -> None:
    document = json.loads(render(Report([make("MLG002", "none")], {}), "json"))
    assert document["ok"] is True
    assert document["summary"]["warnings"] == 1


def test_json_keeps_unicode() -> None:
    out = render(Report([make("MLG206", "naïve “quotes” ✓", Location("ü.yaml"))], {}), "json")
    assert "naïve “quotes” ✓" in out
    assert json.loads(out)["diagnostics"][0]["file"] == "ü.yaml"


# --- github ---------------------------------------------------------------------------------


def test_github_annotations() -> None:
    lines = render(sample_report(), "github").splitlines()
    assert lines[0] == (
        f"::error file={MODEL},line=5,col=3,title=MLG201 unknown field::"
        "unknown field 'colour' in metadata%0Ahint: allowed fields here: description, labels, name, owner"
    )
    assert lines[1].startswith(f"::error file={MODEL},line=8,col=14,title=MLG204 value not allowed::")
    assert lines[2].startswith(
        "::warning file=mlgitops.yaml,line=1,col=1,title=MLG002 no model files matched::"
    )
    assert lines[3] == "2 errors and 1 warning in 2 files"
    assert len(lines) == 4


def test_github_escaping() -> None:
    diagnostic = Diagnostic(
        code="MLG401",
        severity=Severity.ERROR,
        message="100% sure:\r\nline two, with: colons",
        location=Location("dir,with:odd%name.yaml", 7, 9),
        hint="use 50%",
    )
    line = render(Report([diagnostic], {}, "pre/"), "github").splitlines()[0]
    assert line == (
        "::error file=pre/dir%2Cwith%3Aodd%25name.yaml,line=7,col=9,"
        "title=MLG401 policy%3A evaluation gate required::"
        "100%25 sure:%0D%0Aline two, with: colons%0Ahint: use 50%25"
    )
    # Exactly one unescaped "::" separates the properties from the message.
    body = line.removeprefix("::error ")
    assert body.count("::") == 1
    properties = body.split("::")[0].split(",")
    assert [p.split("=")[0] for p in properties] == ["file", "line", "col", "title"]


@pytest.mark.parametrize(
    ("raw", "data", "prop"),
    [
        ("plain", "plain", "plain"),
        ("%", "%25", "%25"),
        ("\n", "%0A", "%0A"),
        ("\r", "%0D", "%0D"),
        (":", ":", "%3A"),
        (",", ",", "%2C"),
        ("%0A", "%250A", "%250A"),
        ("a:b,c%d\ne", "a:b,c%25d%0Ae", "a%3Ab%2Cc%25d%0Ae"),
    ],
)
def test_github_escape_functions(raw: str, data: str, prop: str) -> None:
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_github_severities_and_missing_location() -> None:
    diagnostics = [
        make("MLG001", "no project"),
        make("MLG318", "sunset passed", Location("m.yaml", 2, 1)),
        make("MLG206", "just a note", Location("m.yaml", 3, 1), severity=Severity.NOTE),
    ]
    lines = render(Report(diagnostics, {}), "github").splitlines()
    assert lines[0] == "::error title=MLG001 project file not found::no project"
    assert lines[1].startswith("::warning file=m.yaml,line=2,col=1,")
    assert lines[2].startswith("::notice file=m.yaml,line=3,col=1,")


def test_github_clean_run_prints_only_the_summary() -> None:
    assert render(empty_report(), "github") == "ok: 2 files valid\n"


# --- sarif ----------------------------------------------------------------------------------


@pytest.mark.external
def test_sarif_validates_against_the_schema(sarif_validator: Any) -> None:
    log = assert_valid_sarif(sarif_validator, render(sample_report("p/"), "sarif"))
    assert log["version"] == "2.1.0"
    (run,) = log["runs"]
    assert run["tool"]["driver"]["name"] == "mlgitops"
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["MLG002", "MLG201", "MLG204"]
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["MLG201", "MLG204", "MLG002"]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert [r["level"] for r in results] == ["error", "error", "warning"]
    location = results[1]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == f"p/{MODEL}"
    assert location["region"] == {"startLine": 8, "startColumn": 14}
    assert "did you mean 'sklearn'?" in results[1]["message"]["text"]


@pytest.mark.external
def test_sarif_schema_rejects_a_broken_log(sarif_validator: Any) -> None:
    """The validator really checks: a wrong version or a result without a message is caught."""
    log = json.loads(render(sample_report(), "sarif"))
    assert sarif_validator.is_valid(log)
    log["version"] = "2.0.0"
    assert not sarif_validator.is_valid(log)
    log = json.loads(render(sample_report(), "sarif"))
    del log["runs"][0]["results"][0]["message"]
    assert not sarif_validator.is_valid(log)
    log = json.loads(render(sample_report(), "sarif"))
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert not sarif_validator.is_valid(log)


@pytest.mark.external
def test_sarif_clean_and_locationless(sarif_validator: Any) -> None:
    clean = assert_valid_sarif(sarif_validator, render(empty_report(), "sarif"))
    assert clean["runs"][0]["results"] == []
    log = assert_valid_sarif(sarif_validator, render(Report([make("MLG001", "none")], {}), "sarif"))
    assert "locations" not in log["runs"][0]["results"][0]


@pytest.mark.external
def test_sarif_every_code_makes_a_valid_rule(sarif_validator: Any) -> None:
    diagnostics = [
        make(code, f"message of {code}", Location("a b/ü%.yaml", i + 1, 1)) for i, code in enumerate(CODES)
    ]
    log = assert_valid_sarif(sarif_validator, render(Report(diagnostics, {}), "sarif"))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert len(rules) == len(CODES)
    for rule in rules:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", rule["name"]), rule
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "a%20b/%C3%BC%25.yaml"


# --- end to end through the CLI ---------------------------------------------------------------


@pytest.fixture
def broken_project(tmp_path: Path) -> Path:
    project = tmp_path / "proj"
    shutil.copytree(QUICKSTART, project)
    model = next((project / "models").glob("*.yaml"))
    model.write_text(
        model.read_text(encoding="utf-8").replace("runtime: sklearn\n", "runtime: sklearnn\n"),
        encoding="utf-8",
    )
    return project


FORMAT_PARAMS = [pytest.param(f, marks=pytest.mark.external) if f == "sarif" else f for f in FORMATS]


@pytest.mark.parametrize("fmt", FORMAT_PARAMS)
def test_every_format_through_the_cli(
    cli: CliRunner, broken_project: Path, tmp_path: Path, fmt: str, request: pytest.FixtureRequest
) -> None:
    result = cli("validate", "--format", fmt, "proj", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.stderr == ""
    assert cli("validate", "--format", fmt, "proj", cwd=tmp_path).stdout == result.stdout, (
        "output must be stable"
    )
    if fmt == "json":
        assert json.loads(result.stdout)["diagnostics"][0]["code"] == "MLG380"
    elif fmt == "sarif":
        assert_valid_sarif(request.getfixturevalue("sarif_validator"), result.stdout)
    elif fmt == "github":
        assert re.match(
            r"::error file=proj/models/[\w.-]+\.yaml,line=\d+,col=14,title=MLG380 ", result.stdout
        )
    else:
        assert re.search(r"\^\n  = hint: did you mean 'sklearn'\?", result.stdout)


@pytest.mark.parametrize("fmt", FORMAT_PARAMS)
def test_every_format_on_a_clean_project(cli: CliRunner, fmt: str, request: pytest.FixtureRequest) -> None:
    result = cli("validate", "--format", fmt, str(QUICKSTART))
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert json.loads(result.stdout)["ok"] is True
    elif fmt == "sarif":
        log = assert_valid_sarif(request.getfixturevalue("sarif_validator"), result.stdout)
        assert log["runs"][0]["results"] == []
    else:
        assert result.stdout == "ok: 2 files valid\n"
