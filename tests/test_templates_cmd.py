"""`mlgitops templates list|show|export` (issue 16): the built-in templates a project may
override, and an export that `spec.templates` accepts as it is and never writes through a link."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import EXAMPLES, CliRunner
from mlgitops.resources import templates_dir

BUILTIN = [
    p.relative_to(templates_dir()).as_posix()
    for p in sorted(templates_dir().glob("*/*.j2"), key=lambda p: (p.parent.name, p.name))
    if p.parent.name != "init"
]


def _generated(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".mlgitops" not in p.relative_to(root).parts and p.suffix != ".j2"
    }


def test_list_names_every_template_compile_renders_and_not_init(cli: CliRunner) -> None:
    result = cli("templates", "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == BUILTIN
    assert not any(line.startswith("init/") for line in result.stdout.splitlines())
    kserve = cli("templates", "list", "kserve")
    assert kserve.exit_code == 0 and kserve.stdout == "kserve/inferenceservice.yaml.j2\n"


def test_unknown_target_is_refused_with_the_targets_listed(cli: CliRunner, tmp_path: Path) -> None:
    attempts = (("list", "kserv"), ("show", "kserv/isvc.yaml"), ("export", "kserv", tmp_path / "o"))
    for args in attempts:
        result = cli("templates", *args)
        assert result.exit_code == 2, result.output
        assert "did you mean 'kserve'?" in result.stderr
        assert "the targets are argocd, drift, flux" in result.stderr
    assert not (tmp_path / "o").exists()
    init = cli("templates", "show", "init/model.yaml")
    assert init.exit_code == 2 and "no built-in templates for target 'init'" in init.stderr


def test_show_prints_one_template_with_or_without_its_suffix(cli: CliRunner) -> None:
    text = (templates_dir() / "kserve" / "inferenceservice.yaml.j2").read_text(encoding="utf-8")
    for reference in ("kserve/inferenceservice.yaml.j2", "kserve/inferenceservice.yaml"):
        result = cli("templates", "show", reference)
        assert result.exit_code == 0 and result.stdout == text
    missing = cli("templates", "show", "kubernetes/deploymnet.yaml")
    assert missing.exit_code == 2
    assert "did you mean 'deployment.yaml.j2'?" in missing.stderr
    assert cli("templates", "show", "kserve").exit_code == 2


@pytest.mark.parametrize("example", ["platform", "gitlab-flux-k8s"])
def test_exported_templates_compile_byte_identically(cli: CliRunner, tmp_path: Path, example: str) -> None:
    builtin_root = tmp_path / "builtin"
    override_root = tmp_path / "override"
    shutil.copytree(EXAMPLES / example, builtin_root)
    shutil.copytree(EXAMPLES / example, override_root)
    exported = cli("templates", "export", override_root / "custom-templates")
    assert exported.exit_code == 0, exported.output
    assert exported.stdout.splitlines()[-2:] == [
        f"add to {override_root / 'mlgitops.yaml'}, under spec:",
        "  templates: custom-templates",
    ]
    exported_to = override_root / "custom-templates"
    assert sorted(p.relative_to(exported_to).as_posix() for p in exported_to.rglob("*.j2")) == sorted(BUILTIN)
    spec = override_root / "mlgitops.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("\nspec:\n", "\nspec:\n  templates: custom-templates\n", 1),
        encoding="utf-8",
    )
    for root in (builtin_root, override_root):
        shutil.rmtree(root / "deploy", ignore_errors=True)
        result = cli("compile", root)
        assert result.exit_code == 0, result.output
    assert cli("validate", "--strict", override_root).exit_code == 0
    builtin, overridden = _generated(builtin_root), _generated(override_root)
    assert overridden.pop("mlgitops.yaml") != builtin.pop("mlgitops.yaml")
    # The validation pipeline also runs when the override templates change: its path filter
    # names their folder. Nothing else differs.
    differing = sorted(path for path in builtin if overridden.get(path) != builtin[path])
    for path in differing:
        assert path in (".github/workflows/mlgitops-validate.yml", ".gitlab-ci.yml"), path
        assert b"custom-templates" in overridden[path] and b"custom-templates" not in builtin[path]
    assert overridden.keys() == builtin.keys() and len(builtin) > 10


def test_export_one_target_and_refuse_to_overwrite_anything(cli: CliRunner, tmp_path: Path) -> None:
    directory = tmp_path / "templates"
    first = cli("templates", "export", "prometheus", directory)
    assert first.exit_code == 0, first.output
    assert sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*.j2")) == [
        t for t in BUILTIN if t.startswith("prometheus/")
    ]
    edited = directory / "prometheus" / "podmonitor.yaml.j2"
    edited.write_text("mine\n", encoding="utf-8")
    again = cli("templates", "export", directory)
    assert again.exit_code == 1
    assert f"refusing to overwrite {edited}" in again.stderr and "nothing was exported" in again.stderr
    assert edited.read_text(encoding="utf-8") == "mine\n"
    assert not (directory / "kserve").exists()  # all or nothing: no other target was written


def test_export_never_writes_through_a_planted_link(cli: CliRunner, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_text("keep\n", encoding="utf-8")
    repository = tmp_path / "repo"
    (repository / "overrides" / "kserve").mkdir(parents=True)
    (repository / "overrides" / "kserve" / "inferenceservice.yaml.j2").symlink_to(victim)
    (repository / "overrides" / "argocd").symlink_to(outside)
    result = cli("templates", "export", repository / "overrides")
    assert result.exit_code == 1
    assert "kserve/inferenceservice.yaml.j2" in result.stderr
    assert "argocd/application.yaml.j2" in result.stderr
    assert victim.read_text(encoding="utf-8") == "keep\n" and list(outside.iterdir()) == [victim]
    assert list((repository / "overrides").rglob("*.j2")) == [
        repository / "overrides" / "kserve" / "inferenceservice.yaml.j2"
    ]
    (repository / "linked").symlink_to(outside)
    linked = cli("templates", "export", repository / "linked")
    assert linked.exit_code == 1 and "is a symbolic link" in linked.stderr
    assert list(outside.iterdir()) == [victim]


def test_export_needs_a_directory(cli: CliRunner, tmp_path: Path) -> None:
    assert cli("templates", "export").exit_code == 2
    assert cli("templates", "export", "kserve", tmp_path / "a", tmp_path / "b").exit_code == 2
    (tmp_path / "file").write_text("x", encoding="utf-8")
    result = cli("templates", "export", tmp_path / "file")
    assert result.exit_code == 1 and "is not a directory" in result.stderr


def test_templates_is_listed_in_the_help(cli: CliRunner) -> None:
    result = cli("--help")
    assert result.exit_code == 0 and "templates" in result.stdout
    assert "spec.templates" in cli("templates", "--help").stdout
