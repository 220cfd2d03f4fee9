"""`init` (issue 6): a new project that validates, compiles and passes `check` as it is,
and that never overwrites anything."""

from __future__ import annotations

import itertools
import subprocess
from pathlib import Path

import pytest
import yaml

from compile_helpers import tree_with_mtimes
from conftest import CliRunner

COMBINATIONS = list(itertools.product(("github", "gitlab"), ("argocd", "flux"), ("kserve", "kubernetes")))


@pytest.mark.parametrize(("ci", "gitops", "serving"), COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
def test_init_validate_compile_check(
    cli: CliRunner, tmp_path: Path, ci: str, gitops: str, serving: str
) -> None:
    root = tmp_path / "ml-platform"
    result = cli("init", root, "--ci", ci, "--gitops", gitops, "--serving", serving)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[:2] == [
        f"created  {root / 'mlgitops.yaml'}",
        f"created  {root / 'models' / 'example-model.yaml'}",
    ]
    project = yaml.safe_load((root / "mlgitops.yaml").read_text(encoding="utf-8"))
    assert project["metadata"]["name"] == "ml-platform"
    assert (project["spec"]["ci"], project["spec"]["gitops"], project["spec"]["serving"]) == (
        ci,
        gitops,
        serving,
    )

    for args in (("validate", root), ("validate", "--strict", root), ("check", root)):
        checked = cli(*args)
        assert checked.exit_code == 0, f"{args}: {checked.output}"
    before = tree_with_mtimes(root)
    compiled = cli("compile", root)
    assert compiled.exit_code == 0, compiled.output
    assert cli("check", root).exit_code == 0
    # init already compiled: compiling again changes no generated file
    after = tree_with_mtimes(root)
    assert {p: v for p, v in after.items() if not p.startswith(".mlgitops/")} == {
        p: v for p, v in before.items() if not p.startswith(".mlgitops/")
    }

    # the generated files are those of the chosen targets
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert ("deploy/dev/example-model/inferenceservice.yaml" in files) == (serving == "kserve")
    assert ("deploy/dev/example-model/deployment.yaml" in files) == (serving == "kubernetes")
    assert any(p.startswith(f"deploy/gitops/{gitops}/") for p in files)
    assert not any(
        p.startswith(f"deploy/gitops/{'flux' if gitops == 'argocd' else 'argocd'}/") for p in files
    )
    assert (".github/workflows/mlgitops-validate.yml" in files) == (ci == "github")
    assert (".gitlab-ci.yml" in files) == (ci == "gitlab")


def test_the_scaffold_can_be_promoted(cli: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "project"
    assert cli("init", root).exit_code == 0
    promoted = cli("promote", "example-model", "--to", "staging", "--project", root)
    assert promoted.exit_code == 0, promoted.output
    assert cli("compile", root).exit_code == 0
    assert (root / "deploy/staging/example-model/inferenceservice.yaml").is_file()
    assert cli("check", root).exit_code == 0


def test_init_in_the_current_directory_names_the_project_after_it(cli: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "Fraud_Models"
    root.mkdir()
    result = cli("init", cwd=root)
    assert result.exit_code == 0, result.output
    project = yaml.safe_load((root / "mlgitops.yaml").read_text(encoding="utf-8"))
    assert project["metadata"]["name"] == "fraud-models"
    assert project["spec"]["environments"][0]["namespace"] == "fraud-models-dev"


def test_init_in_a_subdirectory_of_a_git_repository(cli: CliRunner, tmp_path: Path) -> None:
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    root = tmp_path / "ml" / "platform"
    result = cli("init", root, "--name", "platform")
    assert result.exit_code == 0, result.output
    assert cli("check", root).exit_code == 0
    application = (root / "deploy/gitops/argocd/prod.yaml").read_text(encoding="utf-8")
    assert "path: ml/platform/deploy/prod" in application


def test_init_refuses_to_overwrite(cli: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "project"
    assert cli("init", root).exit_code == 0
    (root / "models" / "example-model.yaml").write_text("# my edits\n", encoding="utf-8")
    before = tree_with_mtimes(root)
    result = cli("init", root, "--ci", "gitlab")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: refusing to overwrite {root / 'mlgitops.yaml'}, {root / 'models' / 'example-model.yaml'}; "
        "init only creates new projects\n"
    )
    assert tree_with_mtimes(root) == before


def test_init_refuses_to_overwrite_files_it_would_generate(cli: CliRunner, tmp_path: Path) -> None:
    """Files that are not specs but sit where compile writes (and that no manifest says we own)."""
    root = tmp_path / "project"
    (root / "deploy" / "dev").mkdir(parents=True)
    (root / "deploy" / "dev" / "kustomization.yaml").write_text("resources: [mine.yaml]\n", encoding="utf-8")
    before = tree_with_mtimes(root)
    result = cli("init", root)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "error: refusing to overwrite files that were not generated by mlgitops; "
        "init only creates new projects\n"
    )
    assert "deploy/dev/kustomization.yaml" in result.stderr
    assert "MLG501" in result.stderr
    assert "please report" not in result.stderr
    assert tree_with_mtimes(root) == before  # the specs it wrote and the folders it made are gone


@pytest.mark.parametrize("name", ["Bad_Name", "1models", "-models", "models-", "a" * 64, "ml.platform"])
def test_an_invalid_name_writes_nothing(cli: CliRunner, tmp_path: Path, name: str) -> None:
    result = cli("init", tmp_path / "new" / "project", "--name", name)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"error: project name {name!r} must be a DNS label starting with a letter (e.g. 'my-models')\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_an_invalid_directory_name_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    result = cli("init", tmp_path / "My Models")
    assert result.exit_code == 1
    assert "project name 'my models' must be a DNS label" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_on_a_file(cli: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "project"
    target.write_text("not a directory\n", encoding="utf-8")
    result = cli("init", target)
    assert result.exit_code == 1
    assert result.stderr == f"error: {target} exists and is not a directory\n"
    assert target.read_text(encoding="utf-8") == "not a directory\n"


def test_the_modelines_name_the_shipped_schemas_copied_into_the_project(
    cli: CliRunner, tmp_path: Path
) -> None:
    """Like the examples, a local schema relative to each spec, and one that exists and accepts it."""
    import json

    from jsonschema import Draft202012Validator

    from mlgitops.resources import schemas_dir

    root = tmp_path / "project"
    result = cli("init", root)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[2:4] == [
        f"created  {root / 'schemas' / 'project.v1.json'}",
        f"created  {root / 'schemas' / 'model.v1.json'}",
    ]
    for spec in (root / "mlgitops.yaml", root / "models" / "example-model.yaml"):
        first = spec.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema="), first
        target = first.partition("$schema=")[2]
        assert "://" not in target and not target.startswith("/")
        schema_file = (spec.parent / target).resolve()
        assert schema_file.parent == (root / "schemas").resolve()
        assert schema_file.read_bytes() == (schemas_dir() / schema_file.name).read_bytes()
        validator = Draft202012Validator(json.loads(schema_file.read_text(encoding="utf-8")))
        document = yaml.safe_load(spec.read_text(encoding="utf-8"))
        assert list(validator.iter_errors(document)) == []
    assert cli("check", root).exit_code == 0  # the schema copies are not generated files


def test_a_schema_already_in_the_project_is_kept(cli: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "project"
    (root / "schemas").mkdir(parents=True)
    outside = tmp_path / "outside.json"
    outside.write_text("{}", encoding="utf-8")
    (root / "schemas" / "project.v1.json").symlink_to(outside)  # never written through
    result = cli("init", root)
    assert result.exit_code == 0, result.output
    assert outside.read_text(encoding="utf-8") == "{}"
    assert f"created  {root / 'schemas' / 'project.v1.json'}" not in result.stdout
    assert (root / "schemas" / "model.v1.json").is_file()


@pytest.mark.parametrize(
    ("repository", "problem"),
    [
        (
            "notaurl",
            "--repository 'notaurl' is not a git repository URL (https://…, ssh://… or git@host:path); "
            "give the git URL GitOps tools clone",
        ),
        (
            "https://bob:hunter2@github.com/acme/ml.git",
            "--repository looks like a password inside a URL; give it without credentials "
            "(GitOps tools keep those in their own secrets)",
        ),
    ],
)
def test_a_bad_repository_is_a_user_error_not_a_bug(
    cli: CliRunner, tmp_path: Path, repository: str, problem: str
) -> None:
    result = cli("init", tmp_path / "project", "--repository", repository)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (f"error: {problem}, e.g. --repository https://github.com/acme/ml-platform.git\n")
    assert "hunter2" not in result.stderr and "please report" not in result.stderr
    assert list(tmp_path.iterdir()) == []
