"""The labels every object of an environment shares live once, in its ``kustomization.yaml``.

For each case, the project is rendered twice: in memory with every object carrying all of its
labels (what compile wrote before the labels moved: ``leave_to_kustomization`` switched off),
and compiled as usual (the labels every object of an environment shares in its
``kustomization.yaml``, the labels and annotations every object of a model there shares in its
model directory's). Then ``kubectl kustomize deploy/<env>``, what Argo CD and Flux build, must
give every object exactly its full labels and annotations (never a value replaced by a
kustomization's), and every other field unchanged, selectors and pod templates included.
Objects outside the kustomization (the training Job CI submits) keep their labels inline.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from compile_helpers import compile_clean, copy_specs, edit_yaml, example, kustomize_build
from conftest import require_tool
from mlgitops.pipeline import generate_files
from mlgitops.targets import base, k8s, shared_labels

pytestmark = pytest.mark.external

Key = tuple[str, str, str]  # environment, kind, name


def _overrides_project_label(data: Any) -> None:
    """A model's own value for a project label: that label cannot be shared (kustomize would
    overwrite it), so every object keeps it inline."""
    data["metadata"]["labels"]["platform"] = "payments"


def _multiline_description(data: Any) -> None:
    """A description of several lines (a ``|`` block in the files), blank line included."""
    data["metadata"]["description"] = "Scores card transactions.\n\n  Indented: kept as written.\nLast line"


def _kubernetes(data: Any) -> None:
    data["spec"]["serving"] = "kubernetes"


# case → (example, edits by file)
CASES: dict[str, tuple[str, dict[str, Callable[[Any], None]]]] = {
    "quickstart": ("quickstart", {}),  # KServe, Argo CD, monitors
    "quickstart-kubernetes": ("quickstart", {"mlgitops.yaml": _kubernetes}),  # Deployment, Service, HPA
    "platform": ("platform", {}),  # routes, drift, runtimes, training
    "platform-override": ("platform", {"models/fraud-detector.yaml": _overrides_project_label}),
    "platform-description": ("platform", {"models/fraud-detector.yaml": _multiline_description}),
    "gitlab-flux-k8s": ("gitlab-flux-k8s", {}),  # plain Kubernetes, Flux, training CronJobs
}


def _objects(files: Any, in_kustomization: bool) -> dict[Key, Any]:
    """The Kubernetes objects of an environment's kustomization (those of its files, and its
    Namespace), or those beside it (``in_kustomization`` False)."""
    out: dict[Key, Any] = {}
    for file in files:
        if not file.path.endswith(".yaml") or "/ci/" in f"/{file.path}":
            continue
        for document in yaml.safe_load_all(file.content):
            if not isinstance(document, dict) or document.get("kind") in (None, "Kustomization"):
                continue
            listed = file.environment is not None or document["kind"] == "Namespace"
            if listed == in_kustomization:
                env = file.environment or file.path.split("/")[1]
                out[(env, document["kind"], _name(document))] = document
    return out


def _name(document: Any) -> str:
    metadata = document["metadata"]
    return str(metadata.get("name") or metadata["generateName"])  # CI's Job: a generated name


def _labels(document: Any) -> dict[str, str]:
    return dict(document["metadata"].get("labels") or {})


def _without_labels(document: Any) -> Any:
    """The object without its labels (and an empty map of annotations, which kustomize drops)."""
    metadata = {k: v for k, v in document["metadata"].items() if k != "labels" and v != {}}
    return {**document, "metadata": metadata}


@pytest.mark.parametrize("case", list(CASES))
def test_every_object_keeps_its_labels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str) -> None:
    kubectl = require_tool("kubectl")
    name, edits = CASES[case]
    root = copy_specs(example(name), tmp_path / case)
    for file, edit in edits.items():
        edit_yaml(root / file, edit)

    with monkeypatch.context() as patched:
        patched.setattr(base, "leave_to_kustomization", lambda *_: None)
        patched.setattr(base, "LeftOut", lambda *_: None)
        full = generate_files(root)
    assert full.ok and full.project is not None
    before = _objects(full.files, in_kustomization=True)
    outside = _objects(full.files, in_kustomization=False)
    shared = k8s.kustomized_labels(full.project)
    if case == "platform-override":
        assert "platform" not in dict(full.project.shared_labels)
    else:
        assert dict(full.project.labels).items() <= dict(full.project.shared_labels).items()

    compile_clean(root)
    built: dict[Key, Any] = {}
    for env in shared:
        for document in kustomize_build(kubectl, root / "deploy" / env):
            built[(env, document["kind"], document["metadata"]["name"])] = document
    assert sorted(built) == sorted(before)
    for key, document in before.items():
        env = key[0]
        written = _labels(document)
        replaced = {k: (written[k], v) for k, v in shared[env].items() if written.get(k, v) != v}
        assert not replaced, f"{key}: the kustomization would replace {replaced}"
        assert _labels(built[key]) == {**shared[env], **written}, key
        assert _without_labels(built[key]) == _without_labels(document), key

    # the files hold the shared labels no more; objects applied outside keep all of theirs
    written_out = {}
    directories = {}
    templates = 0
    for path in sorted((root / "deploy").rglob("*.yaml")):
        relative = path.relative_to(root / "deploy")
        if relative.parts[0] in shared and relative.name != "kustomization.yaml":
            for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                key = (relative.parts[0], document["kind"], _name(document))
                written_out[key] = document
                directories[key] = path.parent.relative_to(root).as_posix()
    models = k8s.model_kustomized(full.project)
    moved = 0
    for key, document in written_out.items():
        if key in outside:
            assert document == outside[key], key
        elif document["kind"] != "Namespace":
            assert not _labels(document).keys() & shared[key[0]].keys(), key
            model = models.get(directories[key])
            if model is not None:  # a model directory's file: its kustomization sets these
                annotations = document["metadata"].get("annotations") or {}
                assert not _labels(document).keys() & model.labels.keys(), key
                assert not annotations.keys() & model.annotations.keys(), key
                assert model.labels and model.annotations, key
                moved += 1
            for path in shared_labels.TEMPLATE_PATHS.get(document["kind"], ()):
                pod = document
                for step in path:
                    pod = pod[step]
                assert not _labels(pod).keys() & set(shared_labels.TEMPLATE_LABELS), (key, path)
                templates += 1
    assert templates or name == "quickstart"
    assert moved
    assert any(key[1] == "Job" for key in outside) == (name == "platform")


@pytest.mark.parametrize("name", ["platform", "gitlab-flux-k8s"])
def test_owner_annotation_only_when_the_label_cannot_hold_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    root = copy_specs(example(name), tmp_path / name)
    long_owner = "Risk & Fraud team (payments) <risk@acme.example>"
    model = sorted((root / "models").glob("*.yaml"))[0]
    edit_yaml(model, lambda data: data["metadata"].update(owner=long_owner))
    # every object with all of its labels and annotations (what kustomize builds, as above)
    monkeypatch.setattr(base, "leave_to_kustomization", lambda *_: None)
    monkeypatch.setattr(base, "LeftOut", lambda *_: None)
    result = generate_files(root)
    assert result.ok and result.project is not None
    owners = {m.name: m.owner for m in result.project.models}
    seen = 0
    for file in result.files:
        if not file.path.endswith(".yaml") or "/ci/" in f"/{file.path}":
            continue
        for document in yaml.safe_load_all(file.content):
            metadata = document.get("metadata") or {}
            model_name = (metadata.get("labels") or {}).get("mlgitops.dev/model")
            if model_name is None:
                continue
            seen += 1
            label = metadata["labels"]["mlgitops.dev/owner"]
            annotation = (metadata.get("annotations") or {}).get("mlgitops.dev/owner")
            if owners[model_name] == long_owner:
                assert annotation == long_owner and label != long_owner, file.path
            else:
                assert annotation is None and label == owners[model_name], file.path
    assert seen
