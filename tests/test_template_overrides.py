"""``spec.templates``: what an override directory may hold, checked in ``validate`` before any
render reads it (render/overrides.py). Case folders templates-* cover the CLI output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlgitops.diagnostics import Location
from mlgitops.render.overrides import MAX_ENTRIES, MAX_TEMPLATE_BYTES, builtin_templates, check_overrides
from mlgitops.resources import templates_dir

WHERE = Location("mlgitops.yaml", 15, 14)
TEMPLATE = "kserve/inferenceservice.yaml.j2"
BUILTIN = (templates_dir() / TEMPLATE).read_text(encoding="utf-8")


def _overrides(root: Path, files: dict[str, str | bytes]) -> Path:
    directory = root / "overrides"
    directory.mkdir()
    for name, content in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            (directory / name).write_bytes(content)
        else:
            (directory / name).write_text(content, encoding="utf-8")
    return directory


def _problems(root: Path, setting: str = "overrides") -> list[tuple[str, str]]:
    overrides, problems = check_overrides(root, setting, WHERE)
    assert overrides is None
    assert all(d.location == WHERE for d in problems)
    return [(d.code, d.message) for d in problems]


def test_accepted_overrides_are_read_once_and_kept(tmp_path: Path) -> None:
    directory = _overrides(tmp_path, {TEMPLATE: BUILTIN, "argocd/application.yaml.j2": "x: 1\n"})
    overrides, problems = check_overrides(tmp_path, "overrides/", WHERE)
    assert problems == [] and overrides is not None
    assert overrides.directory == directory
    assert dict(overrides.texts) == {TEMPLATE: BUILTIN, "argocd/application.yaml.j2": "x: 1\n"}


def test_every_builtin_template_may_be_overridden_and_init_is_not_a_target() -> None:
    known = builtin_templates()
    assert "init" not in known and TEMPLATE.split("/")[1] in known["kserve"]
    on_disk = {p.relative_to(templates_dir()).as_posix() for p in templates_dir().glob("*/*.j2")}
    assert {f"{t}/{n}" for t, names in known.items() for n in names} == {
        p for p in on_disk if not p.startswith("init/")
    }


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        (".", "is the project directory itself"),
        ("./", "is the project directory itself"),
        (".git/templates", "is inside .git, which is not the project's to hold templates"),
        (".mlgitops", "is inside .mlgitops, which is not the project's to hold templates"),
        ("../overrides", "is outside the project"),
        ("/etc", "is outside the project"),
        ("missing", "does not exist"),
        ("mlgitops.yaml", "is not a directory (mlgitops.yaml is a regular file)"),
        ("linked/overrides", "goes through the symbolic link linked"),
    ],
)
def test_the_directory_itself_must_be_a_real_one_inside_the_project(
    tmp_path: Path, setting: str, problem: str
) -> None:
    (tmp_path / "mlgitops.yaml").write_text("a: 1\n", encoding="utf-8")
    _overrides(tmp_path, {TEMPLATE: BUILTIN})
    (tmp_path / "linked").symlink_to(".", target_is_directory=True)
    assert _problems(tmp_path, setting) == [("MLG504", f"template directory {setting!r} {problem}")]


def test_an_override_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    _overrides(tmp_path, {TEMPLATE: "#" * MAX_TEMPLATE_BYTES + "\n"})
    assert _problems(tmp_path) == [
        (
            "MLG507",
            f"overrides/{TEMPLATE} is {MAX_TEMPLATE_BYTES + 1:,} bytes; the limit is "
            f"{MAX_TEMPLATE_BYTES:,} (256 KiB)",
        )
    ]


def test_an_override_of_exactly_the_limit_is_accepted(tmp_path: Path) -> None:
    _overrides(tmp_path, {TEMPLATE: "#" * (MAX_TEMPLATE_BYTES - 1) + "\n"})
    overrides, problems = check_overrides(tmp_path, "overrides", WHERE)
    assert problems == [] and overrides is not None


def test_a_directory_with_too_many_entries_is_not_listed_to_the_end(tmp_path: Path) -> None:
    directory = _overrides(tmp_path, {})
    for index in range(MAX_ENTRIES + 1):
        (directory / f"stray-{index}").touch()
    assert _problems(tmp_path) == [("MLG506", f"overrides holds more than {MAX_ENTRIES} entries")]


def test_a_fifo_among_the_overrides_is_refused_without_opening_it(tmp_path: Path) -> None:
    _overrides(tmp_path, {TEMPLATE: BUILTIN})
    os.mkfifo(tmp_path / "overrides/kserve/pipe.j2")
    os.mkfifo(tmp_path / "overrides/fifo")
    assert _problems(tmp_path) == [
        ("MLG506", "overrides/fifo is a FIFO, not a target directory"),
        ("MLG506", "overrides/kserve/pipe.j2 is a FIFO, not a template file"),
    ]
