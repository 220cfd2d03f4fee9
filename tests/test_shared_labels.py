"""``shared_labels.LeftOut`` (a built-in template written directly) agrees with
``leave_to_kustomization`` on the parsed documents, touches only an object's and its pod
templates' labels (never text inside a value that looks like them), and refuses what kustomize
would silently change. Built-in templates write each labels and annotations mapping as a value,
never as their own text, which is what ``LeftOut`` sees."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.compile import templates_dir
from mlgitops.render import yamlout
from mlgitops.render.engine import Engine, RenderError, TemplateSource
from mlgitops.targets.shared_labels import LeftOut, leave_to_kustomization


def _placeholders(node: Any, values: list[Any]) -> Any:
    """``node`` with each labels and annotations mapping replaced by a marker naming its value."""
    if isinstance(node, list):
        return [_placeholders(item, values) for item in node]
    if not isinstance(node, dict):
        return node
    replaced = {}
    for key, value in node.items():
        if key in ("labels", "annotations"):
            values.append(value)
            replaced[key] = f"@{len(values) - 1}@"
        else:
            replaced[key] = _placeholders(value, values)
    return replaced


def _left(
    tmp_path: Path, documents: list[Any], labels: dict[str, str], annotations: dict[str, str] | None = None
) -> str:
    """``documents`` as a built-in template writes them directly with ``LeftOut``, in both of the
    ways a template can hold a labels mapping: as a value of its own (``labels: {= value =}``),
    and inside a value (here, each document as one); both give the same text."""
    values: list[Any] = []
    marked = yamlout.dump_documents(_placeholders(documents, values))
    each_mapping = re.sub(r'"@(\d+)@"', r"{= values[\1] =}", marked)
    each_document = "---\n".join(f"{{= values[{number}] =}}\n" for number in range(len(documents)))
    texts = [
        _render(tmp_path, each_mapping, values, labels, annotations or {}),
        _render(tmp_path, each_document, copy.deepcopy(documents), labels, annotations or {}),
    ]
    assert texts[0] == texts[1]
    return texts[0]


def _render(
    tmp_path: Path, template: str, values: list[Any], labels: dict[str, str], annotations: dict[str, str]
) -> str:
    (tmp_path / "t").mkdir(exist_ok=True)
    (tmp_path / "t" / "doc.yaml.j2").write_text(template, encoding="utf-8")
    engine = Engine(TemplateSource(tmp_path))
    return engine.render_yaml("t/doc.yaml.j2", {"values": values}, LeftOut(labels, "t", annotations))


SHARED = {"app.kubernetes.io/managed-by": "mlgitops", "app.kubernetes.io/part-of": "acme", "team": "1.0"}
POD = {"app.kubernetes.io/managed-by": "mlgitops", "app.kubernetes.io/part-of": "acme", "app": "x"}


def _deployment(pod_labels: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "m", "labels": {**SHARED, "app": "x"}},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": pod_labels}, "spec": {"containers": []}},
        },
    }


CONFIG_MAP = {  # text inside values that looks like labels, and a labels map of only shared ones
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "c", "labels": dict(SHARED)},
    "data": {
        "doc": 'metadata:\n  labels:\n    team: "1.0"\n',
        "nested": "x:\nmetadata:\n  labels:\n    app.kubernetes.io/part-of: acme\n",
    },
}
SERVICE_WITHOUT_LABELS = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "labels": {}}}
INFERENCE_SERVICE = {  # a custom resource's pod labels stay: kustomize cannot reach them
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {"name": "i", "labels": {**SHARED, "model": "i"}},
    "spec": {"predictor": {"labels": dict(SHARED)}, "template": {"metadata": {"labels": dict(SHARED)}}},
}


@pytest.mark.parametrize(
    "documents",
    [
        [_deployment(dict(POD))],
        [CONFIG_MAP],
        [SERVICE_WITHOUT_LABELS, INFERENCE_SERVICE],
        [INFERENCE_SERVICE, CONFIG_MAP, _deployment(dict(POD))],
    ],
)
def test_direct_and_data_forms_agree(tmp_path: Path, documents: list[Any]) -> None:
    data = copy.deepcopy(documents)
    leave_to_kustomization(data, SHARED, "t")
    left = _left(tmp_path, documents, SHARED)
    assert left == yamlout.dump_documents(data)
    assert list(yaml.safe_load_all(left)) == data


def test_text_inside_values_is_kept(tmp_path: Path) -> None:
    left = yaml.safe_load(_left(tmp_path, [CONFIG_MAP], SHARED))
    assert left["data"] == CONFIG_MAP["data"]
    assert "labels" not in left["metadata"]


def test_a_shared_label_of_another_value_is_an_error(tmp_path: Path) -> None:
    document = {**CONFIG_MAP, "metadata": {"name": "c", "labels": {**SHARED, "team": "2"}}}
    with pytest.raises(RenderError, match="label team"):
        _left(tmp_path, [document], SHARED)


@pytest.mark.parametrize("pod_labels", [{"app": "x"}, {}])
def test_a_pod_template_without_the_shared_labels_is_an_error(
    tmp_path: Path, pod_labels: dict[str, str]
) -> None:
    with pytest.raises(RenderError, match="managed-by"):
        _left(tmp_path, [_deployment(pod_labels)], SHARED)
    without = _deployment({})
    del without["spec"]["template"]["metadata"]
    with pytest.raises(RenderError, match="managed-by"):
        _left(tmp_path, [without], SHARED)


# A model directory's kustomization sets annotations on metadata too: multi-line values (a
# description) are ``|`` blocks, blank lines included; pod-template annotations stay.
ANNOTATIONS = {"mlgitops.dev/description": "line one\n\n  indented\nlast", "mlgitops.dev/source": "m.yaml"}


def _annotated(annotations: dict[str, str]) -> dict[str, Any]:
    deployment = _deployment(dict(POD))
    deployment["metadata"]["annotations"] = annotations
    deployment["spec"]["template"]["metadata"]["annotations"] = dict(ANNOTATIONS)
    return deployment


@pytest.mark.parametrize(
    "annotations",
    [
        dict(ANNOTATIONS),
        {**ANNOTATIONS, "a-version": "1.2.0", "z": "trailing\n\n"},
        {"mlgitops.dev/source": "m.yaml"},  # one the object lacks: kustomize adds it, as before
        {"other": "x\ny\n"},
    ],
)
def test_annotations_direct_and_data_forms_agree(tmp_path: Path, annotations: dict[str, str]) -> None:
    documents = [_annotated(annotations), CONFIG_MAP]
    data = copy.deepcopy(documents)
    leave_to_kustomization(data, SHARED, "t", ANNOTATIONS)
    left = _left(tmp_path, documents, SHARED, ANNOTATIONS)
    assert left == yamlout.dump_documents(data)
    assert list(yaml.safe_load_all(left)) == data
    assert data[0]["spec"]["template"]["metadata"]["annotations"] == ANNOTATIONS
    assert data[0]["metadata"].get("annotations", {}).keys().isdisjoint(ANNOTATIONS)


def test_an_annotation_of_another_value_is_an_error(tmp_path: Path) -> None:
    document = _annotated({**ANNOTATIONS, "mlgitops.dev/description": "line one\nother"})
    with pytest.raises(RenderError, match=r"annotation mlgitops\.dev/description"):
        _left(tmp_path, [document], SHARED, ANNOTATIONS)


def test_builtin_templates_write_labels_only_as_values() -> None:
    """``LeftOut`` looks only at the values a template writes: a labels or annotations mapping
    written as a built-in template's own text would keep what a kustomization sets (at column 0,
    it is a document's own key, as in a Kustomization or a dashboard, never an object's)."""
    own_text = re.compile(r"^  +(?:- )?(?:labels|annotations):(?! \{= [^\n]* =\}$).*$", re.MULTILINE)
    written = {
        f"{path.relative_to(templates_dir())}: {match[0].strip()}"
        for path in templates_dir().rglob("*.j2")
        for match in own_text.finditer(path.read_text(encoding="utf-8"))
    }
    assert written == set()
