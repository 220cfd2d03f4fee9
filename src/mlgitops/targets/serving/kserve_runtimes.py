"""The ``kserve-runtimes`` target: the serving runtimes the project declares (``spec.runtimes``)
as KServe objects, listed by the environments' kustomizations.

A ``ServingRuntime`` is namespaced: KServe looks for it in the InferenceService's namespace, so
each environment gets one in its own.  A ``ClusterServingRuntime`` is cluster-scoped: one object
per cluster, which two environments on the same cluster must not both own (their GitOps
applications would fight over it), so it is written once per cluster (``environments[].cluster``,
unset being the local one), in the first environment, by promotion order, deployed there.
"""

from __future__ import annotations

from mlgitops import ir
from mlgitops.targets.base import OutputFile, RenderContext
from mlgitops.targets.k8s import HELPERS

SOURCE = "mlgitops.yaml"


class KServeRuntimes:
    name = "kserve-runtimes"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        first_on_cluster: dict[str | None, str] = {}
        for env in project.environments:
            first_on_cluster.setdefault(env.cluster, env.name)
        labels = {
            **dict(project.labels),
            "app.kubernetes.io/managed-by": "mlgitops",
            "app.kubernetes.io/part-of": project.name,
        }
        for env in project.environments:
            for runtime in project.runtimes:
                cluster_scoped = runtime.kind == "ClusterServingRuntime"
                if cluster_scoped and first_on_cluster[env.cluster] != env.name:
                    continue
                context = {
                    "r": runtime,
                    "namespace": None if cluster_scoped else env.namespace,
                    "labels": dict(sorted(labels.items())),
                    "formats": [_format(f) for f in runtime.model_formats],
                    **HELPERS,
                }
                files.append(
                    ctx.yaml_file(
                        self.name,
                        "servingruntime.yaml.j2",
                        context,
                        # not a DNS label, so never a model's directory
                        path=f"{project.output}/{env.name}/{runtime.kind.lower()}-{runtime.name}.yaml",
                        source=SOURCE,
                        environment=env.name,
                    )
                )
        return files


def _format(f: ir.ModelFormat) -> dict[str, object]:
    out: dict[str, object] = {"name": f.name}
    if f.version is not None:
        out["version"] = f.version
    if f.auto_select is not None:
        out["autoSelect"] = f.auto_select
    if f.priority is not None:
        out["priority"] = f.priority
    return out
