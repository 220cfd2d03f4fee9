"""Routes: the weighted entry point of a model in an environment (docs/traffic.md).

With ``spec.traffic.router`` ``gateway-api`` or ``istio`` every version a deployment serves runs
as a workload of its own, named after its version (so finishing a canary prunes exactly the old
stable workload and touches no selector), and one route object splits the requests with the
exact weights of the spec: an HTTPRoute's ``backendRefs`` or a VirtualService's weighted
destinations.  Applying the tree to an empty cluster yields the declared split: nothing depends
on what a controller remembers of earlier revisions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from mlgitops import ir
from mlgitops.targets import k8s
from mlgitops.targets.base import OutputFile, RenderContext

SERVICE_PORT = 80  # the port of KServe's predictor Service and of our Deployments' Services


@dataclass(frozen=True, slots=True)
class Backend:
    """One version's workload."""

    version: str
    weight: int  # its share of the requests; a mirror-only version has 0 and no place in the split
    track: str  # "stable" | "canary" | "mirror"
    name: str  # the workload's name, pinned to its version
    serving: ir.Serving  # its settings (a canary's overrides applied)

    @property
    def storage_uri(self) -> str | None:
        return self.serving.storage_uri


def backends(d: ir.Deployment) -> list[Backend]:
    """Every workload of ``d``: the versions of the split, whose weights sum to 100, then a
    mirrored version that is neither (reached only by the copies)."""
    stable_weight = 100 - d.canary.traffic if d.canary else 100
    out = [Backend(d.version, stable_weight, "stable", k8s.workload_name(d.model, d.version), d.serving)]
    if d.canary is not None:
        c = d.canary
        name = k8s.workload_name(d.model, c.version)
        out.append(Backend(c.version, c.traffic, "canary", name, c.serving or d.serving))
    mirror = d.mirror
    if mirror is not None and mirror.version not in {b.version for b in out}:
        serving = dataclasses.replace(d.serving, storage_uri=mirror.storage_uri)
        out.append(Backend(mirror.version, 0, "mirror", k8s.workload_name(d.model, mirror.version), serving))
    return out


def mirror_service(project: ir.Project, d: ir.Deployment) -> str | None:
    if d.mirror is None:
        return None
    return service_name_of(project, k8s.workload_name(d.model, d.mirror.version))


def service_name_of(project: ir.Project, workload: str) -> str:
    """The Service in front of a version's pods: KServe's ``<isvc>-predictor``, or our own."""
    return f"{workload}-predictor" if project.serving == "kserve" else workload


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
                    "mirror": mirror_service(project, d),
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
            mirror = mirror_service(project, d)
            context = {
                "d": d,
                "labels": dict(d.labels),
                "annotations": dict(d.annotations),
                # exposed: the host name the Gateway receives; else the mesh-internal name
                "hosts": [d.expose.hostname if d.expose else f"{d.model}.{namespace}.svc.cluster.local"],
                "gateways": gateways,
                "destinations": destinations,
                "mirror": (
                    {"host": f"{mirror}.{namespace}.svc.cluster.local", "port": {"number": SERVICE_PORT}}
                    if mirror
                    else None
                ),
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
    return [
        {"name": service_name_of(project, b.name), "port": SERVICE_PORT, "weight": b.weight}
        for b in backends(d)
        if b.track != "mirror"
    ]
