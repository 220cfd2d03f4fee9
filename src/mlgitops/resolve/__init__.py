"""Stage 4, resolve: merge the layers of settings for every model × environment.

Precedence, lowest first (each later layer wins):

1. mlgitops built-in defaults (depend on the serving target and runtime);
2. the project's ``spec.defaults.serving``;
3. the environment's ``serving`` in the project;
4. the model's ``spec.serving``;
5. the model's ``spec.deployments.<env>`` overrides.

Retired models and environments a model is not deployed to produce nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make
from mlgitops.resolve import fit, traffic
from mlgitops.resolve.builtin import builtin_serving
from mlgitops.resolve.layers import Layer, Merged, Origin, flatten, merge, top_value
from mlgitops.resolve.platform import refused_nulls, without_orphan_target
from mlgitops.spec.model import Deployment
from mlgitops.spec.project import Environment
from mlgitops.spec.serving import ServingSpec
from mlgitops.validate import ValidatedModel, ValidatedProject

__all__ = ["Origin", "ResolvedDeployment", "ResolvedProject", "resolve"]


@dataclass(frozen=True, slots=True)
class ResolvedDeployment:
    """One model in one environment, with its merged serving settings."""

    model: ValidatedModel
    environment: Environment
    order: int
    deployment: Deployment
    serving: Merged

    @property
    def origin(self) -> Origin:
        return Origin(
            f"deployment {self.environment.name}",
            self.model.doc,
            ("spec", "deployments", self.environment.name),
        )


@dataclass(frozen=True)
class ResolvedProject:
    validated: ValidatedProject
    deployments: tuple[ResolvedDeployment, ...]

    def for_model(self, name: str) -> tuple[ResolvedDeployment, ...]:
        return self.by_model.get(name, ())

    @functools.cached_property
    def by_model(self) -> dict[str, tuple[ResolvedDeployment, ...]]:
        grouped: dict[str, list[ResolvedDeployment]] = {}
        for item in self.deployments:
            grouped.setdefault(item.model.name, []).append(item)
        return {name: tuple(items) for name, items in grouped.items()}


def resolve(project: ValidatedProject) -> tuple[ResolvedProject, list[Diagnostic]]:
    spec = project.spec.spec
    defaults = Layer(
        spec.defaults.serving,
        Origin("project defaults", project.doc, ("spec", "defaults", "serving")),
    )
    resolved: list[ResolvedDeployment] = []
    diagnostics: list[Diagnostic] = []
    shared_layers: dict[tuple[int, object, object], Merged] = {}
    for model in sorted(project.models, key=lambda m: (m.name, m.doc.display)):
        body = model.spec.spec
        if body.lifecycle.stage == "retired":
            continue
        model_layer = Layer(body.serving, Origin("model", model.doc, ("spec", "serving")))
        model_steps = flatten(model_layer, ServingSpec.model_fields)  # merged into each environment
        for order, env in enumerate(spec.environments):
            deployment = body.deployments.get(env.name)
            if deployment is None:
                continue
            env_layer = Layer(
                env.serving,
                Origin(
                    f"environment {env.name}",
                    project.doc,
                    ("spec", "environments", order, "serving"),
                ),
            )
            override = Layer(
                deployment,
                Origin(f"deployment {env.name}", model.doc, ("spec", "deployments", env.name)),
            )
            user_layers = [defaults, env_layer, model_layer, override]
            runtime, mode = top_value(user_layers, "runtime"), top_value(user_layers, "deployment_mode")
            # Built-in defaults, project defaults and the environment are the same for every
            # model with this runtime and mode: merge them once.
            shared_key = (order, runtime, mode)
            shared = shared_layers.get(shared_key)
            if shared is None:
                builtin = Layer(builtin_serving(spec.serving, runtime, mode), Origin("mlgitops default"))
                shared = shared_layers[shared_key] = merge(
                    [builtin, defaults, env_layer], ServingSpec.model_fields
                )
            serving = without_orphan_target(
                merge([model_steps, override], ServingSpec.model_fields, onto=shared)
            )
            item = ResolvedDeployment(model, env, order, deployment, serving)
            resolved.append(item)
            diagnostics += _complete(item, spec.serving)
            diagnostics += traffic.check_deployment(project, item)
    diagnostics += traffic.check_project(project)
    return ResolvedProject(project, tuple(resolved)), diagnostics


def _complete(item: ResolvedDeployment, target: str) -> Iterator[Diagnostic]:
    """What only the merged result can tell: required fields and consistency."""
    serving, env = item.serving, item.environment.name

    def deployment_key() -> Location:
        return item.model.doc.locate(("spec", "deployments", env), key=True)

    def at(*path: str) -> Location:
        origin = serving.origin(*path)
        location = origin.location() if origin else None
        return location or deployment_key()

    runtime = serving.get("runtime")
    if runtime is None:
        yield make(
            "MLG320",
            f"no serving runtime is set for {ENVIRONMENT} in any layer",
            deployment_key(),
            "set spec.serving.runtime (sklearn, xgboost, …, or custom)",
            environment=env,
        )
    elif runtime == "custom" and serving.get("image") is None:
        yield make(
            "MLG316",
            f"runtime 'custom' in {ENVIRONMENT} has no container image",
            at("runtime"),
            "set spec.serving.image to your model server's image",
            environment=env,
        )
    if runtime != "custom" and serving.get("artifact") is None:
        yield make(
            "MLG320",
            f"no serving artifact is set for {ENVIRONMENT} in any layer",
            deployment_key(),
            "set spec.serving.artifact, e.g. s3://models/{model}/{version}/",
            environment=env,
        )
    transformer = serving.get("transformer")
    if transformer is not None and transformer.get("image") is None:
        yield make(
            "MLG320",
            f"the transformer in {ENVIRONMENT} has no image",
            at("transformer"),
            "set spec.serving.transformer.image",
            environment=env,
        )
    yield from _autoscaling(serving, env, at, target, serving.get("deploymentMode"))
    yield from refused_nulls(serving, env, target, deployment_key)
    yield from fit.check(serving, target, env, item.model, deployment_key)


def _autoscaling(
    serving: Merged, env: str, at: Callable[..., Location], target: str, mode: object
) -> Iterator[Diagnostic]:
    low = serving.get("autoscaling", "minReplicas")
    high = serving.get("autoscaling", "maxReplicas")
    to_zero = serving.get("autoscaling", "scaleToZero")
    metric = serving.get("autoscaling", "metric")
    if low is not None and high is not None and low > high:
        yield make(
            "MLG317",
            f"minReplicas {low} is above maxReplicas {high} in {ENVIRONMENT}",
            at("autoscaling", "minReplicas"),
            "lower minReplicas or raise maxReplicas",
            environment=env,
        )
    if low == 0 and not to_zero:
        yield make(
            "MLG317",
            f"minReplicas 0 in {ENVIRONMENT} needs 'scaleToZero: true'",
            at("autoscaling", "minReplicas"),
            "set scaleToZero: true, or minReplicas to 1 or more",
            environment=env,
        )
    if to_zero and (target != "kserve" or mode == "standard"):
        yield make(
            "MLG317",
            f"scaleToZero in {ENVIRONMENT} needs KServe in serverless mode",
            at("autoscaling", "scaleToZero"),
            "plain Kubernetes and KServe standard mode keep at least one replica",
            environment=env,
        )
    if to_zero and low not in (None, 0):
        yield make(
            "MLG317",
            f"scaleToZero in {ENVIRONMENT} contradicts minReplicas {low}",
            at("autoscaling", "minReplicas"),
            "with scaleToZero, set minReplicas: 0",
            environment=env,
        )
    if metric == "custom" and serving.get("autoscaling", "customMetric") is None:
        cleared = serving.null("autoscaling", "customMetric")
        yield make(
            "MLG317",
            f"metric 'custom' in {ENVIRONMENT} needs 'customMetric'",
            (cleared.location() if cleared else None) or at("autoscaling", "metric"),
            "name the Prometheus metric in customMetric",
            environment=env,
        )
    if metric in ("concurrency", "rps") and (target != "kserve" or mode == "standard"):
        yield make(
            "MLG317",
            f"scaling on {metric!r} in {ENVIRONMENT} needs KServe in serverless mode",
            at("autoscaling", "metric"),
            "use cpu, memory or a custom metric",
            environment=env,
        )
