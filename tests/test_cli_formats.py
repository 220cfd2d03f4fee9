"""Every report format of validate, compile and check; --quiet; colour on a terminal only.

The colour tests run the real module under a pseudo-terminal (``pty``), as a person's
shell would, and through a pipe, as CI would.
"""

from __future__ import annotations

import difflib
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compile_helpers import copy_specs, example, minimal_project
from conftest import ROOT, CliRunner, assert_valid_sarif
from mlgitops.pipeline import compile_project
from mlgitops.reporters.compile_report import first_changed_line

ISVC = "deploy/dev/iris-classifier/inferenceservice.yaml"

CASES = ROOT / "tests" / "cases" / "invalid"
# The codes the text reporter puts around text it generates (reporters/text.py)
OUR_SGR = ("\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[2m", "\x1b[0m")


@pytest.fixture
def synced(tmp_path: Path) -> Path:
    """The quickstart's specs, compiled, outside any git repository."""
    root = copy_specs(example("quickstart"), tmp_path / "quickstart")
    assert compile_project(root).ok
    return root


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """The quickstart with one error (MLG380, runtime misspelt: neither built in nor declared)."""
    root = copy_specs(example("quickstart"), tmp_path / "broken")
    model = next((root / "models").glob("*.yaml"))
    text = model.read_text(encoding="utf-8")
    assert "runtime: sklearn\n" in text
    model.write_text(text.replace("runtime: sklearn\n", "runtime: sklearnn\n"), encoding="utf-8")
    return root


@pytest.fixture
def warned(tmp_path: Path) -> Path:
    """A project with one warning (MLG318, past its sunset) and no error."""
    root = tmp_path / "warned"
    shutil.copytree(CASES / "deprecated-past-sunset", root)
    (root / "expected.txt").unlink()
    return root


def _edit_isvc(root: Path) -> int:
    """Hand-edit the generated InferenceService; the line number of the edit."""
    target = root / ISVC
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.strip() == "minReplicas: 1")
    lines[index] = lines[index].replace("minReplicas: 1", "minReplicas: 7")
    target.write_text("".join(lines), encoding="utf-8")
    return index + 1


# --- check: sarif, json, github -----------------------------------------------------------------


@pytest.mark.external
def test_check_sarif_in_sync_is_an_empty_valid_log(
    synced: Path, cli: CliRunner, sarif_validator: Any
) -> None:
    result = cli("check", "--format", "sarif", ".", cwd=synced)
    assert result.exit_code == 0, result.output
    log = assert_valid_sarif(sarif_validator, result.stdout)
    assert log["runs"][0]["results"] == []


@pytest.mark.external
def test_check_sarif_points_at_the_first_changed_line(
    synced: Path, cli: CliRunner, sarif_validator: Any
) -> None:
    line = _edit_isvc(synced)
    (synced / "deploy/prod/kustomization.yaml").unlink()
    result = cli("check", "--format", "sarif", ".", cwd=synced)
    assert result.exit_code == 1
    assert result.stderr == ""
    log = assert_valid_sarif(sarif_validator, result.stdout)
    (run,) = log["runs"]
    rules = run["tool"]["driver"]["rules"]
    found = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: (
            r["ruleId"],
            rules[r["ruleIndex"]]["id"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
        )
        for r in run["results"]
    }
    assert found == {
        ISVC: ("check/changed", "check/changed", line),
        "deploy/prod/kustomization.yaml": ("check/missing", "check/missing", 1),
    }


@pytest.mark.external
def test_check_sarif_of_an_invalid_project_reports_the_diagnostics(
    broken: Path, cli: CliRunner, sarif_validator: Any
) -> None:
    result = cli("check", "--format", "sarif", ".", cwd=broken)
    assert result.exit_code == 1
    log = assert_valid_sarif(sarif_validator, result.stdout)
    assert [r["ruleId"] for r in log["runs"][0]["results"]] == ["MLG380"]


def test_check_json_and_github_carry_the_changed_line(synced: Path, cli: CliRunner) -> None:
    line = _edit_isvc(synced)
    (synced / "deploy/prod/kustomization.yaml").unlink()
    as_json = cli("check", "--format", "json", ".", cwd=synced)
    assert as_json.exit_code == 1
    drift = {d["file"]: (d["status"], d["line"]) for d in json.loads(as_json.stdout)["drift"]}
    assert drift == {ISVC: ("changed", line), "deploy/prod/kustomization.yaml": ("missing", 1)}

    github = cli("check", "--format", "github", ".", cwd=synced)
    assert github.exit_code == 1
    annotations = re.findall(r"^::error file=([^,]+),line=(\d+),title=mlgitops check::", github.stdout, re.M)
    assert sorted(annotations) == sorted([(ISVC, str(line)), ("deploy/prod/kustomization.yaml", "1")])


def _unified(before: str, after: str) -> str:
    """A diff as ``check`` makes them (emit/drift.py), with git's "no newline" marker."""
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), "a/f", "b/f")
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


@pytest.mark.parametrize(
    ("before", "after", "line"),
    [
        ("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\n", 5),  # a changed line
        ("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\ne\nf\ng\nh\ni\n", 9),  # a line added at the end
        ("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nf\ng\nh\n", 5),  # a deleted line: what follows it
        ("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "1\n2\nX\n4\n5\n6\n7\n8\n9\n10\n11\nY\n", 3),  # 2 hunks
        ("", "a\nb\n", 1),  # missing on disk
        ("a\nb\n", "", 1),  # stale: no longer generated
        ("a\nb", "a\nb\n", 2),  # only the final newline
    ],
)
def test_first_changed_line(before: str, after: str, line: int) -> None:
    assert first_changed_line(_unified(before, after)) == line


def test_first_changed_line_without_a_diff_is_line_one() -> None:
    assert first_changed_line("") == 1


# --- compile: json summary, sarif --------------------------------------------------------------


def test_compile_json_summarises_a_successful_compile(tmp_path: Path, cli: CliRunner) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "fresh")
    first = cli("compile", "--format", "json", ".", cwd=root)
    assert first.exit_code == 0, first.output
    document = json.loads(first.stdout)
    summary = document["compile"]
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert summary["files"] == len(summary["written_files"]) > 0
    assert set(summary["written_files"]) <= set(on_disk)
    assert ISVC in summary["written_files"]
    assert (summary["written"], summary["pruned"], summary["unchanged"]) == (summary["files"], 0, 0)
    assert (summary["up_to_date"], summary["recovered"], summary["warnings"]) == (False, False, 1)
    # Said once, when written: promotion pull requests opened with github.token (a note), and CI
    # not knowing which mlgitops to install (a warning: no spec.ci.mlgitops).
    assert document["ok"] is True and [d["code"] for d in document["diagnostics"]] == ["MLG351", "MLG352"]

    again = json.loads(cli("compile", "--format", "json", ".", cwd=root).stdout)["compile"]
    assert again["up_to_date"] is True
    assert (again["written"], again["written_files"]) == (0, [])

    (root / ISVC).unlink()
    repaired = json.loads(cli("compile", "--format", "json", "--no-cache", ".", cwd=root).stdout)["compile"]
    assert repaired["written_files"] == [ISVC]
    assert (repaired["written"], repaired["unchanged"]) == (1, repaired["files"] - 1)


def test_compile_json_counts_warnings(warned: Path, cli: CliRunner) -> None:
    result = cli("compile", "--format", "json", ".", cwd=warned)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["compile"]["warnings"] == 2
    assert [d["code"] for d in document["diagnostics"]] == ["MLG351", "MLG352", "MLG318"]


def test_compile_json_failure_is_the_diagnostics_document(broken: Path, cli: CliRunner) -> None:
    result = cli("compile", "--format", "json", ".", cwd=broken)
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False and "compile" not in document
    assert [d["code"] for d in document["diagnostics"]] == ["MLG380"]
    assert "nothing was written" in result.stderr
    assert not (broken / "deploy").exists()


def test_compile_text_summary_is_unchanged(tmp_path: Path, cli: CliRunner) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "fresh")
    result = cli("compile", ".", cwd=root)
    assert result.exit_code == 0
    assert re.search(
        r"^compiled (\d+) files: \1 written, 0 pruned, 0 unchanged \(ownership", result.stdout, re.M
    )


@pytest.mark.external
def test_compile_sarif_is_a_log_even_when_clean(tmp_path: Path, cli: CliRunner, sarif_validator: Any) -> None:
    root = copy_specs(example("quickstart"), tmp_path / "fresh")
    result = cli("compile", "--format", "sarif", ".", cwd=root)
    assert result.exit_code == 0
    results = assert_valid_sarif(sarif_validator, result.stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["MLG351", "MLG352"]  # said once


# --- quiet ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["-q", "--quiet"])
def test_quiet_validate_hides_warnings_and_the_summary(warned: Path, cli: CliRunner, flag: str) -> None:
    loud = cli("validate", ".", cwd=warned)
    assert loud.exit_code == 0 and "MLG318" in loud.stdout and "1 warning" in loud.stdout
    quiet = cli("validate", flag, ".", cwd=warned)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert cli("validate", flag, "--format", "github", ".", cwd=warned).stdout == ""
    as_json = json.loads(cli("validate", flag, "--format", "json", ".", cwd=warned).stdout)
    assert as_json["diagnostics"] == []


def test_quiet_strict_shows_the_warnings_that_fail(warned: Path, cli: CliRunner) -> None:
    result = cli("validate", "-q", "--strict", ".", cwd=warned)
    assert result.exit_code == 1
    assert "warning[MLG318]" in result.stdout
    assert "in 2 files" not in result.stdout


def test_quiet_validate_prints_errors_only(broken: Path, cli: CliRunner) -> None:
    loud = cli("validate", ".", cwd=broken)
    quiet = cli("validate", "-q", ".", cwd=broken)
    assert quiet.exit_code == loud.exit_code == 1
    assert loud.stdout.endswith("\n1 error in 2 files\n")
    assert quiet.stdout == loud.stdout.removesuffix("\n1 error in 2 files\n")
    assert "error[MLG380]" in quiet.stdout


def test_quiet_compile_prints_nothing_on_success(warned: Path, cli: CliRunner) -> None:
    result = cli("compile", "-q", ".", cwd=warned)
    assert (result.exit_code, result.stdout) == (0, "")
    assert (warned / ".mlgitops/manifest.json").is_file(), "quiet still compiles"


def test_quiet_compile_prints_the_errors(broken: Path, cli: CliRunner) -> None:
    result = cli("compile", "-q", ".", cwd=broken)
    assert result.exit_code == 1
    assert "error[MLG380]" in result.stdout and "1 error in" not in result.stdout


def test_quiet_check(synced: Path, cli: CliRunner) -> None:
    in_sync = cli("check", "-q", ".", cwd=synced)
    assert (in_sync.exit_code, in_sync.stdout) == (0, "")
    _edit_isvc(synced)
    drifting = cli("check", "--quiet", ".", cwd=synced)
    assert drifting.exit_code == 1
    assert drifting.stdout == f"{ISVC}: differs from what mlgitops generates " + (
        "(edited by hand, or specs changed without a compile)\n"
    )


# --- colour --------------------------------------------------------------------------------------


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("MLGITOPS_") and k not in ("NO_COLOR", "FORCE_COLOR")
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return {**env, **extra}


def _in_terminal(args: list[str], cwd: Path, **extra: str) -> tuple[int, bytes]:
    """Run ``python -m mlgitops ARGS`` with stdout and stderr on a pseudo-terminal."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mlgitops", *args],
            cwd=cwd,
            env=_env(TERM="xterm", **extra),
            stdin=subprocess.DEVNULL,
            stdout=terminal,
            stderr=terminal,
        )
        os.close(terminal)
        output = bytearray()
        while True:
            ready, _, _ = select.select([controller], [], [], 60)
            if not ready:
                process.kill()
                pytest.fail(f"no output for 60 s; so far: {bytes(output)!r}")
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        return process.wait(timeout=60), bytes(output)
    finally:
        os.close(controller)


def _piped(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mlgitops", *args],
        cwd=cwd,
        env=_env(**extra),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=120,
    )


def test_a_terminal_gets_colour(broken: Path) -> None:
    code, output = _in_terminal(["validate", "."], broken)
    assert code == 1
    text = output.decode("utf-8")
    assert re.search(r"\x1b\[1mmodels/[\w.-]+\.yaml:\d+:\d+:\x1b\[0m \x1b\[1;31merror\x1b\[0m", text), text
    assert "\x1b[1m[MLG380]\x1b[0m" in text
    assert "\x1b[1;31m1 error\x1b[0m in 2 files" in text


def test_a_terminal_gets_warnings_in_yellow(warned: Path) -> None:
    code, output = _in_terminal(["validate", "."], warned)
    assert code == 0
    assert b"\x1b[1;33mwarning\x1b[0m\x1b[1m[MLG318]" in output


def test_a_pipe_gets_no_colour(broken: Path) -> None:
    result = _piped(["validate", "."], broken)
    assert result.returncode == 1
    assert b"error[MLG380]" in result.stdout
    assert b"\x1b" not in result.stdout + result.stderr


def test_no_color_turns_colour_off_on_a_terminal(broken: Path) -> None:
    code, output = _in_terminal(["validate", "."], broken, NO_COLOR="1")
    assert code == 1
    assert b"error[MLG380]" in output
    assert b"\x1b" not in output


def test_no_color_wins_over_force_color(broken: Path) -> None:
    result = _piped(["validate", "."], broken, NO_COLOR="yes", FORCE_COLOR="1")
    assert b"error[MLG380]" in result.stdout and b"\x1b" not in result.stdout


def test_force_color_colours_a_pipe(broken: Path) -> None:
    result = _piped(["validate", "."], broken, FORCE_COLOR="1")
    assert result.returncode == 1
    assert b"\x1b[1;31merror\x1b[0m\x1b[1m[MLG380]\x1b[0m" in result.stdout


def test_an_empty_no_color_does_not_count(broken: Path) -> None:
    code, output = _in_terminal(["validate", "."], broken, NO_COLOR="")
    assert code == 1 and b"\x1b[1;31merror" in output


HOSTILE = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: iris
  owner: "data\\e[2J\\a-science"
spec:
  serving:
    runtime: "sk\\e[31mlearn\\e[0m"
    artifact: "s3://models/{model}/{version}/"
  deployments:
    dev:
      version: "1.0.0"
"""


@pytest.mark.parametrize("command", ["validate", "check", "compile"])
def test_colour_never_lets_the_spec_drive_the_terminal(tmp_path: Path, command: str) -> None:
    """With colour forced, the only escape sequences are ours, around our own text; the
    spec's are spelt out (and its ESC [0m is not mistaken for ours)."""
    root = minimal_project(tmp_path / "hostile", HOSTILE)
    result = _piped([command, "."], root, FORCE_COLOR="1")
    assert result.returncode == 1
    output = result.stdout.decode("utf-8") + result.stderr.decode("utf-8")
    assert "\x1b[1;31merror\x1b[0m" in output
    assert "'sk\\x1b[31mlearn\\x1b[0m'" in output
    for ours in OUR_SGR:
        output = output.replace(ours, "")
    assert "\x1b" not in output and "\x07" not in output, output


def test_check_drift_keeps_colour_and_escapes_under_force_color(synced: Path) -> None:
    _edit_isvc(synced)
    result = _piped(["check", "."], synced, FORCE_COLOR="1")
    assert result.returncode == 1
    assert b"-    minReplicas: 7" in result.stdout
    assert b"\x1b" not in result.stdout, "drift alone has no colour and must not show escaped codes either"
    assert b"\\x1b" not in result.stdout


def test_only_painted_text_is_written_raw(capsys: pytest.CaptureFixture[str]) -> None:
    """A reporter's Painted text goes out as it is; anything concatenated from it is a plain
    str again and is escaped whole, so a slip shows codes instead of running them."""
    from mlgitops.cli.output import echo
    from mlgitops.reporters import Painted

    painted = Painted("\x1b[1;31merror\x1b[0m")
    echo(painted, nl=False)
    assert capsys.readouterr().out == "\x1b[1;31merror\x1b[0m"
    echo(painted + " and more", nl=False)
    assert capsys.readouterr().out == "\\x1b[1;31merror\\x1b[0m and more"
