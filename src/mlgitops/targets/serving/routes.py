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
from mlgitops.ir.build import LABEL_PREFIX
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
    out = [Backend(d.version, stable_weight, "stable", k8s.workload_name(d.name, d.version), d.serving)]
    if d.canary is not None:
        c = d.canary
        name = k8s.workload_name(d.name, c.version)
        out.append(Backend(c.version, c.traffic, "canary", name, c.serving or d.serving))
    mirror = d.mirror
    if mirror is not None and mirror.version not in {b.version for b in out}:
        serving = dataclasses.replace(d.serving, storage_uri=mirror.storage_uri)
        out.append(Backend(mirror.version, 0, "mirror", k8s.workload_name(d.name, mirror.version), serving))
    return out


def mirror_service(project: ir.Project, d: ir.Deployment) -> str | None:
    if d.mirror is None:
        return None
    return service_name_of(project, k8s.workload_name(d.name, d.mirror.version))


def service_name_of(project: ir.Project, workload: str) -> str:
    """The Service in front of a version's pods: KServe's ``<isvc>-predictor``, or our own."""
    return f"{workload}-predictor" if project.serving == "kserve" else workload


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule of a route: the requests it matches and the weighted Services they go to."""

    header: tuple[str, str] | None  # (name, exact value); None: every request of the route
    backends: tuple[tuple[str, int], ...]  # (Service name, weight)
    mirrored: bool  # the mirror's copies are taken from this rule's requests


def rules(project: ir.Project, d: ir.Deployment) -> list[Rule]:
    """The route's rules, most specific first: one per variant with a header match, then the
    weighted split (the versions of this model, or the experiment's variants)."""
    experiment = d.experiment
    if experiment is None:
        split = tuple(
            (service_name_of(project, b.name), b.weight) for b in backends(d) if b.track != "mirror"
        )
        return [Rule(None, split, True)]

    def service(variant: ir.Variant) -> str:
        return service_name_of(project, k8s.workload_name(variant.name, variant.version))

    matched = [Rule(v.header, ((service(v), 100),), False) for v in experiment.variants if v.header]
    return [*matched, Rule(None, tuple((service(v), v.weight) for v in experiment.variants), True)]


def route_annotations(d: ir.Deployment) -> dict[str, str]:
    annotations = dict(d.annotations)
    if d.experiment is not None:
        annotations[f"{LABEL_PREFIX}/experiment-default"] = d.experiment.default
        annotations[f"{LABEL_PREFIX}/experiment"] = ", ".join(
            f"{v.model} {v.version} {v.weight}" for v in d.experiment.variants
        )
    return annotations


class _Routes:
    """A route target: one route object per model × environment, for one router."""

    name: str
    scope = "model"
    router: str
    template: str

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        traffic = project.traffic
        if traffic is None or traffic.router != self.router:
            return []
        return [
            ctx.yaml_file(
                self.name,
                self.template,
                {
                    "d": d,
                    "labels": dict(d.labels),
                    "annotations": route_annotations(d),
                    **self.context(project, traffic, d, rules(project, d)),
                },
                path=f"{project.output}/{d.environment.name}/{d.model}/{self.template.removesuffix('.j2')}",
                source=d.source,
                environment=d.environment.name,
            )
            for d in project.deployments()
        ]

    def context(
        self, project: ir.Project, traffic: ir.Traffic, d: ir.Deployment, route_rules: list[Rule]
    ) -> dict[str, Any]:
        raise NotImplementedError


class GatewayRoutes(_Routes):
    """Gateway API ``HTTPRoute`` per model × environment."""

    name = "gateway"
    router = "gateway-api"
    template = "httproute.yaml.j2"

    def context(
        self, project: ir.Project, traffic: ir.Traffic, d: ir.Deployment, route_rules: list[Rule]
    ) -> dict[str, Any]:
        return {
            "traffic": traffic,
            "rules": [
                {
                    "header": rule.header,
                    "backends": [
                        {"name": name, "port": SERVICE_PORT, "weight": w} for name, w in rule.backends
                    ],
                    "mirror": mirror_service(project, d) if rule.mirrored else None,
                }
                for rule in route_rules
            ],
        }


class IstioRoutes(_Routes):
    """Istio ``VirtualService`` per model × environment."""

    name = "istio"
    router = "istio"
    template = "virtualservice.yaml.j2"

    def context(
        self, project: ir.Project, traffic: ir.Traffic, d: ir.Deployment, route_rules: list[Rule]
    ) -> dict[str, Any]:
        namespace = d.environment.namespace

        def destination(service: str) -> dict[str, Any]:
            return {"host": f"{service}.{namespace}.svc.cluster.local", "port": {"number": SERVICE_PORT}}

        mirror = mirror_service(project, d)
        return {
            # exposed: the host name the Gateway receives; else the mesh-internal name
            "hosts": [d.expose.hostname if d.expose else f"{d.name}.{namespace}.svc.cluster.local"],
            "gateways": (
                [f"{traffic.gateway_namespace}/{traffic.gateway_name}", "mesh"]
                if traffic.gateway_name
                else None
            ),
            "rules": [
                {
                    "header": rule.header,
                    "route": [{"destination": destination(name), "weight": w} for name, w in rule.backends],
                    "mirror": destination(mirror) if mirror and rule.mirrored else None,
                }
                for rule in route_rules
            ],
        }
