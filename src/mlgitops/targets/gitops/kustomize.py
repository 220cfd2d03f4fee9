"""A ``kustomization.yaml`` (and Namespace) per environment, listing every manifest of it.

Runs after the other targets, because it lists what they produced.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlgitops import ir
from mlgitops.targets import k8s
from mlgitops.targets.base import GeneratedPath, OutputFile, RenderContext
from mlgitops.targets.gitops import gitops_source, labels
from mlgitops.targets.shared_labels import TEMPLATE_LABELS, TEMPLATE_PATHS


def kustomizations(
    project: ir.Project, files: Sequence[GeneratedPath], ctx: RenderContext
) -> list[OutputFile]:
    out = []
    shared = k8s.kustomized_labels(project)
    fields = [
        {"kind": kind, "path": "/".join((*path, "metadata", "labels"))}
        for kind, paths in TEMPLATE_PATHS.items()
        for path in paths
    ]
    for env in project.environments:
        base = f"{project.output}/{env.name}"
        resources = sorted(f.path[len(base) + 1 :] for f in files if f.environment == env.name)
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
