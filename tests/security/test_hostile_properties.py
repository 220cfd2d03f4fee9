"""Issue 10, property: whatever manifest and journal a repository holds, compile never changes
a file outside the project nor a file of the project that mlgitops did not generate.

Generated journals and manifests name paths with ``..``, absolute paths, paths through
symbolic links planted in the project, ``.git/…``, specs, the project file, other state
files and real outputs, with correct or wrong hashes.  Compile runs in-process (fast); the
clone-based tests beside this one run the console script.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile import HOME_FILES, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compile_helpers import copy_specs, example
from mlgitops.emit.safefs import ProjectTree
from mlgitops.emit.state import JOURNAL_PATH, seal
from mlgitops.emit.territory import Territory
from mlgitops.pipeline import compile_project

HOSTILE_PATHS = [
    "README.md",
    "mlgitops.yaml",
    "models/iris-classifier.yaml",
    ".git/HEAD",
    ".git/config",
    ".mlgitops/lock",
    ".mlgitops/.gitignore",
    "../home/.profile",
    "../home/.ssh/authorized_keys",
    "deploy/dev/link/.profile",
    "deploy/escape",
    "deploy/dev/../../README.md",
    "./README.md",
    "deploy//dev/namespace.yaml",
    "deploy/dev/mine.yaml",
    "deploy/dashboards/team.json",
    ".github/workflows/ours.yml",
    ".github/workflows/mlgitops-x/../../../README.md",
    "deploy\\dev\\namespace.yaml",
    "deploy/dev/namespace.yaml\x00",
    "",
]


@pytest.fixture(scope="module")
def compiled_template() -> Iterator[Path]:
    """A compiled quickstart beside a fake home, with a user's files and hostile links inside."""
    base = Path(tempfile.mkdtemp(prefix="mlgitops-hostile-"))
    project = copy_specs(example("quickstart"), base / "project")
    assert compile_project(project).ok
    (project / "README.md").write_text("# ours\n", encoding="utf-8")
    (project / ".git").mkdir()
    (project / ".git/HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    (project / ".git/config").write_text("[core]\n", encoding="utf-8")
    (project / "deploy/dev/mine.yaml").write_text("kind: Mine\n", encoding="utf-8")
    (project / "deploy/dashboards/team.json").write_text("{}\n", encoding="utf-8")
    (project / ".github/workflows/ours.yml").write_text("on: push\n", encoding="utf-8")
    home = base / "home"
    for relative, data in HOME_FILES.items():
        (home / relative).parent.mkdir(parents=True, exist_ok=True)
        (home / relative).write_bytes(data)
    (project / "deploy/dev/link").symlink_to(home)
    (project / "deploy/escape").symlink_to(home / ".profile")
    yield base
    shutil.rmtree(base)


def paths() -> st.SearchStrategy[str]:
    absolute = st.sampled_from(["/etc/hostname", "/tmp/x"]).map(str)
    generated = st.sampled_from(
        ["deploy/dev/namespace.yaml", "deploy/prod/iris-classifier/inferenceservice.yaml", ".gitlab-ci.yml"]
    )
    noise = st.lists(
        st.sampled_from(["..", ".", "deploy", "dev", ".git", "x.yaml", "link", ""]), max_size=4
    ).map("/".join)
    return st.one_of(st.sampled_from(HOSTILE_PATHS), absolute, generated, noise)


def hash_of(project: Path, relative: str, correct: bool) -> str:
    try:
        return hashlib.sha256((project / relative).read_bytes()).hexdigest() if correct else "0" * 64
    except (OSError, ValueError):
        return "f" * 64


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    manifest_entries=st.lists(st.tuples(paths(), st.booleans()), max_size=8),
    journal=st.none()
    | st.fixed_dictionaries(
        {
            "writes": st.lists(paths(), max_size=4),
            "deletes": st.lists(paths(), max_size=4),
            "backups": st.booleans(),
            "sealed": st.booleans(),  # as if this machine had written it: then the paths decide
        }
    ),
    change_spec=st.booleans(),
)
def test_no_manifest_or_journal_makes_compile_touch_what_it_does_not_own(
    compiled_template: Path, manifest_entries: list[tuple[str, bool]], journal: dict | None, change_spec: bool
) -> None:
    work = Path(tempfile.mkdtemp(prefix="case-", dir=compiled_template))
    try:
        shutil.copytree(compiled_template / "project", work / "project", symlinks=True)
        shutil.copytree(compiled_template / "home", work / "home")
        project, home = work / "project", work / "home"
        (project / "deploy/dev/link").unlink()
        (project / "deploy/dev/link").symlink_to(home)
        (project / "deploy/escape").unlink()
        (project / "deploy/escape").symlink_to(home / ".profile")
        manifest_path = project / ".mlgitops/manifest.json"
        manifest = json.loads(manifest_path.read_bytes())
        generated = set(manifest["files"])
        for relative, correct in manifest_entries:
            manifest["files"][relative] = hash_of(project, relative, correct)
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        if journal is not None:
            txn = project / ".mlgitops/txn"
            (txn / "old").mkdir(parents=True)
            listed = [*journal["writes"], *journal["deletes"]]
            if journal["backups"]:
                for index in range(len(listed)):
                    (txn / "old" / str(index)).write_bytes(b"attacker\n")
            document = {"writes": journal["writes"], "deletes": journal["deletes"], "existed": listed}
            body = json.dumps(document).encode()
            if journal["sealed"]:
                with ProjectTree(project.resolve()) as tree:
                    body = seal(tree, JOURNAL_PATH, body)
            (txn / "journal.json").write_bytes(body)
        if change_spec:
            spec = project / "models/iris-classifier.yaml"
            spec.write_text(
                spec.read_text(encoding="utf-8").replace("data-science", "data-platform"), "utf-8"
            )
        home_before = snapshot(home)
        before = snapshot(project)
        result = compile_project(project, use_cache=False)
        assert snapshot(home) == home_before, "a file outside the project changed"
        after = snapshot(project)
        # A sealed journal stands for one this machine wrote: recovery replays it, so within the
        # territory it may put back what its backups hold; outside, nothing may change either way.
        replayed = journal is not None and journal["sealed"]
        territory = Territory.of("deploy", ["mlgitops.yaml", "models/iris-classifier.yaml"])
        for relative, data in before.items():
            if (
                relative.startswith(".mlgitops/")
                or relative.rstrip("/") in generated
                or relative.endswith("/")
                or (replayed and territory.refusal(relative) is None)
            ):
                continue
            assert after.get(relative) == data, f"{relative} is not generated, yet it changed or vanished"
        if not result.ok:
            codes = {d.code for d in result.diagnostics if d.severity.value == "error"}
            # MLG517: a forged entry may claim a deployed model whose spec is gone; compile refuses
            assert codes <= {"MLG502", "MLG510", "MLG511", "MLG512", "MLG513", "MLG516", "MLG517"}, codes
    finally:
        shutil.rmtree(work)
