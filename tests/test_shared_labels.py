"""``shared_labels.leave_in_text`` on canonical text agrees with ``leave_to_kustomization`` on
the parsed documents, touches only an object's and its pod templates' labels (never text inside
a value that looks like them), and refuses what kustomize would silently change."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from mlgitops.render import yamlout
from mlgitops.render.engine import RenderError
from mlgitops.targets.shared_labels import leave_in_text, leave_to_kustomization

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
def test_text_and_data_forms_agree(documents: list[Any]) -> None:
    text = yamlout.dump_documents(documents)
    parsed = yaml.safe_load_all(text)
    data = list(parsed)
    leave_to_kustomization(data, SHARED, "t")
    left = leave_in_text(text, SHARED, "t")
    assert left == yamlout.dump_documents(data)
    assert list(yaml.safe_load_all(left)) == data


def test_text_inside_values_is_kept() -> None:
    left = yaml.safe_load(leave_in_text(yamlout.dump(CONFIG_MAP), SHARED, "t"))
    assert left["data"] == CONFIG_MAP["data"]
    assert "labels" not in left["metadata"]


def test_a_shared_label_of_another_value_is_an_error() -> None:
    text = yamlout.dump({**CONFIG_MAP, "metadata": {"name": "c", "labels": {**SHARED, "team": "2"}}})
    with pytest.raises(RenderError, match="label team"):
        leave_in_text(text, SHARED, "t")


def test_a_pod_template_without_the_shared_labels_is_an_error() -> None:
    text = yamlout.dump(_deployment({"app": "x"}))
    with pytest.raises(RenderError, match="managed-by"):
        leave_in_text(text, SHARED, "t")


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
def test_annotations_text_and_data_forms_agree(annotations: dict[str, str]) -> None:
    documents = [_annotated(annotations), CONFIG_MAP]
    text = yamlout.dump_documents(documents)
    data = list(yaml.safe_load_all(text))
    leave_to_kustomization(data, SHARED, "t", ANNOTATIONS)
    left = leave_in_text(text, SHARED, "t", ANNOTATIONS)
    assert left == yamlout.dump_documents(data)
    assert list(yaml.safe_load_all(left)) == data
    assert data[0]["spec"]["template"]["metadata"]["annotations"] == ANNOTATIONS
    assert data[0]["metadata"].get("annotations", {}).keys().isdisjoint(ANNOTATIONS)


def test_an_annotation_of_another_value_is_an_error() -> None:
    text = yamlout.dump(_annotated({**ANNOTATIONS, "mlgitops.dev/description": "line one\nother"}))
    with pytest.raises(RenderError, match=r"annotation mlgitops\.dev/description"):
        leave_in_text(text, SHARED, "t", ANNOTATIONS)
