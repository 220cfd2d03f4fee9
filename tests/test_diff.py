"""`diff --base REF` (issue 6): what a pull request changes in the generated output.

A temporary git repository holds the platform example (compiled, committed) and
then, one commit each: a promotion, a canary, a retirement and a new model.  Every
commit is checked out in its own worktree, so that ``diff --base HEAD~1`` there
compares exactly that commit with its parent, in text, markdown and JSON.

Because each commit also carries the output that ``mlgitops compile`` wrote for it,
the file part of the diff is checked against git itself: the files ``diff`` reports,
with their status and unified diff, must be exactly what changed between the two
commits' compiled trees.

Alerts are checked the same way: those ``diff`` reports added and removed must be
exactly the difference between the PrometheusRules committed with each side, and an
SLO change (one added, one dropped) must show both; the alert extraction is also tested
on a hand-written PrometheusRule.  ``test_diff_renders_only_the_models_that_differ...``
checks that models whose IR is the same on both sides are not rendered, and that the diff
stays exactly what full compiles give.
"""

from __future__ import annotations

import contextlib
import difflib
import gc
import io
import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import packed_series
from compile_helpers import GIT_ENV, as_subproject, copy_specs, edit_yaml, example, tree
from mlgitops import ir
from mlgitops.pipeline import generate_files

NEW_MODEL = """\
apiVersion: mlgitops/v1
kind: Model
metadata:
  name: price-model
  owner: pricing-team
spec:
  training:
    image: ghcr.io/acme/price-train:0.1.0
    command: [python, -m, price.train]
  evaluation:
    gates:
      - {metric: rmse, max: 4.5}
  serving:
    runtime: lightgbm
    artifact: "s3://acme-models/price-model/{version}/"
  deployments:
    dev: {version: 0.1.0}
  monitoring:
    slos:
      availability: {objective: 99.5, window: 30d}
    alerts: {route: pricing-oncall}
"""


# --- running git and mlgitops ------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    process = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=False,
    )
    assert process.returncode == 0, f"git {' '.join(args)}: {process.stderr}"
    return process.stdout


def commit_all(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--message", message)
    return git(repo, "rev-parse", "HEAD").strip()


def new_repository(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "-c", "init.defaultBranch=main", "init", "--quiet")
    return path


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def mlgitops(*args: str | Path) -> Run:
    """The real CLI handler, in-process (much faster than a subprocess per call)."""
    from mlgitops.cli import run

    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = run([str(a) for a in args])
    finally:
        gc.enable()  # run() turns the collector off for the (short-lived) process
    return Run(code, out.getvalue(), err.getvalue())


def native_platform(destination: Path) -> Path:
    """The platform example's specs with KServe's native canary (no spec.traffic): these tests are
    about diff, and name the one InferenceService per model that layout has; routed canaries are
    diffed in tests/test_traffic.py."""
    copy_specs(example("platform"), destination)
    edit_yaml(destination / "mlgitops.yaml", lambda data: data["spec"].pop("traffic"))
    return destination


def ok(*args: str | Path) -> str:
    result = mlgitops(*args)
    assert result.code == 0, f"mlgitops {' '.join(map(str, args))}: {result.stdout}{result.stderr}"
    return result.stdout


def diff_json(root: Path, base: str = "HEAD~1") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ok("diff", root, "--base", base, "--format", "json"))
    return document


# --- the history -------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    repo: Path
    commits: dict[str, str]  # step → commit
    worktrees: dict[str, Path]  # step → a worktree checked out at that commit


def retire(path: Path) -> None:
    def change(data: Any) -> None:
        del data["spec"]["deployments"]
        data["spec"]["lifecycle"] = {"stage": "retired", "reason": "replaced by the CRM vendor's model"}

    edit_yaml(path, change)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> History:
    base = tmp_path_factory.mktemp("diff-history")
    repo = new_repository(base / "repo")
    commits = {}
    (repo / "README.md").write_text("an ML platform\n", encoding="utf-8")
    commits["before-project"] = commit_all(repo, "README only: no project yet")
    native_platform(repo)
    ok("compile", repo)
    commits["base"] = commit_all(repo, "the platform example")

    ok("promote", "support-llm", "--to", "prod", "--project", repo)
    ok("compile", repo)
    commits["promotion"] = commit_all(repo, "promote support-llm to prod")

    ok("promote", "fraud-detector", "--to", "prod", "--canary", "20", "--project", repo)
    ok("compile", repo)
    commits["canary"] = commit_all(repo, "more canary traffic for fraud-detector")

    retire(repo / "models" / "churn-model.yaml")
    ok("compile", repo)
    commits["retirement"] = commit_all(repo, "retire churn-model")

    (repo / "models" / "price-model.yaml").write_text(NEW_MODEL, encoding="utf-8")
    ok("compile", repo)
    commits["new-model"] = commit_all(repo, "a new model")

    worktrees = {}
    for step in ("promotion", "canary", "retirement", "new-model"):
        worktrees[step] = base / f"at-{step}"
        git(repo, "worktree", "add", "--quiet", "--detach", str(worktrees[step]), commits[step])
    return History(repo, commits, worktrees)


def committed_changes(repo: Path, base: str, head: str) -> dict[str, tuple[str, str, str]]:
    """path → (status, old text, new text) of every generated file that differs between two commits,
    from the ownership manifests committed with each (the manifest itself is not a generated file)."""

    def generated(commit: str) -> dict[str, str]:
        manifest = json.loads(git(repo, "show", f"{commit}:.mlgitops/manifest.json"))
        return {path: git(repo, "show", f"{commit}:{path}") for path in manifest["files"]}

    old, new = generated(base), generated(head)
    out = {}
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if a != b:
            status = "added" if a is None else "removed" if b is None else "changed"
            out[path] = (status, a or "", b or "")
    return out


def expected_diff(path: str, status: str, a: str, b: str) -> str:
    return "".join(
        difflib.unified_diff(
            a.splitlines(keepends=True),
            b.splitlines(keepends=True),
            fromfile="/dev/null" if status == "added" else f"a/{path}",
            tofile="/dev/null" if status == "removed" else f"b/{path}",
        )
    )


def counts_line(changes: dict[str, tuple[str, str, str]]) -> str:
    n = {s: sum(c[0] == s for c in changes.values()) for s in ("added", "changed", "removed")}
    return f"{n['added']} added, {n['changed']} changed, {n['removed']} removed"


STEPS = ("promotion", "canary", "retirement", "new-model")

EXPECTED_DEPLOYMENTS: dict[str, list[dict[str, Any]]] = {
    "promotion": [
        {
            "model": "support-llm",
            "environment": "prod",
            "status": "changed",
            "before": "1.2.0",
            "after": "1.3.0",
            "details": [],
        }
    ],
    "canary": [
        {
            "model": "fraud-detector",
            "environment": "prod",
            "status": "changed",
            "before": "1.4.2 + canary 1.5.0 at 10%",
            "after": "1.4.2 + canary 1.5.0 at 20%",
            "details": ["traffic 90/10 → 80/20"],
        }
    ],
    "retirement": [
        {
            "model": "churn-model",
            "environment": env,
            "status": "retired",
            "before": "3.1.0",
            "after": None,
            "details": [],
        }
        for env in ("dev", "staging", "prod")
    ],
    "new-model": [
        {
            "model": "price-model",
            "environment": "dev",
            "status": "added",
            "before": None,
            "after": "0.1.0",
            "details": [],
        }
    ],
}

EXPECTED_SUMMARY = {
    "promotion": ["changed   support-llm in prod: 1.2.0 → 1.3.0"],
    "canary": [
        "changed   fraud-detector in prod: 1.4.2 + canary 1.5.0 at 10% → 1.4.2 + canary 1.5.0 at 20% "
        "(traffic 90/10 → 80/20)"
    ],
    "retirement": [
        "retired   churn-model in dev (was 3.1.0)",
        "retired   churn-model in staging (was 3.1.0)",
        "retired   churn-model in prod (was 3.1.0)",
        "retired   model churn-model",
    ],
    "new-model": ["added     price-model in dev: 0.1.0", "new model price-model"],
}

EXPECTED_TABLE_ROW = {
    "promotion": "| `support-llm` | 1.3.0 | 1.3.0 | 1.2.0 → **1.3.0** |",
    "canary": (
        "| `fraud-detector` | 1.5.0 | 1.5.0 | 1.4.2 + canary 1.5.0 at 10% → **1.4.2 + canary 1.5.0 at 20%** |"
    ),
    "retirement": "| `churn-model` | 3.1.0 → **retired** | 3.1.0 → **retired** | 3.1.0 → **retired** |",
    "new-model": "| `price-model` | – → **0.1.0** | – | – |",
}

EXPECTED_MERMAID = {
    "promotion": [
        '  m0e0["support-llm · dev<br/>1.3.0"]',
        '  m0e1["support-llm · staging<br/>1.3.0"]',
        '  m0e2["support-llm · prod<br/>1.2.0 → 1.3.0"]',
    ],
    "canary": [
        '  m0e0["fraud-detector · dev<br/>1.5.0"]',
        '  m0e1["fraud-detector · staging<br/>1.5.0"]',
        '  m0e2["fraud-detector · prod<br/>1.4.2 + canary 1.5.0 at 10% → 1.4.2 + canary 1.5.0 at 20%"]',
    ],
    "retirement": [
        '  m0e0["churn-model · dev<br/>3.1.0 → retired"]',
        '  m0e1["churn-model · staging<br/>3.1.0 → retired"]',
        '  m0e2["churn-model · prod<br/>3.1.0 → retired"]',
    ],
    "new-model": [
        '  m0e0["price-model · dev<br/>– → 0.1.0"]',
        '  m0e1["price-model · staging<br/>–"]',
        '  m0e2["price-model · prod<br/>–"]',
    ],
}

# Files each step must change, whatever else the (growing set of) targets generate.
EXPECTED_FILES = {
    "promotion": {"deploy/prod/support-llm/inferenceservice.yaml": "changed"},
    "canary": {"deploy/prod/fraud-detector/inferenceservice.yaml": "changed"},
    "retirement": {
        "deploy/dev/churn-model/inferenceservice.yaml": "removed",
        "deploy/staging/churn-model/inferenceservice.yaml": "removed",
        "deploy/prod/churn-model/inferenceservice.yaml": "removed",
        ".github/workflows/mlgitops-train-churn-model.yml": "removed",
        ".github/workflows/mlgitops-promote.yml": "changed",
        "deploy/dev/kustomization.yaml": "changed",
        "deploy/staging/kustomization.yaml": "changed",
        "deploy/prod/kustomization.yaml": "changed",
    },
    "new-model": {
        "deploy/dev/price-model/inferenceservice.yaml": "added",
        ".github/workflows/mlgitops-train-price-model.yml": "added",
        ".github/workflows/mlgitops-promote.yml": "changed",
        "deploy/dev/kustomization.yaml": "changed",
    },
}


# --- each step, in each format -----------------------------------------------------------------


@pytest.fixture(scope="module")
def outputs(history: History) -> dict[tuple[str, str], str]:
    """(step, format) → the output of ``diff --base HEAD~1`` in that step's worktree.

    Each step is diffed once and rendered in the three formats (exactly what the command
    prints: :func:`test_the_command_prints_what_is_tested` compares them)."""
    from mlgitops.diffing import diff_project
    from mlgitops.reporters.diff_report import render

    out = {}
    for step in STEPS:
        result = diff_project(history.worktrees[step], "HEAD~1")
        for fmt in ("text", "markdown", "json"):
            out[step, fmt] = render(result, fmt)
    return out


@dataclass(frozen=True)
class Expected:
    """What git says a step changed: generated files, and alerts of the committed PrometheusRules."""

    changes: dict[str, tuple[str, str, str]]
    alerts_added: list[str]
    alerts_removed: list[str]

    @property
    def summary_alerts(self) -> list[str]:
        return [f"alert +   {a}" for a in self.alerts_added] + [f"alert -   {a}" for a in self.alerts_removed]


def committed_alerts(repo: Path, commit: str) -> set[str]:
    """``path: alert (severity)`` of every alerting rule in the PrometheusRules committed at ``commit``;
    a shared burn-rate alert once per model it serves, ``… for <model>``: the models whose SLO of
    the alert's kind (its ``slo="…"`` matcher) has a term in ``mlgitops_slo:alert:info``."""
    manifest = json.loads(git(repo, "show", f"{commit}:.mlgitops/manifest.json"))
    found = set()
    for path in manifest["files"]:
        if not path.endswith((".yaml", ".yml")):
            continue
        for document in yaml.safe_load_all(git(repo, "show", f"{commit}:{path}")):
            if isinstance(document, dict) and document.get("kind") == "PrometheusRule":
                rules = [rule for group in document["spec"]["groups"] for rule in group["rules"]]
                served: dict[str, set[str]] = {}
                for rule in rules:
                    if rule.get("record") == "mlgitops_slo:alert:info":
                        for _, labels in packed_series.series(rule["expr"]):
                            served.setdefault(labels["slo"], set()).add(labels["model"])
                for rule in rules:
                    if "alert" in rule:
                        severity = rule.get("labels", {}).get("severity")
                        key = f"{path}: {rule['alert']}" + (f" ({severity})" if severity else "")
                        shared = re.search(r'mlgitops_slo:alert:info\{[^}]*slo="(\w+)"', rule["expr"])
                        if shared:
                            found.update(f"{key} for {model}" for model in served.get(shared[1], ()))
                        else:
                            found.add(key)
    return found


@pytest.fixture(scope="module")
def expected(history: History) -> dict[str, Expected]:
    out = {}
    for step in STEPS:
        head = history.commits[step]
        parent = git(history.repo, "rev-parse", f"{head}~1").strip()
        old, new = committed_alerts(history.repo, parent), committed_alerts(history.repo, head)
        out[step] = Expected(
            committed_changes(history.repo, parent, head), sorted(new - old), sorted(old - new)
        )
    return out


def test_the_command_prints_what_is_tested(history: History, outputs: dict[tuple[str, str], str]) -> None:
    for fmt in ("text", "markdown", "json"):
        printed = ok("diff", history.worktrees["retirement"], "--base", "HEAD~1", "--format", fmt)
        assert printed == outputs["retirement", fmt], fmt


@pytest.mark.parametrize("step", STEPS)
def test_json(outputs: dict[tuple[str, str], str], expected: dict[str, Expected], step: str) -> None:
    document = json.loads(outputs[step, "json"])
    changes = expected[step].changes

    assert document["base"] == "HEAD~1"
    assert document["environments"] == ["dev", "staging", "prod"]
    assert document["deployments"] == EXPECTED_DEPLOYMENTS[step]
    assert document["newModels"] == (["price-model"] if step == "new-model" else [])
    assert document["retired"] == (["churn-model"] if step == "retirement" else [])
    # Exactly the generated files that changed between the two commits, with git's view of them.
    files = {f["path"]: f for f in document["files"]}
    assert [f["path"] for f in document["files"]] == sorted(files)
    assert {path: f["status"] for path, f in files.items()} == {p: c[0] for p, c in changes.items()}
    for path, (status, a, b) in changes.items():
        assert files[path]["diff"] == expected_diff(path, status, a, b), path
    for path, status in EXPECTED_FILES[step].items():
        assert files[path]["status"] == status, path
    # alerts: those of the PrometheusRules committed with each side
    assert document["alerts"] == {
        "added": expected[step].alerts_added,
        "removed": expected[step].alerts_removed,
    }


def test_json_file_diffs_show_the_change(outputs: dict[tuple[str, str], str]) -> None:
    files = {f["path"]: f["diff"] for f in json.loads(outputs["promotion", "json"])["files"]}
    shown = files["deploy/prod/support-llm/inferenceservice.yaml"]
    assert '-      storageUri: "s3://acme-models/support-llm/1.2.0/"' in shown
    assert '+      storageUri: "s3://acme-models/support-llm/1.3.0/"' in shown
    canary = {f["path"]: f["diff"] for f in json.loads(outputs["canary", "json"])["files"]}
    shown = canary["deploy/prod/fraud-detector/inferenceservice.yaml"]
    assert "-    canaryTrafficPercent: 10\n" in shown
    assert "+    canaryTrafficPercent: 20\n" in shown
    added = {f["path"]: f for f in json.loads(outputs["new-model", "json"])["files"]}
    new_isvc = added["deploy/dev/price-model/inferenceservice.yaml"]["diff"]
    assert new_isvc.startswith("--- /dev/null\n+++ b/deploy/dev/price-model/inferenceservice.yaml\n")
    assert all(line.startswith(("+", "@@", "---")) for line in new_isvc.splitlines())


@pytest.mark.parametrize("step", STEPS)
def test_text(outputs: dict[tuple[str, str], str], expected: dict[str, Expected], step: str) -> None:
    text = outputs[step, "text"]
    changes = expected[step].changes
    summary = EXPECTED_SUMMARY[step] + expected[step].summary_alerts
    head = text.split("\n")[: len(summary) + 2]
    assert head == [
        f"against HEAD~1: {counts_line(changes)} generated files",
        *summary,
        "",
    ]
    # then every file's unified diff, in path order
    body = "\n".join(text.split("\n")[len(summary) + 2 :])
    diffs = "\n".join(expected_diff(p, *c).rstrip("\n") for p, c in changes.items()) + "\n"
    assert body == diffs


@pytest.mark.parametrize("step", STEPS)
def test_markdown(outputs: dict[tuple[str, str], str], expected: dict[str, Expected], step: str) -> None:
    markdown = outputs[step, "markdown"]
    changes = expected[step].changes
    lines = markdown.split("\n")
    assert lines[0] == "### mlgitops: what this change does (against `HEAD~1`)"
    # the version table, before → after per environment
    assert lines[2:6] == [
        "| model | dev | staging | prod |",
        "|---|---|---|---|",
        EXPECTED_TABLE_ROW[step],
        "",
    ]
    # the promotion path as a mermaid flowchart
    assert lines[6:8] == ["```mermaid", "flowchart LR"]
    assert lines[8:13] == [*EXPECTED_MERMAID[step], "  m0e0 --> m0e1 --> m0e2", "```"]
    # the summary as a list, then the counts
    bullets = [f"- {line.strip()}" for line in EXPECTED_SUMMARY[step] + expected[step].summary_alerts]
    assert lines[14 : 14 + len(bullets) + 3] == [
        *bullets,
        "",
        f"**Generated files:** {counts_line(changes)}",
        "",
    ]
    # one folded <details> per file, with the diff inside a ```diff fence
    blocks = re.findall(
        r"<details><summary><code>(.+?)</code> \((added|changed|removed)\)</summary>\n\n```diff\n"
        r"(.*?)\n```\n</details>\n",
        markdown,
        flags=re.DOTALL,
    )
    assert [(path, status) for path, status, _ in blocks] == [(p, c[0]) for p, c in changes.items()]
    for path, _, shown in blocks:
        status, a, b = changes[path]
        assert shown == expected_diff(path, status, a, b).rstrip("\n")
    assert markdown.count("<details>") == len(changes)
    assert markdown.endswith("</details>\n")


def test_markdown_table_covers_only_models_whose_versions_changed(
    outputs: dict[tuple[str, str], str],
) -> None:
    for step in STEPS:
        rows = [line for line in outputs[step, "markdown"].split("\n") if line.startswith("| `")]
        assert rows == [EXPECTED_TABLE_ROW[step]], step


# --- no change, --exit-code, several models --------------------------------------------------


def test_no_change_and_exit_code(history: History) -> None:
    from mlgitops.diffing import diff_project
    from mlgitops.reporters.diff_report import render

    root = history.worktrees["new-model"]
    same = mlgitops("diff", root, "--base", "HEAD", "--exit-code")
    assert (same.code, same.stdout, same.stderr) == (0, "no change to the generated files against HEAD\n", "")
    empty = diff_project(root, "HEAD")
    assert render(empty, "markdown") == (
        "### mlgitops: what this change does (against `HEAD`)\n\nNo change to the generated files.\n"
    )
    document = json.loads(render(empty, "json"))
    assert (document["deployments"], document["files"], document["newModels"], document["retired"]) == (
        [],
        [],
        [],
        [],
    )
    assert document["alerts"] == {"added": [], "removed": []}

    changed = mlgitops("diff", root, "--base", "HEAD~1", "--exit-code")
    assert changed.code == 1
    assert changed.stdout.startswith("against HEAD~1: ")
    assert changed.stderr == ""
    # without --exit-code a difference exits 0: see test_the_command_prints_what_is_tested


def test_several_commits_at_once(history: History) -> None:
    """Against the base commit, the new-model worktree shows all four changes together."""
    document = diff_json(history.worktrees["new-model"], history.commits["base"])
    by_model = {(d["model"], d["environment"]): d for d in document["deployments"]}
    assert set(by_model) == {
        ("support-llm", "prod"),
        ("fraud-detector", "prod"),
        ("churn-model", "dev"),
        ("churn-model", "staging"),
        ("churn-model", "prod"),
        ("price-model", "dev"),
    }
    # sorted by model, then environment in promotion order
    assert [(d["model"], d["environment"]) for d in document["deployments"]] == [
        ("churn-model", "dev"),
        ("churn-model", "staging"),
        ("churn-model", "prod"),
        ("fraud-detector", "prod"),
        ("price-model", "dev"),
        ("support-llm", "prod"),
    ]
    assert (document["newModels"], document["retired"]) == (["price-model"], ["churn-model"])
    markdown = ok(
        "diff", history.worktrees["new-model"], "--base", history.commits["base"], "--format", "markdown"
    )
    rows = [line for line in markdown.split("\n") if line.startswith("| `")]
    assert [row.split(" | ")[0] for row in rows] == [
        "| `churn-model`",
        "| `fraud-detector`",
        "| `price-model`",
        "| `support-llm`",
    ]
    # one chain of nodes per model in the mermaid diagram
    assert [line.strip() for line in markdown.split("\n") if "-->" in line] == [
        f"m{i}e0 --> m{i}e1 --> m{i}e2" for i in range(4)
    ]


def test_uncommitted_work_is_what_is_compared(history: History, tmp_path: Path) -> None:
    """The head side is the working tree, committed or not."""
    root = tmp_path / "wt"
    git(history.repo, "worktree", "add", "--quiet", "--detach", str(root), history.commits["new-model"])
    ok("promote", "price-model", "--to", "staging", "--project", root)  # not committed, not compiled
    document = diff_json(root, "HEAD")
    assert document["deployments"] == [
        {
            "model": "price-model",
            "environment": "staging",
            "status": "added",
            "before": None,
            "after": "0.1.0",
            "details": [],
        }
    ]
    assert {f["path"]: f["status"] for f in document["files"]}[
        "deploy/staging/price-model/inferenceservice.yaml"
    ] == ("added")


def test_replica_and_resource_changes_are_detailed(history: History, tmp_path: Path) -> None:
    root = tmp_path / "wt"
    git(history.repo, "worktree", "add", "--quiet", "--detach", str(root), history.commits["new-model"])

    def change(data: Any) -> None:
        prod = data["spec"]["deployments"]["prod"]
        prod["autoscaling"] = {"minReplicas": 4, "maxReplicas": 20}
        prod["resources"] = {"cpu": "3", "memory": "4Gi"}

    edit_yaml(root / "models" / "fraud-detector.yaml", change)
    document = diff_json(root, "HEAD")
    assert document["deployments"] == [
        {
            "model": "fraud-detector",
            "environment": "prod",
            "status": "changed",
            "before": "1.4.2 + canary 1.5.0 at 20%",
            "after": "1.4.2 + canary 1.5.0 at 20%",
            "details": ["replicas 3–20 → 4–20", "cpu 2 → 3"],
        }
    ]
    text = ok("diff", root, "--base", "HEAD")
    assert (
        "changed   fraud-detector in prod: 1.4.2 + canary 1.5.0 at 20% (replicas 3–20 → 4–20; cpu 2 → 3)"
        in (text.split("\n"))
    )
    # the version did not change: no table, no mermaid diagram
    markdown = ok("diff", root, "--base", "HEAD", "--format", "markdown")
    assert "| model |" not in markdown
    assert "```mermaid" not in markdown
    bullet = (
        "- changed   fraud-detector in prod: 1.4.2 + canary 1.5.0 at 20% (replicas 3–20 → 4–20; cpu 2 → 3)"
    )
    assert bullet in markdown.split("\n")


# --- alerts ------------------------------------------------------------------------------------


def test_slo_changes_show_the_alerts_they_add_and_remove(history: History, tmp_path: Path) -> None:
    """A new latency SLO adds the model's latency alerts; dropping an SLO removes its alerts."""
    root = tmp_path / "wt"
    git(history.repo, "worktree", "add", "--quiet", "--detach", str(root), history.commits["new-model"])
    before = committed_alerts(history.repo, history.commits["new-model"])
    assert any(alert.endswith(" for price-model") for alert in before), "price-model has no alerts"

    def add_latency_slo(data: Any) -> None:
        data["spec"]["monitoring"]["slos"]["latency"] = {
            "objective": 99,
            "threshold": "300ms",
            "window": "30d",
        }

    def drop_availability_slo(data: Any) -> None:
        del data["spec"]["monitoring"]["slos"]["availability"]

    edit_yaml(root / "models" / "price-model.yaml", add_latency_slo)
    edit_yaml(root / "models" / "fraud-detector.yaml", drop_availability_slo)
    document = diff_json(root, "HEAD")
    ok("compile", root)
    commit_all(root, "SLO changes")
    after = committed_alerts(root, "HEAD")  # the worktree's new commit
    # exactly the difference between the rules compile writes for each side
    assert document["alerts"] == {"added": sorted(after - before), "removed": sorted(before - after)}
    assert any(
        "ModelLatencyFastBurn" in alert and alert.endswith(" for price-model")
        for alert in document["alerts"]["added"]
    ), "a new latency SLO must add the model's latency alerts"
    assert any(
        "ModelAvailability" in alert and "fraud-detector" in alert for alert in document["alerts"]["removed"]
    )
    assert document["alerts"]["removed"], "dropping an SLO must remove alerts"
    assert all(
        "/price-model/" in alert or alert.endswith(" for price-model")
        for alert in document["alerts"]["added"]
    )
    assert all(
        "/fraud-detector/" in alert or alert.endswith(" for fraud-detector")
        for alert in document["alerts"]["removed"]
    )
    text = ok("diff", root, "--base", "HEAD~1").split("\n")
    assert [line for line in text if line.startswith("alert")] == [
        *(f"alert +   {alert}" for alert in document["alerts"]["added"]),
        *(f"alert -   {alert}" for alert in document["alerts"]["removed"]),
    ]


def _reference_project() -> ir.Project:
    compiled = generate_files(example("platform"))
    assert compiled.ok and compiled.project is not None, compiled.diagnostics
    return compiled.project


def test_shared_alerts_serve_the_models_of_their_kind() -> None:
    """A shared burn-rate alert names each model it serves, as the metadata series the committed
    rules carry say (read with tests/packed_series.py, independently of diff)."""
    from mlgitops.diffing import _alerts

    compiled = generate_files(example("platform"))
    assert compiled.ok and compiled.project is not None
    shared = [f for f in compiled.files if re.search(r"/prometheusrule-slo-[^/]*\.yaml$", f.path)]
    assert shared
    rules_of = {
        output.path: [
            rule
            for doc in yaml.safe_load_all(output.content)
            for group in doc["spec"]["groups"]
            for rule in group["rules"]
        ]
        for output in shared
    }
    # an environment's metadata series and its alerts may sit in different objects
    served: dict[tuple[str, str], set[str]] = {}
    for path, rules in rules_of.items():
        for rule in rules:
            if rule.get("record") == "mlgitops_slo:alert:info":
                for _, labels in packed_series.series(rule["expr"]):
                    served.setdefault((path.rsplit("/", 1)[0], labels["slo"]), set()).add(labels["model"])
    expected = set()
    for path, rules in rules_of.items():
        for rule in rules:
            if "alert" in rule:
                key = f"{path}: {rule['alert']} ({rule['labels']['severity']})"
                kind = re.search(r'mlgitops_slo:alert:info\{[^}]*slo="(\w+)"', rule["expr"])
                if kind:
                    models = served.get((path.rsplit("/", 1)[0], kind[1]), ())
                    expected.update(f"{key} for {model}" for model in models)
                else:
                    expected.add(key)
    assert any(" for " in alert for alert in expected)
    assert _alerts(shared, compiled.project) == expected


def test_alerts_are_found_by_kind_and_severity() -> None:
    from mlgitops.diffing import _alerts
    from mlgitops.targets.base import OutputFile

    rule = """\
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: m}
spec:
  groups:
    - name: slo
      rules:
        - {record: "m:error_ratio:rate5m", expr: "0"}
        - {alert: MErrorBudgetBurn, expr: "1", labels: {severity: page}}
        - {alert: MErrorBudgetBurn, expr: "1", labels: {severity: ticket}}
        - {alert: MDown, expr: "1"}
"""
    found = _alerts(
        [
            OutputFile("deploy/prod/m/alerts.yaml", rule, "models/m.yaml", "prod"),
            OutputFile("deploy/prod/m/other.yaml", "kind: ConfigMap\nPrometheusRule: no\n", "models/m.yaml"),
        ],
        _reference_project(),
    )
    assert found == {
        "deploy/prod/m/alerts.yaml: MErrorBudgetBurn (page)",
        "deploy/prod/m/alerts.yaml: MErrorBudgetBurn (ticket)",
        "deploy/prod/m/alerts.yaml: MDown",
    }


# --- the work tree and the index are not touched ----------------------------------------------


def test_diff_touches_neither_the_work_tree_nor_the_index(history: History, tmp_path: Path) -> None:
    root = tmp_path / "wt"
    git(history.repo, "worktree", "add", "--quiet", "--detach", str(root), history.commits["new-model"])
    # staged and unstaged changes, and an untracked file
    ok("promote", "price-model", "--to", "staging", "--project", root)
    git(root, "add", "models/price-model.yaml")
    (root / "notes.txt").write_text("untracked\n", encoding="utf-8")
    (root / "README.md").write_text("changed, not staged\n", encoding="utf-8")

    status = git(root, "status", "--porcelain=v1", "--untracked-files=all")  # may refresh the index
    index = Path(git(root, "rev-parse", "--git-path", "index").strip())
    index = index if index.is_absolute() else root / index
    index_before = (index.read_bytes(), index.stat().st_mtime_ns)
    files_before = {p: c for p, c in tree(root, scratch=True).items() if not _in_git_dir(p)}
    head_before = git(root, "rev-parse", "HEAD")
    refs_before = git(history.repo, "for-each-ref")

    assert mlgitops("diff", root, "--base", "HEAD~2", "--format", "markdown").code == 0

    assert (index.read_bytes(), index.stat().st_mtime_ns) == index_before
    assert {p: c for p, c in tree(root, scratch=True).items() if not _in_git_dir(p)} == files_before
    assert git(root, "rev-parse", "HEAD") == head_before
    assert git(history.repo, "for-each-ref") == refs_before
    assert git(root, "status", "--porcelain=v1", "--untracked-files=all") == status
    assert status  # the test really had a dirty tree to protect


def _in_git_dir(path: str) -> bool:
    return path == ".git" or path.startswith(".git/")


# --- errors ------------------------------------------------------------------------------------


def test_a_ref_that_does_not_exist(history: History) -> None:
    result = mlgitops("diff", history.repo, "--base", "no-such-branch")
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr == (
        "error: git revision 'no-such-branch' does not exist here "
        "(in CI, fetch it first: git fetch origin no-such-branch)\n"
    )
    # something that looks like an option is never passed to git as one
    dashed = mlgitops("diff", history.repo, "--base=--all")
    assert dashed.code == 1
    assert "git revision '--all' does not exist" in dashed.stderr


def test_a_ref_where_the_project_did_not_exist(history: History) -> None:
    result = mlgitops("diff", history.repo, "--base", history.commits["before-project"])
    assert result.code == 1
    assert result.stdout == ""
    before = history.commits["before-project"]
    assert result.stderr == (
        f"error: the project did not exist at {before!r}: no mlgitops.yaml in the repository root\n"
    )


def test_outside_a_git_repository(tmp_path: Path) -> None:
    root = copy_specs(example("platform"), tmp_path / "not-a-repo")
    result = mlgitops("diff", root, "--base", "HEAD")
    assert result.code == 1
    assert result.stderr == f"error: {root} is not inside a git repository; 'diff' compares git revisions\n"


def test_a_project_with_errors_is_not_diffed(history: History, tmp_path: Path) -> None:
    root = tmp_path / "wt"
    git(history.repo, "worktree", "add", "--quiet", "--detach", str(root), history.commits["new-model"])
    spec = root / "models" / "price-model.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("runtime: lightgbm", "runtime: lightgbmx"))
    result = mlgitops("diff", root, "--base", "HEAD")
    assert result.code == 1
    assert result.stderr.startswith("error: the project has errors; fix them before diffing\n")
    assert "models/price-model.yaml" in result.stderr


# --- a project in a subdirectory of the repository ---------------------------------------------


def test_a_project_in_a_subdirectory(tmp_path: Path) -> None:
    repo = new_repository(tmp_path / "mono")
    (repo / "src").mkdir()
    (repo / "src" / "app.py").write_text("print('not a spec')\n", encoding="utf-8")
    (repo / "deploy").mkdir()  # a top-level deploy/ that is not the project's
    (repo / "deploy" / "other.yaml").write_text("kind: Other\n", encoding="utf-8")
    first = commit_all(repo, "an application")
    project = as_subproject(native_platform(repo / "ml" / "platform"))
    ok("compile", project)
    commit_all(repo, "the ML platform")
    application = (project / "deploy/gitops/argocd/prod.yaml").read_text(encoding="utf-8")
    assert "path: ml/platform/deploy/prod" in application

    ok("promote", "support-llm", "--to", "prod", "--project", project)
    # both sides know where the project sits: only the promoted model's service changes
    document = diff_json(project, "HEAD")
    assert document["deployments"] == EXPECTED_DEPLOYMENTS["promotion"]
    assert [(f["path"], f["status"]) for f in document["files"]] == [
        ("deploy/prod/support-llm/inferenceservice.yaml", "changed")
    ]
    # the project given as its mlgitops.yaml, from another working directory
    assert diff_json(project / "mlgitops.yaml", "HEAD") == document

    missing = mlgitops("diff", project, "--base", first)
    assert missing.code == 1
    assert (
        missing.stderr == f"error: the project did not exist at {first!r}: no mlgitops.yaml in ml/platform\n"
    )


def test_a_project_with_errors_and_a_base_without_the_project(history: History, tmp_path: Path) -> None:
    """The base is read from git while the head validates: the head's errors still come first."""
    root = tmp_path / "wt"
    git(history.repo, "worktree", "add", "--quiet", "--detach", str(root), history.commits["new-model"])
    spec = root / "models" / "price-model.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("runtime: lightgbm", "runtime: lightgbmx"))
    result = mlgitops("diff", root, "--base", history.commits["before-project"])
    assert result.code == 1
    assert result.stderr.startswith("error: the project has errors; fix them before diffing\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_base_is_read_in_a_niced_worker(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    """With a second core, git's objects are read in a worker (at a lower priority, so that it
    takes the core the head's validation leaves idle); with one, in this process, whose priority
    stays what it was."""
    from mlgitops import diffing

    seen = tmp_path / "materialized"
    original = diffing.materialize

    def recorded(repo: Any, ref: str, destination: Path) -> None:
        seen.write_text(f"{os.getpid()} {os.nice(0)}", encoding="utf-8")
        original(repo, ref, destination)

    monkeypatch.setattr(diffing, "materialize", recorded)
    monkeypatch.setenv("MLGITOPS_JOBS", jobs)
    before = os.nice(0)
    document = diff_json(history.worktrees["new-model"], history.commits["base"])
    assert document["deployments"]  # the diff itself is what it always is (tests above)
    pid, niceness = map(int, seen.read_text(encoding="utf-8").split())
    assert os.nice(0) == before
    if jobs == "1":
        assert (pid, niceness) == (os.getpid(), before)
    else:
        assert pid != os.getpid()
        assert niceness == min(before + 10, 19)


def test_git_is_required(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(history.repo / "no-such-dir"))
    result = mlgitops("diff", history.repo, "--base", "HEAD")
    assert result.code == 1
    assert "git is not installed" in result.stderr


# --- reusing the head's rendering for unchanged models -----------------------------------------


def test_diff_renders_only_the_models_that_differ_between_the_revisions(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other models' files are the same on both sides: only their paths are worked out (for
    the kustomizations), none of their templates rendered, with no render cache (a fresh clone)."""
    import mlgitops.compile
    from mlgitops.diffing import diff_project

    rendered: list[str] = []
    outlined: list[str] = []
    original = mlgitops.compile._render_models

    def counting(project: Any, context: Any, names: list[str], keep: Any, digest: bool, models: Any) -> Any:
        outline = isinstance(context(), mlgitops.compile.Outline)
        (outlined if outline else rendered).extend(m.name for m in models)
        return original(project, context, names, keep, digest, models)

    monkeypatch.setattr(mlgitops.compile, "_render_models", counting)
    monkeypatch.setenv("MLGITOPS_JOBS", "1")  # both sides in this process, where they are counted
    result = diff_project(history.worktrees["canary"], "HEAD~1")
    assert sorted(rendered) == ["fraud-detector", "fraud-detector"]  # head and base, that model alone
    assert sorted(set(outlined)) == ["churn-model", "support-llm"]
    assert {f.path.split("/")[2] for f in result.files if f.path.count("/") >= 3} == {"fraud-detector"}


@pytest.mark.parametrize("name", ["quickstart", "platform", "gitlab-flux-k8s", "synthetic"])
def test_an_outline_gives_every_model_the_paths_its_rendering_has(name: str, tmp_path: Path) -> None:
    """What ``diff`` relies on for the models the same on both sides: the outline's files (the
    monitoring rule files too, which it does not render) are exactly the rendered ones' paths."""
    import sys

    from mlgitops.compile import generate
    from mlgitops.pipeline import validate_project

    if name == "synthetic":  # every feature, and SLOs and drift rules in many combinations
        generator = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
        subprocess.run([sys.executable, str(generator), "12", str(tmp_path)], check=True, capture_output=True)
        root = tmp_path
    else:
        root = example(name)
    validation = validate_project(root)
    assert validation.resolved is not None and validation.root is not None
    rendered = generate(validation.resolved, validation.root, "")
    assert rendered.project is not None
    names = {m.name for m in rendered.project.models}
    outlined = generate(validation.resolved, validation.root, "", outline=names)
    assert [f.path for f in outlined.files] == [f.path for f in rendered.files]
    per_model = {f.path for files in outlined.by_model.values() for f in files}
    if name == "synthetic":  # SLOs with their own alerting: the only per-model rule files
        assert any(path.endswith(("prometheusrule.yaml", ".rules.yml")) for path in per_model)
    assert {f.content for f in outlined.files if f.path in per_model and f.path.endswith(".yaml")} == {""}
    # the model directories' kustomizations too: they list those files and depend on the model alone
    directories = {f.path.rpartition("/")[0] for f in rendered.files if f.path in per_model and f.environment}
    model_kustomizations = {f"{d}/kustomization.yaml" for d in directories}
    assert model_kustomizations
    assert {f.content for f in outlined.files if f.path in model_kustomizations} == {""}
    assert all(f.content for f in rendered.files if f.path in model_kustomizations)
    kustomizations = {f.path for f in outlined.files if f.path.endswith("kustomization.yaml")}
    environments = kustomizations - model_kustomizations
    assert all(f.content for f in outlined.files if f.path in environments)  # these list the models


def test_the_base_loads_only_the_model_files_the_change_touched(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A base file with the head's name and bytes was loaded and schema-checked cleanly by the
    head's validation: it is taken as it is (validate/specfiles.py KnownModels)."""
    from mlgitops.diffing import diff_project
    from mlgitops.validate import specfiles

    loaded: list[list[str]] = []
    original = specfiles.model_files

    def counting(files: Any, overlay: Any, paths: Any, *, share: bool = True) -> Any:
        loaded.append(sorted(p.name for p in paths))
        return original(files, overlay, paths, share=share)

    monkeypatch.setattr(specfiles, "model_files", counting)
    before = diff_project(history.worktrees["canary"], "HEAD~1")
    head, base = loaded
    assert len(head) > 1 and base == ["fraud-detector.yaml"]
    monkeypatch.setattr(specfiles, "model_files", original)
    assert diff_project(history.worktrees["canary"], "HEAD~1") == before
