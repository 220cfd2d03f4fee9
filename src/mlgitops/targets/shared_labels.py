"""Leaving to an environment's kustomization the labels it sets on every object it lists.

Each environment's ``kustomization.yaml`` (``gitops/kustomize.py``) sets the labels every one of
its objects shares (``k8s.kustomized_labels``) on each object's ``metadata.labels``, and
``TEMPLATE_LABELS`` on the pod templates of Deployments and CronJobs (``TEMPLATE_PATHS``). The
files of that environment leave them out. Kustomize would silently replace a label of another
value (and add a missing one to a pod template), so both are render errors here: only an
override template can write one.

Two forms of the same rule: :func:`leave_to_kustomization` on parsed documents (an override
template's output, which is parsed back anyway), and :class:`LeftOut` as a built-in template is
written directly (``render/direct.py``), where the entries are taken out of the mappings before
they are written instead of written and then scanned away. ``tests/test_kustomized_labels.py``
checks both against ``kubectl kustomize``; ``tests/test_direct_render.py`` and
``tests/test_shared_labels.py`` check that they agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from mlgitops.render import direct
from mlgitops.render.engine import RenderError

NONE: Mapping[str, str] = MappingProxyType({})

# The labels every pod mlgitops deploys carries, and where the kustomization's second
# ``labels`` entry (its ``fields``) sets them besides ``metadata.labels``: the pod templates of
# Deployments and CronJobs (the Job template too). Custom resources' templates keep theirs.
TEMPLATE_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "mlgitops.dev/environment")
TEMPLATE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "template"),),
    "CronJob": (("spec", "jobTemplate"), ("spec", "jobTemplate", "spec", "template")),
}


def leave_to_kustomization(
    documents: list[Any], labels: Mapping[str, str], template: str, annotations: Mapping[str, str] = NONE
) -> None:
    """Take ``labels`` (and ``annotations``) out of each object's ``metadata``, and
    ``TEMPLATE_LABELS`` out of its pod templates: the kustomizations set them."""
    on_templates = {key: labels[key] for key in TEMPLATE_LABELS if key in labels}
    for document in documents:
        if not isinstance(document, dict):
            continue
        _leave(document, labels, template, required=False)
        if annotations:
            _leave(document, annotations, template, required=False, field="annotations")
        for path in TEMPLATE_PATHS.get(str(document.get("kind")), ()):
            node: Any = document
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                _leave(node, on_templates, template, required=True)


def _leave(
    holder: dict[str, Any], labels: Mapping[str, str], template: str, *, required: bool, field: str = "labels"
) -> None:
    """Drop ``labels`` from ``holder["metadata"][field]``; kustomize would replace a label of
    another value (and, with ``required``, add a missing one): only an override template can."""
    metadata = holder.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get(field), dict):
        if required:
            raise _no_labels(labels, template)
        return
    left = _without(metadata[field], labels, template, required=required, field=field)
    if left:
        metadata[field] = left
    else:
        del metadata[field]


def _without(
    written: Mapping[str, Any], leave: Mapping[str, str], template: str, *, required: bool, field: str
) -> dict[str, Any]:
    """``written`` less the entries of ``leave``, each of which must have its value where it is
    written (and, with ``required``, be written): kustomize would replace another value."""
    for key, value in leave.items():
        if (key in written or required) and written.get(key) != value:
            raise _differs(key, written.get(key), value, template, field)
    return {key: value for key, value in written.items() if key not in leave}


# (the path of a mapping, what to leave out of it, whether it must be there)
_Place = tuple[tuple[str, ...], Mapping[str, str], bool]
# (column, key) of each mapping entry that can hold a mapping LeftOut edits, for any kind
_STARTS = frozenset(
    (2 * depth, key)
    for path in [("metadata", "labels"), ("metadata", "annotations")]
    + [(*path, "metadata", "labels") for paths in TEMPLATE_PATHS.values() for path in paths]
    for depth, key in enumerate(path)
)


class LeftOut:
    """:func:`leave_to_kustomization` as a built-in template is written (``render/direct.py``'s
    ``Leave``): the labels and annotations are left out of each block value that holds an
    object's or a pod template's ``metadata`` mapping as it is spliced, so they are never
    written. Built-in templates write every ``labels``/``annotations`` mapping as a value
    (``{= labels =}``), never as their own text (``tests/test_shared_labels.py`` checks).
    """

    def __init__(
        self, labels: Mapping[str, str], template: str, annotations: Mapping[str, str] = NONE
    ) -> None:
        self.starts = _STARTS
        self.labels = labels
        self.annotations = annotations
        self.template = template
        on_templates = {key: labels[key] for key in TEMPLATE_LABELS if key in labels}
        on_metadata: list[_Place] = [(("metadata", "labels"), labels, False)]
        if annotations:
            on_metadata.append((("metadata", "annotations"), annotations, False))
        self.places: dict[str, list[_Place]] = {
            kind: [*on_metadata, *(((*path, "metadata", "labels"), on_templates, True) for path in paths)]
            for kind, paths in TEMPLATE_PATHS.items()
        }
        self.on_metadata = on_metadata
        self.found: set[tuple[int, tuple[str, ...]]] = set()

    def value(self, document: int, kind: str, path: tuple[str, ...], value: Any) -> Any:
        for full, leave, required in self.places.get(kind, self.on_metadata):
            if full[: len(path)] == path:
                value = self._left(value, full[len(path) :], leave, required, (document, full))
        return value

    def finish(self, kinds: Mapping[int, str]) -> None:
        for document, kind in kinds.items():
            for full, leave, required in self.places.get(kind, ()):
                if required and (document, full) not in self.found:
                    raise _no_labels(leave, self.template)

    def _left(
        self,
        node: Any,
        rest: tuple[str, ...],
        leave: Mapping[str, str],
        required: bool,
        place: tuple[int, tuple[str, ...]],
    ) -> Any:
        """``node`` without ``leave`` in the mapping ``rest`` below it (a copy: the value may be
        the IR's own); :data:`direct.DROP` for that mapping itself, left empty."""
        if type(node) is not dict:
            return node
        if rest:
            if rest[0] not in node:
                return node
            child = self._left(node[rest[0]], rest[1:], leave, required, place)
            copy = dict(node)
            if child is direct.DROP:
                del copy[rest[0]]
            else:
                copy[rest[0]] = child
            return copy
        left = _without(node, leave, self.template, required=required, field=place[1][-1])
        self.found.add(place)
        return left if left else direct.DROP


def _no_labels(labels: Mapping[str, str], template: str) -> RenderError:
    return RenderError(f"a pod template has no labels, but needs {sorted(labels)}", template, None)


def _differs(key: str, written: object, value: str, template: str, field: str = "labels") -> RenderError:
    return RenderError(
        f"{field[:-1]} {key}: {written!r} differs from {value!r}, which a kustomization sets",
        template,
        None,
    )
