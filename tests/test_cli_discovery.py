"""Finding the project as git finds its repository, and naming it one way for every command."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from compile_helpers import GIT_ENV
from conftest import QUICKSTART, ROOT, VENV_BIN, CliRunner, run_mlgitops

HOOKS = ROOT / ".pre-commit-hooks.yaml"
MODEL = (QUICKSTART / "models" / "iris-classifier.yaml").read_text(encoding="utf-8")


def make_project(where: Path, *, broken: tuple[str, ...] = ()) -> Path:
    """The quickstart's project file with models alpha and beta; each model named in
    ``broken`` has an unknown field (MLG201) on its spec."""
    where.mkdir(parents=True, exist_ok=True)
    shutil.copy(QUICKSTART / "mlgitops.yaml", where / "mlgitops.yaml")
    (where / "models").mkdir()
    for name in ("alpha", "beta"):
        text = MODEL.replace("name: iris-classifier", f"name: {name}")
        if name in broken:
            text = text.replace("spec:\n", "spec:\n  colour: blue\n", 1)
        (where / "models" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return where


def codes_and_files(output: str) -> list[tuple[str, str]]:
    """(code, file) of each diagnostic in the JSON report."""
    document = json.loads(output)
    return [(d["code"], d.get("file", "-")) for d in document["diagnostics"]]


def test_validate_from_a_subdirectory_finds_the_project_above(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo", broken=("beta",))
    result = cli("validate", cwd=project / "models")
    assert result.exit_code == 1
    # paths stay clickable from where mlgitops ran
    assert "../models/beta.yaml:9:3: error[MLG201]" in result.stdout


def test_search_stops_at_the_directory_holding_git(cli: CliRunner, tmp_path: Path) -> None:
    make_project(tmp_path / "outer")  # a project above the repository is someone else's
    inner = tmp_path / "outer" / "inner"
    (inner / ".git").mkdir(parents=True)
    (inner / "src").mkdir()
    result = cli("validate", "--format", "json", cwd=inner / "src")
    assert result.exit_code == 1
    [diagnostic] = json.loads(result.stdout)["diagnostics"]
    assert diagnostic["code"] == "MLG009"
    assert diagnostic["message"] == (
        f"no mlgitops.yaml found from {(inner / 'src').resolve().as_posix()} "
        f"up to {inner.resolve().as_posix()}, the top level of the git repository"
    )
    assert "mlgitops init" in diagnostic["hint"]


def test_a_git_file_is_a_boundary_too(cli: CliRunner, tmp_path: Path) -> None:
    """In a git worktree or submodule, .git is a file."""
    make_project(tmp_path / "outer")
    inner = tmp_path / "outer" / "worktree"
    inner.mkdir()
    (inner / ".git").write_text("gitdir: /elsewhere\n", encoding="utf-8")
    result = cli("validate", cwd=inner)
    assert result.exit_code == 1
    top = inner.resolve().as_posix()
    assert f"error[MLG009]: no mlgitops.yaml found in {top}, the top level" in result.stdout


def test_the_project_in_the_git_top_level_is_found(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo")
    (project / ".git").mkdir()
    assert cli("validate", cwd=project / "models").exit_code == 0


def test_nothing_found_says_where_it_looked(tmp_path: Path) -> None:
    start = tmp_path / "a" / "b"
    start.mkdir(parents=True)
    if any((p / "mlgitops.yaml").exists() or (p / ".git").exists() for p in start.resolve().parents):
        pytest.fail(f"{tmp_path} lies inside a project or a git repository; use another TMPDIR")
    result = run_mlgitops(["validate"], cwd=start)
    assert result.returncode == 1
    assert result.stdout.startswith(
        f"error[MLG009]: no mlgitops.yaml found from {start.resolve().as_posix()} "
        "up to /, the filesystem root\n"
    )
    assert "mlgitops init" in result.stdout


def test_dash_c_runs_as_if_started_there(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo", broken=("alpha",))
    result = cli("validate", "-C", project / "models", "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    assert codes_and_files(result.stdout) == [("MLG201", "repo/models/alpha.yaml")]
    # a file named with -C is relative to DIR, as with git -C
    result = cli("validate", "-C", project, "models/beta.yaml", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert cli("validate", "-C", tmp_path / "missing").exit_code == 2


PROJECT_COMMANDS = {
    "validate": ["validate"],
    "compile": ["compile"],
    "check": ["check"],
    "diff": ["diff", "--base", "HEAD"],
    "explain": ["explain", "alpha"],
    "promote": ["promote", "alpha", "--to", "prod", "--dry-run"],
    "gate": ["gate", "alpha", "--metrics", "metrics.json"],
}


@pytest.mark.parametrize("command", PROJECT_COMMANDS, ids=list(PROJECT_COMMANDS))
def test_every_project_command_takes_project_and_dash_c(cli: CliRunner, tmp_path: Path, command: str) -> None:
    args = PROJECT_COMMANDS[command]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    missing = tmp_path / "nowhere"
    named = cli(*args, "--project", missing, cwd=elsewhere)
    assert named.exit_code == 1, named.output
    shown = named.output.replace("error[MLG001]", "MLG001")  # reports or user errors
    assert f"MLG001: no mlgitops.yaml found at {missing.as_posix()}\n" in shown
    started = cli(*args, "-C", elsewhere, cwd=tmp_path)
    assert started.exit_code == 1, started.output
    assert f"no mlgitops.yaml found from {elsewhere.resolve().as_posix()} up to" in started.output


def test_project_option_and_dash_c_reach_the_project(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo")
    (project / "metrics.json").write_text('{"accuracy": 0.95}', encoding="utf-8")
    assert cli("validate", "--project", project, cwd=tmp_path).exit_code == 0
    assert cli("compile", "-C", project / "models", cwd=tmp_path).exit_code == 0
    assert cli("check", "--project", "repo", cwd=tmp_path).exit_code == 0
    explained = cli("explain", "alpha", "--env", "prod", "--project", project / "mlgitops.yaml", cwd=tmp_path)
    assert explained.exit_code == 0 and "1.2.0" in explained.stdout
    gated = cli("gate", "alpha", "--metrics", "metrics.json", "-C", project, cwd=tmp_path)
    assert gated.exit_code == 0, gated.output
    promoted = cli("promote", "alpha", "--to", "prod", "--dry-run", cwd=project / "models")
    assert promoted.exit_code == 0, promoted.output
    assert "1.3.0" in promoted.stdout


def test_positional_path_stays_an_alias(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo")
    assert cli("validate", "repo", cwd=tmp_path).exit_code == 0
    assert cli("compile", "repo", cwd=tmp_path).exit_code == 0
    assert cli("check", project, cwd=tmp_path).exit_code == 0
    both = cli("check", "repo", "--project", "repo", cwd=tmp_path)
    assert both.exit_code == 2 and "name the project once" in both.output


def test_named_files_report_only_their_diagnostics(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo", broken=("alpha", "beta"))
    result = cli("validate", "models/beta.yaml", "--format", "json", cwd=project)
    assert result.exit_code == 1
    assert codes_and_files(result.stdout) == [("MLG201", "models/beta.yaml")]
    whole = cli("validate", "--format", "json", cwd=project)
    assert codes_and_files(whole.stdout) == [("MLG201", "models/alpha.yaml"), ("MLG201", "models/beta.yaml")]


def test_project_level_diagnostics_are_kept_with_named_files(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo", broken=("alpha",))
    text = (project / "mlgitops.yaml").read_text(encoding="utf-8")
    (project / "mlgitops.yaml").write_text(text.replace("  ci: github\n", "  ci: github\n  extra: 1\n"))
    result = cli("validate", "models/beta.yaml", "--format", "json", cwd=project)
    assert codes_and_files(result.stdout) == [("MLG201", "mlgitops.yaml")]


def test_cross_file_diagnostics_still_need_the_whole_project(cli: CliRunner, tmp_path: Path) -> None:
    """A duplicate model name is found only by loading the other file too; it is reported
    where the second definition is, and kept because it points at the named file."""
    project = make_project(tmp_path / "repo")
    beta = project / "models" / "beta.yaml"
    beta.write_text(beta.read_text(encoding="utf-8").replace("name: beta", "name: alpha"), encoding="utf-8")
    result = cli("validate", "models/alpha.yaml", "--format", "json", cwd=project)
    assert result.exit_code == 1
    assert codes_and_files(result.stdout) == [("MLG301", "models/beta.yaml")]
    assert "see also: models/alpha.yaml:5:9" in cli("validate", "models/alpha.yaml", cwd=project).stdout


def test_a_file_outside_include_is_a_located_error(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo")
    (project / "notes").mkdir()
    shutil.copy(project / "models" / "alpha.yaml", project / "notes" / "draft.yaml")
    result = cli("validate", "notes/draft.yaml", cwd=project)
    assert result.exit_code == 1
    assert result.stdout.startswith(
        "notes/draft.yaml:1:1: error[MLG010]: notes/draft.yaml is not matched by spec.include, "
        "so it is not one of the project's model files\n"
    )
    assert "see also: mlgitops.yaml:" in result.stdout


def test_files_of_two_projects_in_one_call(cli: CliRunner, tmp_path: Path) -> None:
    make_project(tmp_path / "one", broken=("alpha", "beta"))
    make_project(tmp_path / "two", broken=("alpha", "beta"))
    files = ("one/models/alpha.yaml", "two/models/beta.yaml")
    result = cli("validate", *files, "--format", "json", cwd=tmp_path)
    assert result.exit_code == 1
    assert codes_and_files(result.stdout) == [
        ("MLG201", "one/models/alpha.yaml"),
        ("MLG201", "two/models/beta.yaml"),
    ]
    text = cli("validate", *files, cwd=tmp_path).stdout
    assert "one/models/alpha.yaml:9:3: error[MLG201]" in text
    assert "9 |   colour: blue" in text  # the source line is found under the merged path


def test_project_file_as_argument_means_the_whole_project(cli: CliRunner, tmp_path: Path) -> None:
    project = make_project(tmp_path / "repo", broken=("alpha", "beta"))
    result = cli("validate", "mlgitops.yaml", "models/alpha.yaml", "--format", "json", cwd=project)
    assert [f for _, f in codes_and_files(result.stdout)] == ["models/alpha.yaml", "models/beta.yaml"]
    inside = cli("validate", "../mlgitops.yaml", "--format", "json", cwd=project / "models")
    assert len(codes_and_files(inside.stdout)) == 2


def test_pre_commit_hook_call(tmp_path: Path) -> None:
    """The argv pre-commit builds from .pre-commit-hooks.yaml: the entry, then the staged
    files its ``files`` pattern matches, relative to the repository's top level."""
    hooks = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    [hook] = [h for h in hooks if h["id"] == "mlgitops-validate"]
    assert hook["pass_filenames"] is True
    repo = tmp_path / "repo"
    make_project(repo / "ml", broken=("alpha", "beta"))
    (repo / "README.md").write_text("hello\n", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    staged = ["README.md", "ml/mlgitops.yaml", "ml/models/alpha.yaml", "ml/models/beta.yaml"]
    pattern = re.compile(hook["files"])
    only_beta = [f for f in staged if pattern.search(f) and f.endswith("beta.yaml")]
    assert only_beta == ["ml/models/beta.yaml"]
    result = run_mlgitops([*hook["entry"].split()[1:], *only_beta], cwd=repo)
    assert result.returncode == 1
    assert "ml/models/beta.yaml:9:3: error[MLG201]" in result.stdout
    assert "alpha" not in result.stdout
    everything = [f for f in staged if pattern.search(f)]
    assert everything == staged[1:]
    result = run_mlgitops([*hook["entry"].split()[1:], *everything], cwd=repo)
    assert result.returncode == 1
    assert "ml/models/alpha.yaml:9:3" in result.stdout and "ml/models/beta.yaml:9:3" in result.stdout


def test_pre_commit_runs_the_hook_on_staged_specs(tmp_path: Path) -> None:
    """The real pre-commit (``pre-commit run``) with our hook definition as a local hook
    (language ``system``: the mlgitops under test, no install from the network): it
    passes the staged specs, each checked in its own project."""
    [hook] = [h for h in yaml.safe_load(HOOKS.read_text(encoding="utf-8")) if h["id"] == "mlgitops-validate"]
    repo = tmp_path / "repo"
    make_project(repo / "ml", broken=("alpha",))
    make_project(repo / "other")
    config = {"repos": [{"repo": "local", "hooks": [{**hook, "language": "system"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("MLGITOPS_", "GIT_"))},
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        **GIT_ENV,
    }

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    def pre_commit() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "pre-commit"), "run", "--color", "never"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "specs, alpha broken")
    beta = repo / "ml" / "models" / "beta.yaml"
    beta.write_text(beta.read_text(encoding="utf-8").replace("spec:\n", "spec:\n  size: 3\n", 1))
    git("add", "ml/models/beta.yaml")
    staged_beta = pre_commit()
    assert staged_beta.returncode == 1, staged_beta.stdout + staged_beta.stderr
    assert "ml/models/beta.yaml:9:3: error[MLG201]" in staged_beta.stdout
    assert "alpha.yaml" not in staged_beta.stdout  # broken, but not staged
    beta.write_text(beta.read_text(encoding="utf-8").replace("  size: 3\n", ""))
    other = repo / "other" / "models" / "alpha.yaml"
    other.write_text(other.read_text(encoding="utf-8").replace("max_depth: 4", "max_depth: 5"))
    git("add", "-A")
    two_projects = pre_commit()
    assert two_projects.returncode == 0, two_projects.stdout + two_projects.stderr
    assert "mlgitops validate" in two_projects.stdout and "Passed" in two_projects.stdout
