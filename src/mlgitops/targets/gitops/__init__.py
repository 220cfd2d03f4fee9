"""Values shared by the GitOps targets."""

from __future__ import annotations

from mlgitops import ir

IN_CLUSTER = "https://kubernetes.default.svc"
IN_CLUSTER_NAME = "in-cluster"


def environment_path(project: ir.Project, env: ir.Environment) -> str:
    """Path of an environment's kustomization inside the git repository."""
    parts = [p for p in (project.repo_subdir, project.output, env.name) if p]
    return "/".join(parts)


def object_name(project: ir.Project, env: ir.Environment) -> str:
    return f"{project.name}-{env.name}"


def labels(project: ir.Project, env: ir.Environment | None = None) -> dict[str, str]:
    out = {
        **dict(project.labels),
        "app.kubernetes.io/managed-by": "mlgitops",
        "app.kubernetes.io/part-of": project.name,
    }
    if env is not None:
        out["mlgitops.dev/environment"] = env.name
    return dict(sorted(out.items()))


def object_annotations(project: ir.Project) -> dict[str, str]:
    """The project's description, on every GitOps object (never inside an ApplicationSet's
    template, whose strings Argo CD parses as Go templates)."""
    return {"mlgitops.dev/description": project.description} if project.description else {}


def gitops_source(project: ir.Project) -> str:
    """The spec file GitOps objects come from (they describe the whole project)."""
    return "mlgitops.yaml"
