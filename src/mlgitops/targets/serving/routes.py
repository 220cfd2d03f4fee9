"""Routes: the weighted entry point of a model in an environment (docs/traffic.md).

With ``spec.traffic.router`` ``gateway-api`` or ``istio`` every version a deployment serves runs
as a workload of its own, named after its version (so finishing a canary prunes exactly the old
stable workload and touches no selector), and one route object splits the requests with the
exact weights of the spec: an HTTPRoute's ``backendRefs`` or a VirtualService's weighted
destinations.  Applying the tree to an empty cluster yields the declared split: nothing depends
on what a controller remembers of earlier revisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlgitops import ir
from mlgitops.targets import k8s
from mlgitops.targets.base import OutputFile, RenderContext

SERVICE_PORT = 80  # the port of KServe's predictor Service and of our Deployments' Services


@dataclass(frozen=True, slots=True)
class Backend:
    """One version behind the route."""

    version: str
    storage_uri: str | None
    weight: int
    track: str  # "stable" | "canary"
    name: str  # the workload's name, pinned to its version


def backends(d: ir.Deployment) -> list[Backend]:
    """The versions of ``d`` with their weights; they sum to 100."""
    stable_weight = 100 - d.canary.traffic if d.canary else 100
    out = [
        Backend(
            d.version, d.serving.storage_uri, stable_weight, "stable", k8s.workload_name(d.model, d.version)
        )
    ]
    if d.canary is not None:
        c = d.canary
        out.append(
            Backend(c.version, c.storage_uri, c.traffic, "canary", k8s.workload_name(d.model, c.version))
        )
    return out


def service_name(project: ir.Project, backend: Backend) -> str:
    """The Service in front of a version's pods: KServe's ``<isvc>-predictor``, or our own."""
    return f"{backend.name}-predictor" if project.serving == "kserve" else backend.name


class GatewayRoutes:
    """Gateway API ``HTTPRoute`` per model × environment."""

    name = "gateway"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        traffic = project.traffic
        if traffic is None or traffic.router != "gateway-api":
            return []
        return [
            ctx.yaml_file(
                self.name,
                "httproute.yaml.j2",
                {
                    "d": d,
                    "labels": dict(d.labels),
                    "annotations": dict(d.annotations),
                    "traffic": traffic,
                    "backends": _refs(project, d),
                },
                path=f"{project.output}/{d.environment.name}/{d.model}/httproute.yaml",
                source=d.source,
                environment=d.environment.name,
            )
            for d in project.deployments()
        ]


class IstioRoutes:
    """Istio ``VirtualService`` per model × environment."""

    name = "istio"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        traffic = project.traffic
        if traffic is None or traffic.router != "istio":
            return []
        files = []
        for d in project.deployments():
            namespace = d.environment.namespace
            destinations = [
                {
                    "destination": {
                        "host": f"{ref['name']}.{namespace}.svc.cluster.local",
                        "port": {"number": SERVICE_PORT},
                    },
                    "weight": ref["weight"],
                }
                for ref in _refs(project, d)
            ]
            gateways = (
                [f"{traffic.gateway_namespace}/{traffic.gateway_name}", "mesh"]
                if traffic.gateway_name
                else None
            )
            context = {
                "d": d,
                "labels": dict(d.labels),
                "annotations": dict(d.annotations),
                "hosts": [f"{d.model}.{namespace}.svc.cluster.local"],
                "gateways": gateways,
                "destinations": destinations,
            }
            files.append(
                ctx.yaml_file(
                    self.name,
                    "virtualservice.yaml.j2",
                    context,
                    path=f"{project.output}/{d.environment.name}/{d.model}/virtualservice.yaml",
                    source=d.source,
                    environment=d.environment.name,
                )
            )
        return files


def _refs(project: ir.Project, d: ir.Deployment) -> list[dict[str, Any]]:
    return [{"name": service_name(project, b), "port": SERVICE_PORT, "weight": b.weight} for b in backends(d)]
