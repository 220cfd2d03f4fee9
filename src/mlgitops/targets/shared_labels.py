"""Leaving to an environment's kustomization the labels it sets on every object it lists.

Each environment's ``kustomization.yaml`` (``gitops/kustomize.py``) sets the labels every one of
its objects shares (``k8s.kustomized_labels``) on each object's ``metadata.labels``, and
``TEMPLATE_LABELS`` on the pod templates of Deployments and CronJobs (``TEMPLATE_PATHS``). The
files of that environment leave them out. Kustomize would silently replace a label of another
value (and add a missing one to a pod template), so both are render errors here: only an
override template can write one.

Two forms of the same rule: :func:`leave_to_kustomization` on parsed documents (an override
template's output, which is parsed back anyway), and :func:`leave_in_text` on the canonical
text a built-in template writes directly (``render/direct.py``), where parsing it back only to
drop a few lines would cost what the direct path saves. ``tests/test_kustomized_labels.py``
checks both against ``kubectl kustomize``; ``tests/test_direct_render.py`` checks that they
agree.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlgitops.render import yamlout
from mlgitops.render.engine import RenderError

# The labels every pod mlgitops deploys carries, and where the kustomization's second
# ``labels`` entry (its ``fields``) sets them besides ``metadata.labels``: the pod templates of
# Deployments and CronJobs (the Job template too). Custom resources' templates keep theirs.
TEMPLATE_LABELS = ("app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "mlgitops.dev/environment")
TEMPLATE_PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Deployment": (("spec", "template"),),
    "CronJob": (("spec", "jobTemplate"), ("spec", "jobTemplate", "spec", "template")),
}


def leave_to_kustomization(documents: list[Any], labels: Mapping[str, str], template: str) -> None:
    """Take ``labels`` out of each object's ``metadata.labels``, and ``TEMPLATE_LABELS`` out of
    its pod templates: the kustomization sets them."""
    on_templates = {key: labels[key] for key in TEMPLATE_LABELS if key in labels}
    for document in documents:
        if not isinstance(document, dict):
            continue
        _leave(document, labels, template, required=False)
        for path in TEMPLATE_PATHS.get(str(document.get("kind")), ()):
            node: Any = document
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                _leave(node, on_templates, template, required=True)


def _leave(holder: dict[str, Any], labels: Mapping[str, str], template: str, *, required: bool) -> None:
    """Drop ``labels`` from ``holder["metadata"]["labels"]``; kustomize would replace a label of
    another value (and, with ``required``, add a missing one): only an override template can."""
    metadata = holder.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("labels"), dict):
        if required:
            raise _no_labels(labels, template)
        return
    written = metadata["labels"]
    for key, value in labels.items():
        if key not in written and not required:
            continue
        if written.get(key) != value:
            raise _differs(key, written.get(key), value, template)
        del written[key]
    if not written:
        del metadata["labels"]


def leave_in_text(text: str, labels: Mapping[str, str], template: str) -> str:
    """:func:`leave_to_kustomization` on canonical YAML text (``yamlout``'s: block style, two
    spaces a level, ``---`` between documents).

    A ``labels:`` line is an object's (or a pod template's) labels only when the nearest less
    indented lines above it are exactly ``metadata:`` at column 0 (or the template path's keys,
    two columns a level). A line of a ``|`` block is indented past its key, so its nearest less
    indented line is that key, never such a chain: no text inside a value is taken for labels.
    """
    on_templates = {key: labels[key] for key in TEMPLATE_LABELS if key in labels}
    return "\n---\n".join(
        _document(document, labels, on_templates, template) for document in text.split("\n---\n")
    )


# Found by the regex engine, not by a walk over every line: most lines of a manifest are not
# labels, and this runs over every file of every environment.
_LABELS_LINE = re.compile(r"^ *labels:(?: \{\})?$", re.MULTILINE)
_KIND = re.compile(r"^kind: (.*)$", re.MULTILINE)


def _document(text: str, labels: Mapping[str, str], on_templates: Mapping[str, str], template: str) -> str:
    kind = _KIND.search(text)
    wanted: dict[tuple[str, ...], tuple[Mapping[str, str], bool]] = {("metadata",): (labels, False)}
    wanted |= {
        (*path, "metadata"): (on_templates, True) for path in TEMPLATE_PATHS.get(kind[1] if kind else "", ())
    }
    found: set[tuple[str, ...]] = set()
    dropped: set[int] = set()
    lines = text.split("\n")
    index = position = 0
    for match in _LABELS_LINE.finditer(text):
        index += text.count("\n", position, match.start())
        position = match.start()
        body = lines[index].lstrip(" ")
        path = _parents(lines, index, len(lines[index]) - len(body))
        if path not in wanted:
            continue
        leave, required = wanted[path]
        if body == "labels: {}":  # no labels at all: the data form drops the empty mapping too
            dropped.add(index)
            continue
        found.add(path)
        dropped |= _entries(lines, index, leave, required, template)
    for path, (leave, required) in wanted.items():
        if required and path not in found:
            raise _no_labels(leave, template)
    if not dropped:
        return text
    for number in sorted(dropped, reverse=True):  # a few lines of many: cheaper than a filter
        del lines[number]
    return "\n".join(lines)


def _parents(lines: list[str], index: int, indent: int) -> tuple[str, ...] | None:
    """The keys of the mappings holding line ``index`` (at ``indent``), outermost first, or
    ``None`` where a parent is not a plain ``key:`` line two columns out."""
    keys: list[str] = []
    for number in range(index - 1, -1, -1):
        if indent == 0:
            break
        line = lines[number]
        body = line.lstrip(" ")
        if not body or len(line) - len(body) >= indent:
            continue
        if len(line) - len(body) != indent - 2 or not body.endswith(":") or body.startswith("- "):
            return None
        keys.append(body[:-1])
        indent -= 2
    return tuple(reversed(keys)) if indent == 0 else None


def _entries(
    lines: list[str], index: int, leave: Mapping[str, str], required: bool, template: str
) -> set[int]:
    """The line numbers to drop of the ``labels:`` block at line ``index``: those of ``leave``
    (each must have its value), and the ``labels:`` line itself when nothing else is left."""
    pad = " " * (len(lines[index]) - len("labels:") + 2)  # the entries' indentation
    spelled = {f"{pad}{yamlout.key(key)}": (key, value) for key, value in leave.items()}
    dropped: set[int] = set()
    seen: set[str] = set()
    end = index + 1
    while end < len(lines) and lines[end].startswith(pad) and lines[end][len(pad) : len(pad) + 1].strip():
        line = lines[end]
        written_key, _, written_value = line.partition(": ")
        if written_key in spelled:
            key, value = spelled[written_key]
            if written_value != yamlout.text(value):
                raise _differs(key, written_value, value, template)
            dropped.add(end)
            seen.add(key)
        end += 1
    missing = [key for key in leave if key not in seen]
    if required and missing:
        raise _differs(missing[0], None, leave[missing[0]], template)
    if len(dropped) == end - index - 1:
        dropped.add(index)
    return dropped


def _no_labels(labels: Mapping[str, str], template: str) -> RenderError:
    return RenderError(f"a pod template has no labels, but needs {sorted(labels)}", template, None)


def _differs(key: str, written: object, value: str, template: str) -> RenderError:
    return RenderError(
        f"label {key}: {written!r} differs from {value!r}, which the environment's kustomization sets",
        template,
        None,
    )
