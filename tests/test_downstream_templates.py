"""Spec values reach template engines downstream of mlgitops as text, never as templates.

* Argo CD renders an ApplicationSet's template with Go's text/template (``goTemplate: true``):
  the strings of ``spec.template`` are parsed, a generator element's values are substituted
  without being parsed.  So every spec value travels in the elements.
* Grafana interpolates ``$var``, ``${var}`` and ``[[var]]`` in queries and links: spec text in
  a PromQL string spells ``$`` as ``\\x24``, in a URL as ``%24``.
* Kubernetes limits annotations (256 KiB per object) and label values (63 characters):
  a spec at the validation limits compiles to objects within them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import compile_clean, copy_specs, edit_yaml, example, kustomize_build
from conftest import require_tool
from mlgitops.pipeline import generate_files, validate_project
from mlgitops.validate.k8slimits import KUBERNETES_ANNOTATIONS_MAX, SPEC_ANNOTATIONS_MAX

HOSTILE = ("$__all", "${__user.login}", "[[x]]")
_GO_ACTION = re.compile(r"\{\{(.*?)\}\}")


def _quickstart(tmp_path: Path) -> Path:
    return copy_specs(example("quickstart"), tmp_path / "quickstart")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _go_template(text: str, element: dict[str, str]) -> str:
    """Argo CD's rendering of one template string for one element (``missingkey=error``):
    every action of the strings we generate is a plain ``{{.name}}`` reference."""

    def action(found: re.Match[str]) -> str:
        reference = found.group(1).strip()
        assert re.fullmatch(r"\.[A-Za-z_][A-Za-z0-9_]*", reference), f"not a field reference: {found.group()}"
        return element[reference[1:]]  # a KeyError is Argo CD's missingkey=error

    return _GO_ACTION.sub(action, text)


def _rendered(node: Any, element: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: _rendered(value, element) for key, value in node.items()}
    if isinstance(node, list):
        return [_rendered(value, element) for value in node]
    return _go_template(node, element) if isinstance(node, str) else node


def test_applicationset_keeps_spec_values_out_of_the_go_template(tmp_path: Path) -> None:
    root = _quickstart(tmp_path)
    repository = "https://github.com/acme/{{.name}}.git"
    revision = "release-{{ .env }}-{{"

    def change(project: Any) -> None:
        project["spec"]["argocd"] = {"applicationSet": True}
        project["spec"]["repository"] = repository
        project["spec"]["revision"] = revision

    edit_yaml(root / "mlgitops.yaml", change)
    result = generate_files(root)
    assert result.ok, [d.message for d in result.diagnostics]
    (appset,) = [f for f in result.files if f.path.endswith("applicationset.yaml")]
    data = yaml.safe_load(appset.content)
    assert data["spec"]["goTemplate"] is True
    elements = data["spec"]["generators"][0]["list"]["elements"]
    assert [e["env"] for e in elements] == ["dev", "staging", "prod"]
    for text in _strings(data["spec"]["template"]):
        assert repository not in text and revision not in text
    for element in elements:
        application = _rendered(data["spec"]["template"], element)
        assert application["spec"]["source"]["repoURL"] == repository
        assert application["spec"]["source"]["targetRevision"] == revision
        assert application["spec"]["destination"]["namespace"] == f"ml-{element['env']}"
        assert application["metadata"]["name"] == f"quickstart-{element['env']}"


def _own_references(text: str) -> str:
    """The dashboard's own variable references, which Grafana is meant to interpolate."""
    for reference in ("$environment", "$model", "$slo", "$namespace", "${datasource}"):
        text = text.replace(reference, "")
    return text


def test_grafana_does_not_interpolate_spec_text(tmp_path: Path) -> None:
    """The runbook URL reaches the per-model dashboards' link; a spec selector reaches no
    dashboard (they read the shared series), so nothing the spec writes is interpolated."""
    root = _quickstart(tmp_path)
    edit_yaml(root / "mlgitops.yaml", lambda d: d["spec"].update(grafana={"perModelDashboards": True}))
    model_file = root / "models" / "iris-classifier.yaml"

    def change(model: Any) -> None:
        monitoring = model["spec"]["monitoring"]
        monitoring["alerts"]["runbookUrl"] = "https://runbooks.acme.test/${__user.login}/[[x]]?q=$__all#$x"
        monitoring["metrics"] = {
            "requests": 'http_requests_total{namespace="{namespace}", user="${__user.login}", '
            'v=~"$__all|.*", tag="[[x]]", t="[[[y]]"}',
        }

    edit_yaml(model_file, change)
    result = generate_files(root)
    assert result.ok, [d.message for d in result.diagnostics]
    dashboards = [json.loads(f.content) for f in result.files if f.path.endswith(".json")]
    dashboards += [
        json.loads(text)
        for f in result.files
        if f.path.endswith("configmap.yaml") and "/dashboard" in f.path
        for text in yaml.safe_load(f.content)["data"].values()
    ]
    assert len(dashboards) == 2 + 2 * 3 + 1 + 3  # the project's two, per environment, the model's
    links = []
    for dashboard in dashboards:
        for text in _strings(dashboard):
            rest = _own_references(text)
            assert "$" not in rest and "[[" not in rest, text
        links += dashboard["links"]
    assert len(links) == 4, "the model's dashboard and its three environments' copies"
    for link in links:
        assert link["url"] == "https://runbooks.acme.test/%24{__user.login}/%5B%5Bx%5D%5D?q=%24__all#%24x"


LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def _kubernetes_objects(files: list[Any]) -> Iterator[dict[str, Any]]:
    for file in files:
        if file.path.endswith((".yaml", ".yml")) and "/.github/" not in f"/{file.path}":
            for document in yaml.safe_load_all(file.content):
                if isinstance(document, dict) and "apiVersion" in document and "metadata" in document:
                    yield document


def _at_the_limits(root: Path, extra_bytes: int = 0) -> None:
    """The longest model name that still fits the instance label, and annotations of exactly
    the spec's budget (plus ``extra_bytes``)."""
    old = root / "models" / "iris-classifier.yaml"
    name = "m" * (63 - len("-staging"))
    annotation = {"acme.com/notes": ""}

    def change(model: Any) -> None:
        model["metadata"]["name"] = name
        model["spec"]["serving"]["annotations"] = annotation
        fixed = len(model["metadata"]["owner"]) + len(f"models/{name}.yaml") + len("acme.com/notes")
        model["metadata"]["description"] = "d" * 40_000
        annotation["acme.com/notes"] = "n" * (SPEC_ANNOTATIONS_MAX - fixed - 40_000 + extra_bytes)

    edit_yaml(old, change)
    old.rename(root / "models" / f"{name}.yaml")


def _applied_objects(root: Path) -> Iterator[dict[str, Any]]:
    """The objects of each environment's kustomization as Argo CD and Flux apply them (the labels
    and annotations its model directories' kustomizations set included): ``kubectl kustomize``."""
    kubectl = require_tool("kubectl")
    for env_dir in sorted(path.parent for path in (root / "deploy").glob("*/kustomization.yaml")):
        yield from kustomize_build(kubectl, env_dir)


@pytest.mark.external  # kubectl kustomize
def test_objects_at_the_validation_limits_fit_kubernetes(tmp_path: Path) -> None:
    root = _quickstart(tmp_path)
    _at_the_limits(root)
    result = generate_files(root)
    assert result.ok, [d.message for d in result.diagnostics]
    compile_clean(root)
    # the objects as applied, and those of the files as written (objects outside the
    # kustomizations, Argo CD's and CI's, carry everything inline)
    objects = [*_applied_objects(root), *_kubernetes_objects(result.files)]
    assert len(objects) > 15
    largest = 0
    for obj in objects:
        metadata = obj["metadata"]
        annotations = metadata.get("annotations") or {}
        size = sum(len(k.encode()) + len(v.encode()) for k, v in annotations.items())
        largest = max(largest, size)
        # within the limit even with client-side apply's copy of the whole object
        assert size + len(json.dumps(obj).encode()) <= KUBERNETES_ANNOTATIONS_MAX, (obj["kind"], size)
        for key, value in (metadata.get("labels") or {}).items():
            assert len(value) <= 63 and LABEL_VALUE.match(value), (obj["kind"], key, value)
    assert largest > SPEC_ANNOTATIONS_MAX  # the budget was really used


def test_one_byte_over_the_budget_is_refused(tmp_path: Path) -> None:
    root = _quickstart(tmp_path)
    _at_the_limits(root, extra_bytes=1)
    codes = [d.code for d in validate_project(root).diagnostics]
    assert codes == ["MLG326"]
