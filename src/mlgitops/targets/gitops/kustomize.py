"""A ``kustomization.yaml`` (and Namespace) per environment, and one per model directory of it.

The environment's lists its files and its model directories; a model directory's lists the
files there and sets what all of their objects share (``k8s.model_kustomized``). Runs after the
other targets, because it lists what they produced: a model whose files the render cache kept
gets its kustomization from the IR and the paths all the same; a model the same on both sides
of a ``diff`` gets an outline (its path, no content), as its other files do.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from mlgitops import ir
from mlgitops.render import yamlout
from mlgitops.targets import k8s
from mlgitops.targets.base import GeneratedPath, OutputFile, RenderContext
from mlgitops.targets.gitops import gitops_source, labels
from mlgitops.targets.shared_labels import TEMPLATE_LABELS, TEMPLATE_PATHS


def kustomizations(
    project: ir.Project, files: Sequence[GeneratedPath], ctx: RenderContext, outline: Collection[str] = ()
) -> list[OutputFile]:
    """The kustomizations of every environment and model directory; ``outline``: models whose
    kustomizations are only wanted for their paths (``compile.Outline``: empty content)."""
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
    sources = {
        f"{project.output}/{d.environment.name}/{m.name}": d.source
        for m in project.models
        for d in m.deployments
    }
    for env in project.environments:
        base = f"{project.output}/{env.name}"
        resources: list[str] = []
        in_models: dict[str, list[str]] = {}
        for f in files:
            if f.environment != env.name:
                continue
            directory, _, name = f.path.rpartition("/")
            if directory in models:
                in_models.setdefault(directory, []).append(name)
            else:
                resources.append(f.path[len(base) + 1 :])
        for directory, names in in_models.items():
            resources.append(directory[len(base) + 1 :])
            if directory.rpartition("/")[2] in outline:
                out.append(OutputFile(f"{directory}/kustomization.yaml", "", sources[directory]))
                continue
            out.append(_model_kustomization(ctx, directory, models[directory], names, sources[directory]))
        resources.sort()
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


def _model_kustomization(
    ctx: RenderContext, directory: str, shared: k8s.ModelKustomized, names: list[str], source: str
) -> OutputFile:
    transformer = {
        "apiVersion": "builtin",
        "kind": "AnnotationsTransformer",
        "metadata": {"name": "model-annotations"},
        "annotations": dict(shared.annotations),
        "fieldSpecs": [{"path": "metadata/annotations", "create": True}],
    }
    return ctx.yaml_file(
        "kustomize",
        "model-kustomization.yaml.j2",
        {
            "labels": dict(shared.labels),
            # kustomize reads an inline transformer's configuration from a YAML string
            "transformers": [yamlout.dump(transformer)] if shared.annotations else [],
            "resources": sorted(names),
        },
        path=f"{directory}/kustomization.yaml",
        source=source,
    )
