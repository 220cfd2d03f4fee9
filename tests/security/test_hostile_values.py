"""Issue 10: spec values that used to pass validation and break later, and values aimed at the
template engines and terminals downstream — each committed, cloned fresh and compiled.

A value that would break later stops ``compile`` with a located error and changes nothing; a
value aimed at a downstream engine compiles, and the engine never sees it as syntax."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile import hostile_clone, snapshot

from compile_helpers import edit_yaml
from conftest import run_mlgitops

MODEL = "models/iris-classifier.yaml"
PROJECT = "mlgitops.yaml"


def model_edit(change: Callable[[Any], None]) -> Callable[[Path, Path], None]:
    return lambda origin, home: edit_yaml(origin / MODEL, change)


def project_edit(change: Callable[[Any], None]) -> Callable[[Path, Path], None]:
    return lambda origin, home: edit_yaml(origin / PROJECT, change)


def set_path(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def raw_model_line(old: str, new: str) -> Callable[[Path, Path], None]:
    """Edit the spec's text (for YAML that a dump would not write: .nan, escapes)."""

    def plant(origin: Path, home: Path) -> None:
        text = (origin / MODEL).read_text(encoding="utf-8")
        assert old in text
        (origin / MODEL).write_text(text.replace(old, new, 1), encoding="utf-8")

    return plant


BREAKS_LATER = {
    "a NaN gate": (raw_model_line("{metric: accuracy, min: 0.9}", "{metric: accuracy, min: .nan}"), "MLG208"),
    "an infinite gate": (
        raw_model_line("{metric: accuracy, min: 0.9}", "{metric: accuracy, max: .inf}"),
        "MLG208",
    ),
    "an infinite autoscaling target": (
        raw_model_line(
            "autoscaling: {minReplicas: 1, maxReplicas: 4}", "autoscaling: {maxReplicas: 4, target: .inf}"
        ),
        "MLG208",
    ),
    "a selector Prometheus rejects": (
        model_edit(
            lambda d: set_path(
                d,
                ("spec", "monitoring", "metrics"),
                {
                    "requests": 'http_requests_total{path=~"/p(?=v1)"}',
                    "errors": 'http_requests_total{code=~"5.."}',
                },
            )
        ),
        "MLG209",
    ),
    "a 900 KB description": (
        model_edit(lambda d: set_path(d, ("metadata", "description"), "x" * 900_000)),
        "MLG326",
    ),
    "two environments in one namespace": (
        project_edit(lambda d: set_path(d, ("spec", "environments", 1, "namespace"), "ml-dev")),
        "MLG328",
    ),
    "output inside .mlgitops": (
        project_edit(lambda d: set_path(d, ("spec", "output"), {"path": ".mlgitops"})),
        "MLG329",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS_LATER))
def test_a_value_that_would_break_later_stops_the_compile(tmp_path: Path, case: str) -> None:
    plant, code = BREAKS_LATER[case]
    clone = hostile_clone(tmp_path, plant)
    before = snapshot(clone.root)
    run = clone.compile()
    assert run.returncode == 1, run.stdout + run.stderr
    assert code in run.stdout
    assert "internal error" not in run.stderr
    clone.assert_home_untouched()
    after = {k: v for k, v in snapshot(clone.root).items() if k != ".mlgitops/lock"}
    assert after == {k: v for k, v in before.items() if k != ".mlgitops/lock"}


def test_argo_cd_applicationset_never_parses_spec_text_as_a_go_template(tmp_path: Path) -> None:
    repository = "https://github.com/acme/{{.metadata.name}}.git"

    def plant(origin: Path, home: Path) -> None:
        edit_yaml(origin / PROJECT, lambda d: set_path(d, ("spec", "repository"), repository))
        edit_yaml(origin / PROJECT, lambda d: set_path(d, ("spec", "argocd"), {"applicationSet": True}))
        edit_yaml(origin / PROJECT, lambda d: set_path(d, ("spec", "revision"), "release/{{.env}}"))

    clone = hostile_clone(tmp_path, plant)
    run = clone.compile()
    assert run.returncode == 0, run.stdout + run.stderr
    documents = list(
        yaml.safe_load_all((clone.root / "deploy/gitops/argocd/applicationset.yaml").read_text())
    )
    appset = next(d for d in documents if d and d.get("kind") == "ApplicationSet")
    template = json.dumps(appset["spec"]["template"])
    assert repository not in template and "release/{{.env}}" not in template, (
        "spec text inside the Go template"
    )
    elements = appset["spec"]["generators"][0]["list"]["elements"]
    assert {e["repoURL"] for e in elements} == {repository}
    assert {e["revision"] for e in elements} == {"release/{{.env}}"}


def test_grafana_never_interpolates_spec_text(tmp_path: Path) -> None:
    runbook = "https://runbooks.acme.internal/${__user.login}/$__all/[[x]]"
    runbook_edit = model_edit(lambda d: set_path(d, ("spec", "monitoring", "alerts", "runbookUrl"), runbook))

    def edit(origin: Path, home: Path) -> None:
        runbook_edit(origin, home)
        edit_yaml(origin / PROJECT, lambda d: set_path(d, ("spec", "grafana"), {"perModelDashboards": True}))

    clone = hostile_clone(tmp_path, edit)
    run = clone.compile()
    assert run.returncode == 0, run.stdout + run.stderr
    dashboard = (clone.root / "deploy/dashboards/models/iris-classifier.json").read_text(encoding="utf-8")
    assert "Runbook" in dashboard
    for variable in ("${__user.login}", "$__all", "[[x]]"):
        assert variable not in dashboard


def test_escape_sequences_in_a_spec_never_reach_the_terminal(tmp_path: Path) -> None:
    clone = hostile_clone(
        tmp_path,
        raw_model_line(
            "description: Classifies iris flowers; the smallest complete mlgitops model.",
            'description: "\\e]0;pwned\\a\\e[2J"\n  labels: {"\\e[31mteam": x}',
        ),
    )
    for command in (["validate", str(clone.root)], ["compile", str(clone.root)]):
        run = run_mlgitops(command)
        assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr
        assert run.returncode == 1 and "\\x1b" in run.stdout
