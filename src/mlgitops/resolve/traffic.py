"""Whether a canary's split can be made exactly, from git alone, by the chosen serving target and
traffic router (docs/traffic.md).  Run by :func:`mlgitops.resolve.resolve`, which knows the
merged ``deploymentMode`` of each deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.spec.project import ProjectSpec
from mlgitops.validate import ValidatedProject

if TYPE_CHECKING:
    from mlgitops.resolve import ResolvedDeployment

_ADD_ROUTER = (
    "set spec.traffic in mlgitops.yaml, e.g. traffic: {router: gateway-api, gateway: {name: "
    "<gateway>, namespace: <namespace>}} (or router: istio), for one workload per version "
    "behind a route with exact weights"
)


def check_project(project: ValidatedProject) -> Iterator[Diagnostic]:
    """The router itself: kserve-native needs KServe, gateway-api needs a Gateway."""
    spec: ProjectSpec = project.spec
    traffic = spec.spec.traffic
    if traffic is None:
        return
    if traffic.router == "kserve-native" and spec.spec.serving != "kserve":
        yield make(
            "MLG342",
            f"router kserve-native needs the kserve serving target, not {spec.spec.serving}",
            project.doc.locate(("spec", "traffic", "router")),
            "use router: gateway-api or router: istio",
        )
    if traffic.router == "gateway-api" and traffic.gateway is None:
        yield make(
            "MLG342",
            "router gateway-api needs the Gateway its HTTPRoutes attach to",
            project.doc.locate(("spec", "traffic", "router")),
            "add gateway: {name: <gateway>, namespace: <namespace>} under spec.traffic",
        )


def check_deployment(project: ValidatedProject, item: ResolvedDeployment) -> Iterator[Diagnostic]:
    """A canary without a router is exact only on KServe serverless, and there only as long as
    the cluster remembers the previous revision; mirror and expose need a route."""
    spec = project.spec.spec
    router = spec.traffic.router if spec.traffic else None
    if router in ("gateway-api", "istio"):
        origin = item.serving.origin("service", "name")
        if item.serving.get("service", "name") is not None and origin is not None:
            yield make(
                "MLG338",
                f"service.name cannot be honoured with router {router}: each version has a Service "
                "named after it, and the route is the model's entry point",
                origin.location(),
                "remove service.name, or set spec.traffic.expose for a hostname",
                environment=item.environment.name,
            )
        return
    env = item.environment
    for field in ("mirror", "expose"):
        if getattr(item.deployment, field) is not None:
            yield make(
                "MLG343",
                f"{field} needs a route, which "
                + ("no spec.traffic.router" if router is None else f"router {router}")
                + " renders",
                item.model.doc.locate(("spec", "deployments", env.name, field), key=True),
                "set spec.traffic.router to gateway-api or istio in mlgitops.yaml",
            )
    canary = item.deployment.canary
    if canary is None:
        return
    where = item.model.doc.locate(("spec", "deployments", env.name, "canary"))
    setting = "spec.traffic" if router is None else "spec.traffic.router"
    if spec.serving == "kubernetes":
        yield make(
            "MLG340",
            f"a canary on plain Kubernetes without a traffic router splits by pod count, not "
            f"{canary.traffic}%: one Service balances the stable and canary pods alike",
            where,
            _ADD_ROUTER if router is None else f"{setting}: use gateway-api or istio",
            environment=env.name,
        )
        return
    if item.serving.get("deploymentMode") == "standard":
        yield make(
            "MLG340",
            f"KServe standard mode ignores canaryTrafficPercent: the canary in {env.name} would "
            "take every request, not " + f"{canary.traffic}%",
            where,
            _ADD_ROUTER if router is None else f"{setting}: use gateway-api or istio",
            environment=env.name,
        )
        return
    if env.approval == "required":
        yield make(
            "MLG341",
            f"the stable side of the canary in {env.name} is KServe's previously rolled-out "
            "revision, which only the cluster remembers: a cluster rebuilt from git serves the "
            "canary alone",
            where,
            _ADD_ROUTER,
            environment=env.name,
        )
