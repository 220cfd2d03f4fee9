"""Argo CD target: an Application per environment, or one ApplicationSet.

Each Application syncs ``<output>/<env>`` of the repository (from the environment's own
revision if it names one) automatically, with pruning and self-healing, unless the
environment asks for manual sync, and creates the namespace if missing.
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir, outputs
from mlgitops.outputs import DEFAULT_APPLICATION_NAME, GITOPS_DIR
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.gitops import (
    IN_CLUSTER,
    IN_CLUSTER_NAME,
    environment_path,
    gitops_source,
    labels,
    object_annotations,
)

# One ApplicationSet template serves every environment; an environment synced by hand drops
# the template's automated sync through this patch (Argo CD ≥ 2.10), keyed on its element.
_AUTOMATED_ONLY_PATCH = """{{- if eq .syncPolicy "automated" }}
spec:
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
{{- end }}
"""


class ArgoCD:
    name = "argocd"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        base = f"{project.output}/{GITOPS_DIR}/argocd"
        if project.argocd.application_set:
            by_name = any("name" in _destination(env) for env in project.environments)
            # Argo CD parses the template's strings as Go templates, but substitutes a generator
            # element's values without parsing them: every spec value travels in the elements,
            # so a '{{' in a repository URL or revision stays text.
            some_manual = any(env.manual_sync for env in project.environments)
            named = project.argocd.application_name != DEFAULT_APPLICATION_NAME
            elements = [
                {
                    "repoURL": project.repository,
                    "revision": env.revision or project.revision,
                    "env": env.name,
                    "namespace": env.namespace,
                    "path": environment_path(project, env),
                    "cluster": _destination(env, by_name=by_name)["name" if by_name else "server"],
                    **({"name": application_name(project, env)} if named else {}),
                    **({"syncPolicy": _sync_policy(env)} if some_manual else {}),
                }
                for env in project.environments
            ]
            context = {
                "project": project,
                "labels": labels(project),
                "annotations": object_annotations(project),
                "elements": elements,
                "cluster_key": "name" if by_name else "server",
                "name_template": "{{.name}}" if named else project.name + "-{{.env}}",
                "template_patch": _AUTOMATED_ONLY_PATCH if some_manual else None,
            }
            return [
                ctx.yaml_file(
                    self.name,
                    "applicationset.yaml.j2",
                    context,
                    path=f"{base}/applicationset.yaml",
                    source=gitops_source(project),
                )
            ]
        return [
            ctx.yaml_file(
                self.name,
                "application.yaml.j2",
                {
                    "project": project,
                    "env": env,
                    "name": application_name(project, env),
                    "labels": labels(project, env),
                    "annotations": _annotations(project, env),
                    "path": environment_path(project, env),
                    "destination": {**_destination(env), "namespace": env.namespace},
                },
                path=f"{base}/{env.name}.yaml",
                source=gitops_source(project),
            )
            for env in project.environments
        ]


def application_name(project: ir.Project, env: ir.Environment) -> str:
    """``spec.argocd.applicationName`` for one environment."""
    return outputs.application_name(project.argocd.application_name, project.name, env.name)


def _annotations(project: ir.Project, env: ir.Environment) -> dict[str, str]:
    waves = {"argocd.argoproj.io/sync-wave": str(env.order)} if project.argocd.sync_waves else {}
    return dict(sorted({**object_annotations(project), **waves}.items()))


def _sync_policy(env: ir.Environment) -> str:
    return "manual" if env.manual_sync else "automated"


def _destination(env: ir.Environment, *, by_name: bool = False) -> dict[str, Any]:
    """Argo CD names a cluster by API server URL or by its registered name (``in-cluster`` locally)."""
    if env.cluster is None:
        return {"name": IN_CLUSTER_NAME} if by_name else {"server": IN_CLUSTER}
    if env.cluster.startswith(("https://", "http://")) and not by_name:
        return {"server": env.cluster}
    return {"name": env.cluster}
