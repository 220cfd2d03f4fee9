"""Whether a canary's split can be made exactly, from git alone, by the chosen serving target and
traffic router (docs/traffic.md).  Run by :func:`mlgitops.resolve.resolve`, which knows the
merged ``deploymentMode`` of each deployment."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from mlgitops.diagnostics import Diagnostic, did_you_mean, make
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
    for field in ("mirror", "expose", "experiment"):
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


def check_experiments(project: ValidatedProject) -> Iterator[Diagnostic]:
    """An experiment's variants are models deployed in its environment, once each, with
    weights summing to 100 and header matches that tell them apart."""
    deployed = {m.name: frozenset(m.spec.spec.deployments) for m in project.models}
    for model in project.models:
        for env, deployment in model.spec.spec.deployments.items():
            experiment = deployment.experiment
            if experiment is None:
                continue
            path = ("spec", "deployments", env, "experiment")
            locate = model.doc.locate
            if deployment.canary is not None:
                yield make(
                    "MLG345",
                    f"an experiment and a canary cannot share the route of {model.name!r} in {env!r}",
                    locate((*path,), key=True),
                    "finish or abort the canary first (promote --finish-canary / --abort-canary)",
                )
            total = sum(v.weight for v in experiment.variants)
            if total != 100:
                yield make(
                    "MLG345",
                    f"the variants' weights in {env!r} sum to {total}, not 100",
                    locate((*path, "variants")),
                    "make the weights add up to 100; a variant reached only by its header takes 0",
                )
            seen: dict[str, int] = {}
            headers: dict[tuple[str, str], int] = {}
            for index, variant in enumerate(experiment.variants):
                where = (*path, "variants", index)
                if variant.model in seen:
                    yield make(
                        "MLG345",
                        f"model {variant.model!r} is a variant twice",
                        locate((*where, "model")),
                        "merge the two variants into one",
                        related=[locate((*path, "variants", seen[variant.model], "model"))],
                    )
                seen.setdefault(variant.model, index)
                if variant.model not in deployed:
                    yield make(
                        "MLG345",
                        f"variant {variant.model!r} is not a model of this project",
                        locate((*where, "model")),
                        did_you_mean(variant.model, sorted(deployed)) or "add its spec under models/",
                    )
                elif env not in deployed[variant.model]:
                    yield make(
                        "MLG345",
                        f"variant {variant.model!r} is not deployed in {env!r}",
                        locate((*where, "model")),
                        f"deploy {variant.model} to {env} (its stable version serves the variant)",
                    )
                if variant.match is not None:
                    key = (variant.match.header.name, variant.match.header.value)
                    if key in headers:
                        yield make(
                            "MLG345",
                            f"header {key[0]}: {key[1]} selects two variants",
                            locate((*where, "match", "header")),
                            "give each variant its own header value",
                            related=[locate((*path, "variants", headers[key], "match", "header"))],
                        )
                    headers.setdefault(key, index)
            if experiment.default not in seen:
                yield make(
                    "MLG345",
                    f"the experiment's default {experiment.default!r} is not one of its variants",
                    locate((*path, "default")),
                    did_you_mean(experiment.default, list(seen)) or f"name one of: {', '.join(seen)}",
                )
