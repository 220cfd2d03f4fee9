"""Flux target: one GitRepository and a Kustomization per environment.

Kustomizations depend on the previous environment's (``dependsOn``), prune
what disappears from git and wait for health before reporting ready.
"""

from __future__ import annotations

from mlgitops import ir
from mlgitops.outputs import GITOPS_DIR
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.gitops import environment_path, gitops_source, labels, object_name


class Flux:
    name = "flux"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        base = f"{project.output}/{GITOPS_DIR}/flux"
        files = [
            ctx.yaml_file(
                self.name,
                "gitrepository.yaml.j2",
                {"project": project, "labels": labels(project)},
                path=f"{base}/gitrepository.yaml",
                source=gitops_source(project),
            )
        ]
        previous: ir.Environment | None = None
        for env in project.environments:
            context = {
                "project": project,
                "env": env,
                "name": object_name(project, env),
                "labels": labels(project, env),
                "path": "./" + environment_path(project, env),
                "depends_on": object_name(project, previous) if previous else None,
            }
            files.append(
                ctx.yaml_file(
                    self.name,
                    "kustomization.yaml.j2",
                    context,
                    path=f"{base}/{env.name}.yaml",
                    source=gitops_source(project),
                )
            )
            previous = env
        return files
