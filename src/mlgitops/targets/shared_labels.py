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
from types import MappingProxyType
from typing import Any

from mlgitops.render import yamlout
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
    written = metadata[field]
    for key, value in labels.items():
        if key not in written and not required:
            continue
        if written.get(key) != value:
            raise _differs(key, written.get(key), value, template, field)
        del written[key]
    if not written:
        del metadata[field]


def leave_in_text(
    text: str, labels: Mapping[str, str], template: str, annotations: Mapping[str, str] = NONE
) -> str:
    """:func:`leave_to_kustomization` on canonical YAML text (``yamlout``'s: block style, two
    spaces a level, ``---`` between documents).

    A ``labels:`` (``annotations:``) line is an object's (or a pod template's) when the nearest
    less indented lines above it are exactly ``metadata:`` at column 0 (or the template path's
    keys, two columns a level). A line of a ``|`` block is indented past its key, so its nearest
    less indented line is that key, never such a chain: no text inside a value is taken for
    labels.
    """
    on_templates = {key: labels[key] for key in TEMPLATE_LABELS if key in labels}
    return "\n---\n".join(
        _document(document, labels, on_templates, annotations, template) for document in text.split("\n---\n")
    )


# Found by the regex engine, not by a walk over every line: most lines of a manifest are
# neither, and this runs over every file of every environment.
_BLOCK_LINE = re.compile(r"^ *(?:labels|annotations):(?: \{\})?$", re.MULTILINE)
_KIND = re.compile(r"^kind: (.*)$", re.MULTILINE)


def _document(
    text: str,
    labels: Mapping[str, str],
    on_templates: Mapping[str, str],
    annotations: Mapping[str, str],
    template: str,
) -> str:
    kind = _KIND.search(text)
    # (the keys above the block, its field) → what to leave out of it, and whether it must be there
    wanted: dict[tuple[tuple[str, ...], str], tuple[Mapping[str, str], bool]] = {
        (("metadata",), "labels"): (labels, False)
    }
    if annotations:
        wanted[(("metadata",), "annotations")] = (annotations, False)
    templates = TEMPLATE_PATHS.get(kind[1] if kind else "", ())
    wanted |= {((*path, "metadata"), "labels"): (on_templates, True) for path in templates}
    found: set[tuple[tuple[str, ...], str]] = set()
    dropped: set[int] = set()
    lines = text.split("\n")
    index = position = 0
    for match in _BLOCK_LINE.finditer(text):
        index += text.count("\n", position, match.start())
        position = match.start()
        line = lines[index]
        body = line.lstrip(" ")
        place = (_parents(lines, index, len(line) - len(body)), _BLOCKS[body])
        if place not in wanted:
            continue
        leave, required = wanted[place]
        if body.endswith("{}"):  # an empty mapping: the data form drops it too
            dropped.add(index)
            continue
        found.add(place)
        dropped |= _entries(lines, index, leave, required, template, place[1])
    for place, (leave, required) in wanted.items():
        if required and place not in found:
            raise _no_labels(leave, template)
    if not dropped:
        return text
    for number in sorted(dropped, reverse=True):  # a few lines of many: cheaper than a filter
        del lines[number]
    return "\n".join(lines)


_BLOCKS = {
    "labels:": "labels",
    "labels: {}": "labels",
    "annotations:": "annotations",
    "annotations: {}": "annotations",
}


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
    lines: list[str], index: int, leave: Mapping[str, str], required: bool, template: str, field: str
) -> set[int]:
    """The line numbers to drop of the ``labels:`` (``annotations:``) block at line ``index``:
    the entries of ``leave`` (each must have its value; a multi-line one spans the lines of its
    ``|`` block), and the block's line itself when nothing else is left."""
    pad = " " * (len(lines[index]) - len(lines[index].lstrip(" ")) + 2)  # the entries' indentation
    spelled = {f"{pad}{yamlout.key(key)}": (key, value) for key, value in leave.items()}
    dropped: set[int] = set()
    seen: set[str] = set()
    end = index + 1
    while end < len(lines) and lines[end].startswith(pad) and lines[end][len(pad) : len(pad) + 1].strip():
        start = end
        end = _entry_end(lines, start, pad)
        written_key, _, written_value = lines[start].partition(": ")
        if written_key in spelled:
            key, value = spelled[written_key]
            if "\n" in value:
                expected: list[str] = []
                yamlout.mapping_entry(written_key + ":", value, len(pad), expected)
                end = max(end, start + len(expected))
                matches = lines[start:end] == expected
            else:
                matches = end == start + 1 and written_value == yamlout.text(value)
            if not matches:
                raise _differs(
                    key, "\n".join(lines[start:end])[len(written_key) + 2 :], value, template, field
                )
            dropped.update(range(start, end))
            seen.add(key)
    missing = [key for key in leave if key not in seen]
    if required and missing:
        raise _differs(missing[0], None, leave[missing[0]], template, field)
    if len(dropped) == end - index - 1:
        dropped.add(index)
    return dropped


def _entry_end(lines: list[str], start: int, pad: str) -> int:
    """The line after the mapping entry at ``start``: past the lines of its block scalar, if it
    has one (more indented than ``pad``, and the blank lines between them)."""
    end = start + 1
    while True:
        probe = end
        while probe < len(lines) and lines[probe] == "":
            probe += 1
        if probe < len(lines) and lines[probe].startswith(pad + " "):
            end = probe + 1
        else:
            return end


def _no_labels(labels: Mapping[str, str], template: str) -> RenderError:
    return RenderError(f"a pod template has no labels, but needs {sorted(labels)}", template, None)


def _differs(key: str, written: object, value: str, template: str, field: str = "labels") -> RenderError:
    return RenderError(
        f"{field[:-1]} {key}: {written!r} differs from {value!r}, which a kustomization sets",
        template,
        None,
    )
