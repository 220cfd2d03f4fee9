"""Flux target: one GitRepository and a Kustomization per environment.

Kustomizations depend on the previous environment's (``dependsOn``, plus the
Kustomizations outside mlgitops the spec names), prune what disappears from git
and wait for health before reporting ready.  An environment synced from a revision
of its own reads it through a GitRepository of its own.
"""

from __future__ import annotations

from mlgitops import ir
from mlgitops.outputs import GITOPS_DIR
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.gitops import environment_path, gitops_source, labels, object_annotations, object_name


class Flux:
    name = "flux"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        base = f"{project.output}/{GITOPS_DIR}/flux"
        files = [
            ctx.yaml_file(
                self.name,
                "gitrepository.yaml.j2",
                {
                    "project": project,
                    "labels": labels(project),
                    "annotations": object_annotations(project),
                    "name": project.name,
                    "branch": project.revision,
                },
                path=f"{base}/gitrepository.yaml",
                source=gitops_source(project),
            )
        ]
        previous: ir.Environment | None = None
        for env in project.environments:
            source = project.name
            if env.revision is not None and env.revision != project.revision:
                source = object_name(project, env)
                files.append(
                    ctx.yaml_file(
                        self.name,
                        "gitrepository.yaml.j2",
                        {
                            "project": project,
                            "labels": labels(project, env),
                            "annotations": object_annotations(project),
                            "name": source,
                            "branch": env.revision,
                        },
                        path=f"{base}/gitrepository-{env.name}.yaml",
                        source=gitops_source(project),
                    )
                )
            depends_on = [object_name(project, previous)] if previous else []
            context = {
                "project": project,
                "env": env,
                "name": object_name(project, env),
                "labels": labels(project, env),
                "annotations": object_annotations(project),
                "path": "./" + environment_path(project, env),
                "source": source,
                # in order, each once: a name the spec repeats would only be noise
                "depends_on": list(dict.fromkeys([*depends_on, *project.flux.depends_on, *env.depends_on])),
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
