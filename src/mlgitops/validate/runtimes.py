"""Checks of the serving runtimes the project declares (`spec.runtimes`): unique names apart
from the built-in runtimes (MLG383), and what the project's serving target can use (MLG382):
KServe selects a runtime by model format, so it needs one; the plain ``kubernetes`` target runs
only the runtime's container and fills in only the placeholders it knows."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.spec.runtimes import BUILTIN_RUNTIMES, NAME_PLACEHOLDER, NAMESPACE_PLACEHOLDER
from mlgitops.validate import ValidatedProject

_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_FILLED = frozenset({NAME_PLACEHOLDER, NAMESPACE_PLACEHOLDER})
# Fields describing the KServe object, which the kubernetes target does not render.
_KSERVE_ONLY = ("protocolVersions", "supportedModelFormats", "annotations", "resources")


def check_runtimes(project: ValidatedProject) -> Iterator[Diagnostic]:
    spec = project.spec.spec
    doc = project.doc
    seen: dict[str, int] = {}
    for index, runtime in enumerate(spec.runtimes):
        at = ("spec", "runtimes", index)
        if runtime.name in BUILTIN_RUNTIMES:
            yield make(
                "MLG383",
                f"serving runtime {runtime.name!r} is named like a built-in runtime",
                doc.locate((*at, "name")),
                "give the declared runtime a name of its own (serving.runtime would be ambiguous)",
            )
        elif runtime.name in seen:
            yield make(
                "MLG383",
                f"serving runtime {runtime.name!r} is declared twice",
                doc.locate((*at, "name")),
                "runtime names must be unique",
                related=[doc.locate(("spec", "runtimes", seen[runtime.name], "name"))],
            )
        else:
            seen[runtime.name] = index
        if spec.serving == "kserve":
            if not runtime.supported_model_formats:
                yield make(
                    "MLG382",
                    f"serving runtime {runtime.name!r} names no supportedModelFormats, and a KServe "
                    "InferenceService names its model's format",
                    doc.locate(
                        at if runtime.supported_model_formats is None else (*at, "supportedModelFormats")
                    ),
                    "list the formats it serves, e.g. supportedModelFormats: [{name: vllm}]",
                )
            continue
        yield from _kubernetes(project, index)


def _kubernetes(project: ValidatedProject, index: int) -> Iterator[Diagnostic]:
    """What the plain target cannot honour: it renders no ServingRuntime object, and fills in
    only ``{{.Name}}`` and ``{{.Namespace}}`` (KServe evaluates a Go template over the whole
    InferenceService)."""
    runtime = project.spec.spec.runtimes[index]
    at = ("spec", "runtimes", index)
    written = runtime.model_dump(by_alias=True, exclude_unset=True)
    for key in ("kind", *_KSERVE_ONLY):
        if key in written and (key != "kind" or runtime.kind != "ServingRuntime"):
            yield make(
                "MLG382",
                f"the kubernetes serving target cannot honour {key} of serving runtime "
                f"{runtime.name!r}: it runs the runtime's container, and only KServe renders the "
                "ServingRuntime object",
                project.doc.locate((*at, key)),
                "remove it (set serving.resources or serving.annotations on the models), or use "
                "serving: kserve",
            )
    for arg_index, arg in enumerate(runtime.args or ()):
        unknown = [p for p in _PLACEHOLDER.findall(arg) if p not in _FILLED]
        if unknown:
            yield make(
                "MLG382",
                f"the kubernetes serving target cannot fill in {unknown[0]!r} in an argument of "
                f"serving runtime {runtime.name!r}",
                project.doc.locate((*at, "args", arg_index)),
                f"it fills in {NAME_PLACEHOLDER} (the model name) and {NAMESPACE_PLACEHOLDER}; "
                "write the value itself",
            )
