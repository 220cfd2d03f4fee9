"""Issue 10: breaks found by an adversarial review of the first fix, each a regression test."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from hostile import git, hostile_clone, snapshot

from compile_helpers import edit_yaml
from conftest import run_mlgitops
from mlgitops.emit import rendercache
from mlgitops.targets.base import OutputFile

ISVC = "deploy/dev/iris-classifier/inferenceservice.yaml"


def forge(root: Path, entries: dict[str, str]) -> None:
    manifest_path = root / ".mlgitops/manifest.json"
    manifest = json.loads(manifest_path.read_bytes())
    manifest["files"].update(entries)
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_only_generated_kinds_of_file_are_pruned(tmp_path: Path) -> None:
    """The header check exempts JSON only; a README or a script in the output tree is never
    pruned, whatever hash the manifest carries for it."""

    def plant(origin: Path, home: Path) -> None:
        (origin / "deploy/README.md").write_text("# how we deploy\n", encoding="utf-8")
        (origin / "deploy/apply.sh").write_text("kubectl apply -k .\n", encoding="utf-8")
        forge(origin, {p: sha(origin / p) for p in ("deploy/README.md", "deploy/apply.sh")})

    clone = hostile_clone(tmp_path, plant)
    run = clone.compile()
    assert run.returncode == 0, run.stdout + run.stderr
    assert (clone.root / "deploy/README.md").is_file() and (clone.root / "deploy/apply.sh").is_file()
    assert (
        "not pruning deploy/apply.sh" in run.stdout and "not a kind of file mlgitops generates" in run.stdout
    )


def test_override_templates_written_with_dot_slash_stay_protected(tmp_path: Path) -> None:
    def plant(origin: Path, home: Path) -> None:
        template = origin / "deploy/tpl/argocd/application.yaml.j2"
        template.parent.mkdir(parents=True)
        builtin = Path(__file__).resolve().parents[2] / "templates/argocd/application.yaml.j2"
        template.write_bytes(builtin.read_bytes())
        edit_yaml(origin / "mlgitops.yaml", lambda d: d["spec"].update(templates="./deploy/tpl"))
        forge(origin, {"deploy/tpl/argocd/application.yaml.j2": sha(template)})

    clone = hostile_clone(tmp_path, plant)
    run = clone.compile()
    assert run.returncode == 0, run.stdout + run.stderr
    assert (clone.root / "deploy/tpl/argocd/application.yaml.j2").is_file()
    assert "not pruning deploy/tpl/argocd/application.yaml.j2" in run.stdout


def test_committed_caches_are_ignored_where_git_cannot_answer(tmp_path: Path) -> None:
    """A tampered generated file with a forged cache vouching for it: in a repository git refuses
    to read (another user's), the caches carry no seal of this machine, so compile renders
    afresh and repairs the file (reporting the hand edit)."""

    def plant(origin: Path, home: Path) -> None:
        isvc = origin / ISVC
        isvc.write_text(
            isvc.read_text(encoding="utf-8").replace("s3://acme-models", "s3://attacker"), "utf-8"
        )
        (origin / ".mlgitops/render-cache.json").write_text(
            json.dumps({"settings": "x", "models": {}}), encoding="utf-8"
        )
        (origin / ".mlgitops/cache.json").write_text(json.dumps({"key": "k", "stats": {}}), encoding="utf-8")

    clone = hostile_clone(tmp_path, plant)
    for current, directories, files in os.walk(clone.root):
        for name in [*directories, *files]:
            os.chown(Path(current, name), 65534, 65534, follow_symlinks=False)
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    exe = Path(run_mlgitops(["--version"]).args[0])
    run = subprocess.run(
        [exe, "compile", str(clone.root)], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "overwrote hand edit in deploy/dev/iris-classifier/inferenceservice.yaml" in run.stdout
    assert "s3://attacker" not in (clone.root / ISVC).read_text(encoding="utf-8")


def test_an_unreadable_or_oversized_file_at_a_generated_path_is_not_overwritten(tmp_path: Path) -> None:
    clone = hostile_clone(tmp_path, lambda origin, home: None)
    manifest = json.loads((clone.root / ".mlgitops/manifest.json").read_bytes())
    del manifest["files"]["deploy/prod/namespace.yaml"]
    (clone.root / ".mlgitops/manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with (clone.root / "deploy/prod/namespace.yaml").open("r+b") as handle:
        handle.truncate((1 << 30) + 1)  # sparse: larger than any file mlgitops writes
    run = clone.compile("--no-cache")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "deploy/prod/namespace.yaml exists and cannot be read; refusing to overwrite it" in run.stdout
    assert (clone.root / "deploy/prod/namespace.yaml").stat().st_size == (1 << 30) + 1


def test_forged_manifest_paths_that_break_encodings_or_depth_are_warnings_not_crashes(tmp_path: Path) -> None:
    def plant(origin: Path, home: Path) -> None:
        manifest_path = origin / ".mlgitops/manifest.json"
        text = manifest_path.read_text(encoding="utf-8").replace(
            '"files": {',
            '"files": {"deploy/\\ud800.yaml": "00", "deploy/' + "a/" * 1500 + 'x.yaml": "00", ',
            1,
        )
        manifest_path.write_text(text, encoding="utf-8")

    clone = hostile_clone(tmp_path, plant)
    for command in ("compile", "check"):
        run = run_mlgitops([command, str(clone.root)])
        assert "internal error" not in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert run.returncode in (0, 1), run.stdout + run.stderr
    assert run_mlgitops(["compile", str(clone.root)]).returncode == 0


def test_a_submodule_entry_for_mlgitops_is_an_error_not_a_crash(tmp_path: Path) -> None:
    def plant(origin: Path, home: Path) -> None:
        commit = git("rev-parse", "HEAD", cwd=origin).strip()
        git("rm", "-r", "-q", "--cached", ".mlgitops", cwd=origin)
        for entry in (origin / ".mlgitops").iterdir():
            entry.unlink()
        git("update-index", "--add", "--cacheinfo", f"160000,{commit},.mlgitops", cwd=origin)

    clone = hostile_clone(tmp_path, plant)
    before = snapshot(clone.root)
    run = clone.compile()
    assert run.returncode == 1, run.stdout + run.stderr
    assert "MLG511" in run.stdout and "git rm -r --cached .mlgitops " in run.stdout
    assert {k: v for k, v in snapshot(clone.root).items() if k != ".mlgitops/lock"} == {
        k: v for k, v in before.items() if k != ".mlgitops/lock"
    }


def whole(file: OutputFile) -> OutputFile:
    return file


def test_an_unsealed_render_cache_is_never_reused(tmp_path: Path) -> None:
    """``diff`` and ``compile`` take unchanged models' files from the render cache; one that this
    machine did not write (committed, forged) is ignored, so tampered files are never reused."""
    from mlgitops.pipeline import generate_files
    from mlgitops.resources import templates_dir

    clone = hostile_clone(tmp_path, lambda origin, home: None)
    assert clone.compile().returncode == 0
    cache = clone.root / ".mlgitops/render-cache.json"
    sealed = cache.read_bytes()
    seal_line, _, body = sealed.partition(b"\n")
    assert seal_line.startswith(b"mlgitops-seal ")
    project = generate_files(clone.root).project
    assert project is not None
    from mlgitops.fingerprint import renderer_fingerprint

    renderer = renderer_fingerprint(templates_dir())
    assert rendercache.load(clone.root, project, renderer, whole), "the cache this machine wrote is reused"
    cache.write_bytes(body)  # the same content, as a commit would carry it: no seal
    assert rendercache.load(clone.root, project, renderer, whole) == {}
    cache.write_bytes(b"mlgitops-seal " + b"0" * 64 + b"\n" + body)
    assert rendercache.load(clone.root, project, renderer, whole) == {}
