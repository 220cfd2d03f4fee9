"""Kubernetes' size limits on what the spec writes into object metadata (MLG326, MLG327).

The API server refuses an object whose annotations (keys and values together) exceed
256 KiB, and a label value longer than 63 characters; a sync that fails that way leaves an
environment half-deployed.  These checks run on the resolved settings (serving
annotations merge over the layers) and point at the spec field to shorten.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.diagnostics import Diagnostic, Location, make
from mlgitops.resolve import ResolvedDeployment, ResolvedProject

KUBERNETES_ANNOTATIONS_MAX = 256 * 1024  # bytes, keys and values of one object's annotations
# The spec's share of that: client-side apply (kubectl, Argo CD's default) copies the whole
# object into its last-applied-configuration annotation, so the spec's text counts twice, and
# mlgitops adds its own annotations beside it.  A quarter leaves room for all of that.
SPEC_ANNOTATIONS_MAX = KUBERNETES_ANNOTATIONS_MAX // 4
LABEL_VALUE_MAX = 63
INSTANCE_LABEL = "app.kubernetes.io/instance"


def check_kubernetes_limits(resolved: ResolvedProject) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    reported: set[Location | None] = set()
    for item in resolved.deployments:
        for diagnostic in (*_annotations(item), *_instance_label(item)):
            if diagnostic.location not in reported:  # a model-wide field: once, not per environment
                reported.add(diagnostic.location)
                diagnostics.append(diagnostic)
    return diagnostics


def _annotations(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    """What the spec puts into the annotations of the model's serving objects in one environment
    (owner, description, the spec file's path and ``serving.annotations``: see ir/build.py)."""
    doc, metadata = item.model.doc, item.model.spec.metadata
    extra = item.serving.get("annotations") or {}
    sizes = {
        ("metadata", "owner"): _size(metadata.owner),
        ("metadata", "name"): _size(doc.display),  # the spec file's path, said at the model's name
        ("metadata", "description"): _size(metadata.description or ""),
    }
    total = sum(sizes.values()) + sum(_size(k) + _size(v) for k, v in extra.items())
    if total <= SPEC_ANNOTATIONS_MAX:
        return  # the common case: nothing located, so no document is composed again
    parts: list[tuple[int, Location | None, str]] = [
        (size, doc.locate(path), "the spec file's path" if path[1] == "name" else ".".join(path))
        for path, size in sizes.items()
    ]
    for key, value in extra.items():
        origin = item.serving.origin("annotations", key)
        parts.append((_size(key) + _size(value), origin.location() if origin else None, f"annotation {key}"))
    size, location, name = max(parts, key=lambda part: part[0])
    yield make(
        "MLG326",
        f"model {item.model.name!r} would write {total:,} bytes of spec text into the annotations "
        f"of its objects in {item.environment.name!r} ({name}: {size:,}); the limit is "
        f"{SPEC_ANNOTATIONS_MAX:,}",
        location,
        f"Kubernetes refuses an object whose annotations exceed {KUBERNETES_ANNOTATIONS_MAX:,} bytes, "
        "and client-side apply copies them once more; shorten it, or link to a longer text",
    )


def _instance_label(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    value = f"{item.model.name}-{item.environment.name}"  # as ir/build.py and the serving targets spell it
    if len(value) > LABEL_VALUE_MAX:
        yield make(
            "MLG327",
            f"label {INSTANCE_LABEL}={value!r} of model {item.model.name!r} in {item.environment.name!r} "
            f"would be {len(value)} characters; Kubernetes allows {LABEL_VALUE_MAX}",
            item.model.doc.locate(("spec", "deployments", item.environment.name), key=True),
            "shorten the model's or the environment's name (together at most 62 characters)",
        )


def _size(text: object) -> int:
    return len(str(text).encode("utf-8"))
