"""The command line: exit codes, help, paths as the user sees them, `schema`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner as ClickRunner

from conftest import QUICKSTART, ROOT, SCHEMAS, CliRunner, mlgitops_exe, run_mlgitops
from mlgitops import __version__
from mlgitops.cli import COMMANDS, SHORT_HELP, LazyGroup
from mlgitops.cli import cli as cli_group

MODEL_FILE = "models/iris-classifier.yaml"


def available_commands() -> list[str]:
    """Commands whose module exists in this version (the others are being built)."""
    return [name for name in COMMANDS if LazyGroup._available(name)]


def broken_copy(tmp_path: Path) -> Path:
    """The quickstart with two errors in its model: an unknown field and a misspelt runtime."""
    project = tmp_path / "proj"
    import shutil

    shutil.copytree(QUICKSTART, project)
    model = project / MODEL_FILE
    text = model.read_text(encoding="utf-8")
    assert "  owner: data-science\n" in text and "runtime: sklearn\n" in text
    text = text.replace("  owner: data-science\n", "  owner: data-science\n  colour: red\n", 1)
    text = text.replace("runtime: sklearn\n", "runtime: sklearnn\n", 1)
    model.write_text(text, encoding="utf-8")
    return project


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


# --- exit codes -------------------------------------------------------------------------


def test_clean_project_exits_0(cli: CliRunner) -> None:
    result = cli("validate", "examples/quickstart", cwd=ROOT)
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 2 files valid\n"
    assert result.stderr == ""


def test_validate_accepts_the_project_file_itself(cli: CliRunner) -> None:
    result = cli("validate", "examples/quickstart/mlgitops.yaml", cwd=ROOT)
    assert result.exit_code == 0, result.output
    assert "ok: 2 files valid" in result.stdout


def test_validate_defaults_to_the_current_directory(cli: CliRunner) -> None:
    result = cli("validate", cwd=QUICKSTART)
    assert result.exit_code == 0, result.output


def test_user_errors_exit_1_and_all_are_reported(cli: CliRunner, tmp_path: Path) -> None:
    project = broken_copy(tmp_path)
    result = cli("validate", "proj", cwd=tmp_path)
    assert result.exit_code == 1
    assert "error[MLG201]" in result.stdout
    assert "error[MLG380]" in result.stdout  # a runtime neither built in nor declared
    assert "did you mean 'sklearn'?" in result.stdout
    assert result.stdout.rstrip().endswith("2 errors in 2 files")
    assert project.is_dir()


def test_missing_path_is_a_located_user_error(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("validate", tmp_path / "nowhere", cwd=tmp_path)
    assert result.exit_code == 1
    assert "error[MLG001]" in result.stdout
    assert "mlgitops.yaml" in result.stdout
    assert "Traceback" not in result.output


def test_missing_path_in_json(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("validate", "--format", "json", tmp_path / "nowhere")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["ok"] is False
    assert [d["code"] for d in document["diagnostics"]] == ["MLG001"]


def test_warnings_pass_unless_strict(cli: CliRunner, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(QUICKSTART, tmp_path / "empty", ignore=shutil.ignore_patterns("models"))
    relaxed = cli("validate", "empty", cwd=tmp_path)
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning[MLG002]" in relaxed.stdout
    strict = cli("validate", "--strict", "empty", cwd=tmp_path)
    assert strict.exit_code == 1
    assert "warning[MLG002]" in strict.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--nope"],
        ["validate", "--format", "xml", "examples/quickstart"],
        ["validate", "--format"],
        ["compile", "a", "b"],  # validate takes several paths (files), compile one project
        ["frobnicate"],
        ["schema", "--kind", "nope"],
        ["--no-such-global-option"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2(cli: CliRunner, args: list[str]) -> None:
    result = cli(*args, cwd=ROOT)
    assert result.exit_code == 2, result.output
    assert "Error:" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_bad_format_lists_the_choices(cli: CliRunner) -> None:
    result = cli("validate", "--format", "xml", cwd=ROOT)
    assert result.exit_code == 2
    for fmt in ("text", "json", "github", "sarif"):
        assert fmt in result.stderr


def _explode(*args: object, **kwargs: object) -> object:
    raise RuntimeError("boom in the pipeline")


def test_internal_error_exits_3_without_traceback(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLGITOPS_DEBUG", raising=False)
    monkeypatch.setattr("mlgitops.pipeline.validate_project", _explode)
    result = cli("validate", "examples/quickstart", cwd=ROOT)
    assert result.exit_code == 3
    assert "internal error" in result.stderr
    assert "RuntimeError: boom in the pipeline" in result.stderr
    assert "please report" in result.stderr
    assert "--debug" in result.stderr
    assert "Traceback" not in result.output


def test_internal_error_with_debug_shows_the_traceback(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("mlgitops.pipeline.validate_project", _explode)
    result = cli("--debug", "validate", "examples/quickstart", cwd=ROOT)
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr
    assert "_explode" in result.stderr
    assert "internal error" in result.stderr


def test_internal_error_debug_by_environment(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLGITOPS_DEBUG", "1")
    monkeypatch.setattr("mlgitops.pipeline.validate_project", _explode)
    result = cli("validate", "examples/quickstart", cwd=ROOT)
    assert result.exit_code == 3
    assert "Traceback (most recent call last)" in result.stderr


def test_internal_error_in_a_reporter_exits_3(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLGITOPS_DEBUG", raising=False)
    monkeypatch.setattr("mlgitops.reporters.render", _explode)
    result = cli("validate", "examples/quickstart", cwd=ROOT)
    assert result.exit_code == 3
    assert "internal error" in result.stderr
    assert "Traceback" not in result.output


def test_main_exits_with_the_code_after_flushing_output() -> None:
    """main() ends the process itself (skipping teardown), so run it in a child process."""
    program = "import sys; from mlgitops.cli import main; main(sys.argv[1:])"
    ok = subprocess.run(
        [sys.executable, "-c", program, "validate", "--format", "json", "examples/quickstart"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True  # the whole report arrived before the exit
    bad = subprocess.run(
        [sys.executable, "-c", program, "validate", "--nope"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert "--nope" in bad.stderr


# --- help and version ------------------------------------------------------------------


def test_top_level_help_lists_every_available_command(cli: CliRunner) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: mlgitops [OPTIONS] COMMAND [ARGS]...")
    assert "Exit codes: 0 success, 1 problems found in your input, 2 bad command line" in result.stdout
    for name in available_commands():
        assert re.search(rf"^  {name}\s+{re.escape(SHORT_HELP[name])}$", result.stdout, re.MULTILINE), name
    assert "--version" in result.stdout
    assert "--debug" in result.stdout
    assert cli("-h").stdout == result.stdout


def test_commands_that_are_not_built_are_not_offered(cli: CliRunner) -> None:
    for name in set(COMMANDS) - set(available_commands()):
        assert not re.search(rf"^  {name}\s", cli("--help").stdout, re.MULTILINE)
        assert cli(name).exit_code == 2


def test_validate_and_schema_are_available() -> None:
    assert {"validate", "schema"} <= set(available_commands())


@pytest.mark.parametrize("name", available_commands())
def test_command_help_lists_and_explains_every_option(cli: CliRunner, name: str) -> None:
    result = cli(name, "--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Usage: mlgitops {name} ")
    command = cli_group.get_command(click.Context(cli_group), name)
    assert command is not None
    # A paragraph of explanation, not just the usage line.
    assert command.help and len(command.help.split()) >= 8, f"{name} needs a real help text"
    for param in command.params:
        if isinstance(param, click.Option):
            for opt in param.opts:
                assert opt in result.stdout, f"{name} --help does not list {opt}"
            assert param.help, f"{name} {param.opts[0]} has no help text"
            assert " ".join(param.help.split()[:3]) in " ".join(result.stdout.split())
    assert "-h, --help" in result.stdout


def test_validate_help_mentions_formats_and_exit_codes(cli: CliRunner) -> None:
    text = " ".join(cli("validate", "--help").stdout.split())
    assert "--format [text|json|github|sarif]" in text
    assert "--strict" in text
    assert "Exits 0 when there are no errors, 1 when there are." in text
    assert "[default: text]" in text


def test_version(cli: CliRunner) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"mlgitops, version {__version__}\n"


def test_clickrunner_sees_the_same_group() -> None:
    result = ClickRunner().invoke(cli_group, ["validate", "--help"])
    assert result.exit_code == 0
    assert "--format" in result.output


# --- the real console script and `python -m mlgitops` ------------------------------------


def test_console_script_version_and_exit_codes(tmp_path: Path) -> None:
    version = run_mlgitops(["--version"])
    assert version.returncode == 0
    assert version.stdout.strip() == f"mlgitops, version {__version__}"
    assert run_mlgitops(["validate", str(QUICKSTART)], cwd=tmp_path).returncode == 0
    assert run_mlgitops(["validate", "--format", "bogus"]).returncode == 2
    missing = run_mlgitops(["validate", str(tmp_path / "nowhere")])
    assert missing.returncode == 1
    assert "MLG001" in missing.stdout


def test_python_dash_m(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MLGITOPS_")}
    run = subprocess.run(
        [sys.executable, "-m", "mlgitops", "--version"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"mlgitops, version {__version__}"
    validate = subprocess.run(
        [sys.executable, "-m", "mlgitops", "validate", str(QUICKSTART)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr


def test_help_imports_no_heavy_module() -> None:
    """`mlgitops --help` must start fast: the core (pydantic, yaml, jinja2) loads lazily."""
    code = (
        "import sys, io, contextlib\n"
        "from mlgitops.cli import run\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert run(['--help']) == 0\n"
        "heavy = ('pydantic', 'yaml', 'jinja2', 'jsonschema', 'ruamel')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_output_into_a_closed_pipe_is_not_an_error(tmp_path: Path) -> None:
    """`mlgitops schema | head -n 1` must end quietly, without a traceback."""
    import fcntl

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)  # smaller than the schema: the write must fail
    with subprocess.Popen(
        [mlgitops_exe(), "schema"], stdout=write_end, stderr=subprocess.PIPE, cwd=tmp_path
    ) as proc:
        os.close(write_end)
        assert os.read(read_end, 10)
        os.close(read_end)
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert err == ""
    assert code == 0


# --- paths are shown relative to where mlgitops runs ---------------------------------------


def _printed_locations(text: str) -> list[tuple[str, int, int]]:
    return [
        (m[1], int(m[2]), int(m[3]))
        for m in re.finditer(r"^(\S+?):(\d+):(\d+): (?:error|warning|note)\[", text, re.MULTILINE)
    ]


def test_paths_relative_to_the_parent_directory(cli: CliRunner, tmp_path: Path) -> None:
    project = broken_copy(tmp_path)
    result = cli("validate", "proj", cwd=tmp_path)
    assert _printed_locations(result.stdout) == [
        (f"proj/{MODEL_FILE}", line_of(project / MODEL_FILE, "colour: red"), 3),
        (f"proj/{MODEL_FILE}", line_of(project / MODEL_FILE, "sklearnn"), 14),
    ]


def test_paths_relative_inside_the_project(cli: CliRunner, tmp_path: Path) -> None:
    project = broken_copy(tmp_path)
    for args in (["validate"], ["validate", "."], ["validate", "mlgitops.yaml"], ["validate", str(project)]):
        result = cli(*args, cwd=project)
        files = {file for file, _, _ in _printed_locations(result.stdout)}
        assert files == {MODEL_FILE}, (args, result.stdout)


def test_paths_relative_in_a_subdirectory(cli: CliRunner, tmp_path: Path) -> None:
    project = broken_copy(tmp_path)
    result = cli("validate", "..", cwd=project / "models")
    files = {file for file, _, _ in _printed_locations(result.stdout)}
    assert files == {f"../{MODEL_FILE}"}


@pytest.mark.parametrize("fmt", ["json", "github", "sarif"])
def test_machine_formats_use_the_same_relative_paths(cli: CliRunner, tmp_path: Path, fmt: str) -> None:
    broken_copy(tmp_path)
    result = cli("validate", "--format", fmt, "proj", cwd=tmp_path)
    assert result.exit_code == 1
    assert f"proj/{MODEL_FILE}" in result.stdout
    assert str(tmp_path) not in result.stdout


def test_printed_paths_resolve_to_the_files_from_any_cwd(cli: CliRunner, tmp_path: Path) -> None:
    project = broken_copy(tmp_path)
    for cwd in (ROOT, tmp_path, project, project / "models"):
        result = cli("validate", str(project), cwd=cwd)
        locations = _printed_locations(result.stdout)
        assert locations, result.stdout
        for file, _, _ in locations:
            assert (cwd / file).resolve() == (project / MODEL_FILE).resolve(), (cwd, file)


def test_path_prefix_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlgitops.cli.options import path_prefix

    monkeypatch.chdir(ROOT)
    assert path_prefix(QUICKSTART.resolve()) == "examples/quickstart/"
    assert path_prefix(ROOT) == ""
    monkeypatch.chdir(QUICKSTART)
    assert path_prefix(QUICKSTART.resolve()) == ""
    monkeypatch.chdir(QUICKSTART / "models")
    assert path_prefix(QUICKSTART.resolve()) == "../"
    assert path_prefix(None) == ""


def test_repository_root_run_on_the_quickstart(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    """From the repository root, a problem in the quickstart is shown as examples/quickstart/…."""
    from mlgitops import pipeline
    from mlgitops.diagnostics import Location, make
    from mlgitops.results import ValidationResult

    real = pipeline.validate_project

    def with_a_warning(path: Path, **kwargs: object) -> ValidationResult:
        result = real(path)
        extra = make("MLG318", "pretend sunset", Location(MODEL_FILE, 3, 1))
        return ValidationResult([extra], result.sources, result.resolved, result.root)

    monkeypatch.setattr("mlgitops.pipeline.validate_project", with_a_warning)
    result = cli("validate", "examples/quickstart", cwd=ROOT)
    assert _printed_locations(result.stdout) == [(f"examples/quickstart/{MODEL_FILE}", 3, 1)]
    assert "3 | kind: Model" in result.stdout


# --- schema ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "committed"),
    [
        ([], "mlgitops.v1.json"),
        (["--kind", "all"], "mlgitops.v1.json"),
        (["--kind", "model"], "model.v1.json"),
        (["--kind", "project"], "project.v1.json"),
    ],
)
def test_schema_prints_the_committed_schema(cli: CliRunner, args: list[str], committed: str) -> None:
    result = cli("schema", *args)
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    on_disk = (SCHEMAS / committed).read_text(encoding="utf-8")
    assert printed == json.loads(on_disk)
    assert result.stdout == on_disk, "schemas/ is stale: run `make docs`"


def test_schema_is_a_valid_draft_2020_12_schema(cli: CliRunner) -> None:
    from jsonschema import Draft202012Validator

    for args in ([], ["--kind", "model"], ["--kind", "project"]):
        schema = json.loads(cli("schema", *args).stdout)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)


def _example_documents() -> list[Path]:
    """Every spec file of every example (generated output under the examples is not a spec).

    Left out: examples/reference/, whose specs write explicit `null`s (platform defaults, which
    `validate` accepts) that the editor schema still refuses (`protocol: null`,
    `resources: null`): a known mismatch to fix in the schema generator, not hidden by editing
    the references. tests/test_reference_configs.py validates and compiles those projects."""
    reference = ROOT / "examples" / "reference"
    return sorted(
        p
        for p in (ROOT / "examples").rglob("*.yaml")
        if reference not in p.parents
        and re.search(r"^apiVersion: mlgitops/v1$", p.read_text(encoding="utf-8"), re.MULTILINE)
    )


@pytest.mark.parametrize("path", _example_documents(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_examples_validate_against_the_editor_schema(path: Path) -> None:
    """What editors check with the modeline agrees with `mlgitops validate` on every example."""
    from jsonschema import Draft202012Validator

    from mlgitops.load import load_document

    doc, problems = load_document(path, path.name)
    assert doc is not None, problems
    schema = json.loads((SCHEMAS / "mlgitops.v1.json").read_text(encoding="utf-8"))
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(doc.data)
    ]
    assert errors == []
    first_line = doc.text.splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first_line)
    assert match, f"{path} lacks the schema modeline on its first line"
    assert (path.parent / match[1]).resolve().is_file(), f"modeline of {path} points at a missing file"


def test_readme_spec_excerpt_validates(cli: CliRunner, tmp_path: Path) -> None:
    """The spec shown in README.md is a valid project, file for file."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n# (mlgitops\.yaml|models/[\w.-]+\.yaml)\n(.*?)```", readme, re.DOTALL)
    assert [name for name, _ in blocks] == ["mlgitops.yaml", "models/iris-classifier.yaml"]
    for name, text in blocks:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = cli("validate", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout == "ok: 2 files valid\n"
