"""The pre-commit hooks and the composite GitHub Action (issue 6).

* ``.pre-commit-hooks.yaml`` is loaded with pre-commit's own manifest schema
  (``pre_commit.clientlib.load_manifest``), uses only keys that schema knows, and
  the hooks' ``files`` patterns pick the spec and generated files and nothing else;
  each hook's ``entry`` is a real mlgitops command that passes on a compiled project.
* ``action.yml`` passes ``zizmor --offline`` and ``check-jsonschema --builtin-schema
  vendor.github-actions``; every ``uses:`` is pinned to a full commit SHA; no
  ``${{`` reaches a ``run:`` script; and the scripts of its steps, run with bash the
  way the runner runs them (inputs through ``env:``), validate, check and write the
  markdown diff into the job summary in a real git checkout.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import GIT_ENV, ROOT, copy_specs, example
from conftest import VENV_BIN, require_tool

HOOKS = ROOT / ".pre-commit-hooks.yaml"
ACTION = ROOT / "action.yml"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$")


# --- .pre-commit-hooks.yaml --------------------------------------------------------------------


def clientlib() -> Any:
    """pre-commit's own manifest loader and schema (pre-commit ships no type information)."""
    return importlib.import_module("pre_commit.clientlib")


def hooks() -> dict[str, dict[str, Any]]:

    loaded = clientlib().load_manifest(str(HOOKS))
    return {hook["id"]: hook for hook in loaded}


def test_the_hooks_manifest_is_valid_for_pre_commit() -> None:
    found = hooks()
    assert set(found) == {"mlgitops-validate", "mlgitops-check"}
    known = {item.key for item in clientlib().MANIFEST_HOOK_DICT.items}
    raw = yaml.safe_load(HOOKS.read_text(encoding="utf-8"))
    for hook in raw:
        assert set(hook) <= known, f"{hook['id']}: keys pre-commit does not know: {set(hook) - known}"
        assert hook["language"] == "python"
        # validate checks the staged specs, each in its own project; check compares the
        # whole project's output, whichever file changed
        assert hook["pass_filenames"] is (hook["id"] == "mlgitops-validate")
        assert hook["entry"].split()[0] == "mlgitops"
        assert hook["name"] and hook["description"]


def test_invalid_manifests_are_rejected_by_the_same_loader(tmp_path: Path) -> None:
    """The loader above really validates (so its acceptance of ours means something)."""
    bad = tmp_path / "hooks.yaml"
    bad.write_text("- id: x\n  name: x\n  language: python\n", encoding="utf-8")  # no entry
    with pytest.raises(clientlib().InvalidManifestError):
        clientlib().load_manifest(str(bad))


@pytest.mark.parametrize(
    ("path", "validate", "check"),
    [
        ("mlgitops.yaml", True, True),
        ("models/fraud-detector.yaml", True, True),
        ("models/risk/fraud.yml", True, True),
        ("ml/platform/mlgitops.yaml", True, True),
        ("ml/platform/models/x.yaml", True, True),
        ("deploy/prod/fraud-detector/inferenceservice-fraud-detector-1-4-2.yaml", False, True),
        ("deploy/gitops/argocd/prod.yaml", False, True),
        (".mlgitops/manifest.json", False, True),
        (".github/workflows/mlgitops-validate.yml", False, True),
        (".github/workflows/mlgitops-train-fraud-detector.yml", False, True),
        (".gitlab-ci.yml", False, True),
        ("ml/platform/deploy/dev/kustomization.yaml", False, True),
        ("README.md", False, False),
        ("src/models.py", False, False),
        ("src/models/train.py", False, False),
        ("mymodels/x.yaml", False, False),
        ("mlgitops.yaml.bak", False, False),
        ("models/notes.txt", False, False),
        (".github/workflows/ci.yml", False, False),
        ("docs/deploy.md", False, False),
        ("schemas/model.v1.json", False, False),
    ],
)
def test_hook_file_patterns(path: str, validate: bool, check: bool) -> None:
    found = hooks()
    # pre-commit matches with re.search on the repository-relative path
    assert bool(re.search(found["mlgitops-validate"]["files"], path)) is validate
    assert bool(re.search(found["mlgitops-check"]["files"], path)) is check
    assert not re.search(found["mlgitops-check"]["exclude"], path)


def test_hook_entries_run(tmp_path: Path) -> None:
    """Each entry, as pre-commit would run it (in the repository root, with the matching
    files when the hook takes them), passes on a freshly compiled project and the check hook
    fails once a generated file is edited."""
    root = copy_specs(example("platform"), tmp_path / "repo")
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run([VENV_BIN / "mlgitops", "compile"], cwd=root, check=True, capture_output=True, env=env)
    found = hooks()
    for hook_id in ("mlgitops-validate", "mlgitops-check"):
        hook = found[hook_id]
        files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
        named = [f for f in files if re.search(hook["files"], f)] if hook["pass_filenames"] else []
        run = subprocess.run(
            [*shlex.split(hook["entry"]), *named],
            cwd=root,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert run.returncode == 0, f"{hook_id}: {run.stdout}{run.stderr}"
    edited = root / "deploy/prod/fraud-detector/inferenceservice-fraud-detector-1-4-2.yaml"
    edited.write_text(edited.read_text(encoding="utf-8") + "# hand edit\n", encoding="utf-8")
    run = subprocess.run(
        shlex.split(found["mlgitops-check"]["entry"]),
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 1
    assert "deploy/prod/fraud-detector/inferenceservice-fraud-detector-1-4-2.yaml" in run.stdout + run.stderr


# --- action.yml --------------------------------------------------------------------------------


def action() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.external
def test_zizmor_finds_nothing_in_the_action() -> None:
    zizmor = require_tool("zizmor")
    run = subprocess.run(
        [zizmor, "--offline", "--no-ignores", "--no-progress", "--color=never", str(ACTION)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"zizmor (exit {run.returncode}):\n{run.stdout}{run.stderr}"
    assert "No findings" in run.stdout


@pytest.mark.external
def test_the_action_matches_githubs_schema() -> None:
    checker = require_tool("check-jsonschema")
    run = subprocess.run(
        [checker, "--builtin-schema", "vendor.github-actions", str(ACTION)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"{run.stdout}{run.stderr}"


def test_every_action_is_pinned_to_a_commit_sha() -> None:
    steps = action()["runs"]["steps"]
    uses = [step["uses"] for step in steps if "uses" in step]
    assert uses, "the action uses no other action (the test would prove nothing)"
    for used in uses:
        assert PINNED.match(used), f"{used} is not pinned to a full commit SHA"
    # with the release it stands for in a comment, for people and for Dependabot
    for line in ACTION.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith(("uses:", "- uses:")):
            assert re.search(r"@[0-9a-f]{40}  # v\d+\.\d+\.\d+$", line), line


def test_no_expression_reaches_a_script() -> None:
    document = action()
    assert document["runs"]["using"] == "composite"
    for step in document["runs"]["steps"]:
        if "run" in step:
            assert "${{" not in step["run"], f"{step['name']}: an expression inside run: is an injection risk"
            assert step["shell"] == "bash"


def test_inputs() -> None:
    inputs = action()["inputs"]
    assert set(inputs) == {"path", "format", "base-ref", "version"}
    assert inputs["path"]["default"] == "."
    assert inputs["format"]["default"] == "github"
    assert inputs["base-ref"]["default"] == ""
    import mlgitops

    assert inputs["version"]["default"] == mlgitops.__version__
    for name, spec in inputs.items():
        assert spec["description"], name
        assert spec["required"] is False, name


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=True, capture_output=True)


def _expression(text: str, inputs: dict[str, str], github: dict[str, str]) -> str:
    """Evaluate the few expression forms the action's env: blocks use."""

    def value(term: str) -> str:
        term = term.strip()
        if term.startswith("inputs."):
            return inputs[term.removeprefix("inputs.")]
        if term.startswith("github."):
            return github[term.removeprefix("github.")]
        raise AssertionError(f"unexpected expression term {term!r}")

    def evaluate(match: re.Match[str]) -> str:
        for term in match.group(1).split("||"):
            if found := value(term):
                return found
        return ""

    return re.sub(r"\$\{\{(.*?)\}\}", evaluate, text)


def test_the_action_steps_run(tmp_path: Path) -> None:
    """Run the action's scripts with bash in a checkout whose base branch is on a remote:
    validate and check pass, and the markdown diff lands in the job summary."""
    remote = tmp_path / "remote.git"
    work = tmp_path / "work"
    work.mkdir()
    _git(work, "-c", "init.defaultBranch=main", "init", "--quiet")
    project = copy_specs(example("platform"), work / "ml")
    subprocess.run([VENV_BIN / "mlgitops", "compile", str(project)], check=True, capture_output=True)
    _git(work, "add", "--all")
    _git(work, "commit", "--quiet", "--message", "base")
    _git(tmp_path, "clone", "--quiet", "--bare", str(work), str(remote))
    _git(work, "remote", "add", "origin", str(remote))
    _git(work, "switch", "--quiet", "--create", "feature")
    subprocess.run(
        [VENV_BIN / "mlgitops", "promote", "support-llm", "--to", "prod", "--project", str(project)],
        check=True,
        capture_output=True,
    )
    subprocess.run([VENV_BIN / "mlgitops", "compile", str(project)], check=True, capture_output=True)

    summary = tmp_path / "summary.md"
    inputs = {"path": "ml", "format": "github", "base-ref": "", "version": "0.1.0"}
    github = {"base_ref": "main"}
    ran = []
    for step in action()["runs"]["steps"]:
        if "run" not in step or step["name"] == "Install mlgitops":  # no network: the venv has it
            continue
        env = {
            **os.environ,
            **GIT_ENV,
            "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_STEP_SUMMARY": str(summary),
            **{key: _expression(str(value), inputs, github) for key, value in step.get("env", {}).items()},
        }
        run = subprocess.run(
            ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", "-c", step["run"]],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, f"{step['name']}: {run.stdout}{run.stderr}"
        ran.append(step["name"])
    assert ran == ["Validate specs", "Check generated files", "Summarize the change"]
    markdown = summary.read_text(encoding="utf-8")
    assert markdown.startswith("### mlgitops: what this change does (against `FETCH_HEAD`)\n")
    assert "| `support-llm` | 1.3.0 | 1.3.0 | 1.2.0 → **1.3.0** |" in markdown
    assert "```mermaid" in markdown
    assert "<details><summary><code>deploy/prod/support-llm/httproute.yaml</code> (changed)" in markdown
