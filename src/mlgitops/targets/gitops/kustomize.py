"""A ``kustomization.yaml`` (and Namespace) per environment, and one per model directory of it.

The environment's lists its files and its model directories; a model directory's lists the
files there and sets what all of their objects share (``k8s.model_kustomized``). Each lists what
other targets produced: a model directory's is rendered with the model's own files, in the render
worker that rendered them (``compile._render_models``), so the render cache keeps it with them
and a model the same on both sides of a ``diff`` gets an outline (its path, no content), as its
other files do; the environments' run last, in the parent, as they list every model directory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mlgitops import ir
from mlgitops.render import yamlout
from mlgitops.targets.base import GeneratedPath, OutputFile, RenderContext
from mlgitops.targets.gitops import gitops_source, labels
from mlgitops.targets.shared_labels import TEMPLATE_LABELS, TEMPLATE_PATHS


def kustomizations(
    project: ir.Project, files: Sequence[GeneratedPath], ctx: RenderContext
) -> list[OutputFile]:
    """The kustomization (and Namespace) of every environment, listing its files and its model
    directories (whose own kustomizations come with the model's files: :func:`model_kustomizations`)."""
    out = []
    # what compile worked out for the render context (k8s.kustomized_labels, model_kustomized),
    # which left it out of the files these kustomizations list
    shared = ctx.kustomized
    fields = [
        {"kind": kind, "path": "/".join((*path, "metadata", "labels"))}
        for kind, paths in TEMPLATE_PATHS.items()
        for path in paths
    ]
    models = ctx.model_kustomized
    listed: dict[str, set[str]] = {env.name: set() for env in project.environments}
    for f in files:
        if f.environment is None or f.environment not in listed:
            continue
        directory = f.path.rpartition("/")[0]
        listed[f.environment].add(directory if directory in models else f.path)
    for env in project.environments:
        base = f"{project.output}/{env.name}"
        resources = sorted(path[len(base) + 1 :] for path in listed[env.name])
        context = {"project": project, "env": env, "labels": labels(project, env)}
        out.append(
            ctx.yaml_file(
                "kustomize",
                "namespace.yaml.j2",
                context,
                path=f"{base}/namespace.yaml",
                source=gitops_source(project),
            )
        )
        out.append(
            ctx.yaml_file(
                "kustomize",
                "kustomization.yaml.j2",
                {
                    **context,
                    "resources": ["namespace.yaml", *resources],
                    "shared_labels": shared[env.name],
                    "template_labels": {key: shared[env.name][key] for key in TEMPLATE_LABELS},
                    "template_fields": fields,
                },
                path=f"{base}/kustomization.yaml",
                source=gitops_source(project),
            )
        )
    return out


def model_kustomizations(
    model: ir.Model, files: Sequence[GeneratedPath], ctx: RenderContext
) -> list[OutputFile]:
    """The kustomization of each of ``model``'s directories, listing its ``files`` there (the
    per-model targets' files of that model alone): rendered beside them, in the render worker,
    and kept with them by the render cache; an outline's (``compile.Outline``) is its path."""
    names: dict[str, list[str]] = {}
    environments: dict[str, str] = {}
    for f in files:
        if f.environment is None:
            continue
        directory, _, name = f.path.rpartition("/")
        if directory in ctx.model_kustomized:
            names.setdefault(directory, []).append(name)
            environments[directory] = f.environment
    sources = {d.environment.name: d.source for d in model.deployments}
    # the model's annotations are most often the same in every environment: written once
    transformers: dict[tuple[tuple[str, str], ...], list[str]] = {}
    out = []
    for directory, listed in names.items():
        source = sources[environments[directory]]
        shared = ctx.model_kustomized[directory]
        path = f"{directory}/kustomization.yaml"
        if ctx.paths_only:
            out.append(OutputFile(path, "", source))
            continue
        annotations = tuple(shared.annotations.items())
        if annotations not in transformers:
            transformers[annotations] = _transformers(shared.annotations)
        context = {
            "labels": dict(shared.labels),
            "transformers": transformers[annotations],
            "resources": sorted(listed),
        }
        out.append(
            ctx.yaml_file("kustomize", "model-kustomization.yaml.j2", context, path=path, source=source)
        )
    return out


def _transformers(annotations: Mapping[str, str]) -> list[str]:
    """The AnnotationsTransformer that sets ``annotations`` on every object's metadata (none
    without any): kustomize reads an inline transformer's configuration from a YAML string."""
    if not annotations:
        return []
    transformer = {
        "apiVersion": "builtin",
        "kind": "AnnotationsTransformer",
        "metadata": {"name": "model-annotations"},
        "annotations": dict(annotations),
        "fieldSpecs": [{"path": "metadata/annotations", "create": True}],
    }
    return [yamlout.dump(transformer)]
