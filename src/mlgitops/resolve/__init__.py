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
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass

from mlgitops import platforms
from mlgitops.diagnostics import ENVIRONMENT, Diagnostic, Location, make
from mlgitops.resolve import fit, runtimes, traffic
from mlgitops.resolve.builtin import builtin_serving
from mlgitops.resolve.layers import Layer, Merged, Origin, flatten, merge, top_value
from mlgitops.resolve.platform import refused_nulls, without_orphan_target
from mlgitops.spec.model import Deployment
from mlgitops.spec.project import Environment
from mlgitops.spec.runtimes import ServingRuntimeSpec
from mlgitops.spec.serving import ServingSpec
from mlgitops.validate import ValidatedModel, ValidatedProject

__all__ = [
    "Origin",
    "ResolvedDeployment",
    "ResolvedProject",
    "check_project",
    "model_order",
    "resolve",
    "resolve_models",
]


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
    deployments, diagnostics = resolve_models(project, project.models)
    diagnostics += check_project(project)
    return ResolvedProject(project, deployments), diagnostics


def check_project(project: ValidatedProject) -> list[Diagnostic]:
    """What resolution checks across models: the traffic router and experiments."""
    return [*traffic.check_project(project), *traffic.check_experiments(project)]


def resolve_models(
    project: ValidatedProject, models: Iterable[ValidatedModel]
) -> tuple[tuple[ResolvedDeployment, ...], list[Diagnostic]]:
    """The deployments of ``models`` (some or all of the project's), in the order of their names,
    with what each one's merged settings tell (validate may resolve a large project's models in
    slices, in several processes: see ``validate/deployments.py``)."""
    spec = project.spec.spec
    defaults = Layer(
        spec.defaults.serving,
        Origin("project defaults", project.doc, ("spec", "defaults", "serving")),
    )
    resolved: list[ResolvedDeployment] = []
    diagnostics: list[Diagnostic] = []
    declared: dict[str, ServingRuntimeSpec] = {}
    for declared_runtime in spec.runtimes:  # the first of a name counts (a second is MLG383)
        declared.setdefault(declared_runtime.name, declared_runtime)
    shared_layers: dict[tuple[int, object, object], Merged] = {}
    for model in sorted(models, key=model_order):
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
                own = runtimes.defaults(declared.get(str(runtime)))
                builtin = Layer(
                    builtin_serving(spec.serving, runtime, mode, *own), Origin("mlgitops default")
                )
                shared = shared_layers[shared_key] = merge(
                    [builtin, defaults, env_layer], ServingSpec.model_fields
                )
            serving = without_orphan_target(
                merge([model_steps, override], ServingSpec.model_fields, onto=shared)
            )
            item = ResolvedDeployment(model, env, order, deployment, serving)
            resolved.append(item)
            diagnostics += _complete(item, spec.serving, declared)
            diagnostics += runtimes.check(
                serving, env.name, declared, spec.serving, _deployment_key(model, env.name)
            )
            diagnostics += traffic.check_deployment(project, item)
    return tuple(resolved), diagnostics


def model_order(model: ValidatedModel) -> tuple[str, str]:
    """The order deployments are resolved in: by model name, then file."""
    return (model.name, model.doc.display)


def _deployment_key(model: ValidatedModel, env: str) -> Callable[[], Location]:
    return lambda: model.doc.locate(("spec", "deployments", env), key=True)


def _fetches_itself(serving: Merged, declared: Mapping[str, ServingRuntimeSpec]) -> bool:
    """A custom container fetches its model as it likes; Hugging Face's server and a declared
    runtime do when an argument names the model (platforms.MODEL_SOURCE_FLAGS)."""
    runtime = serving.get("runtime")
    if runtime == "custom":
        return True
    own = declared.get(runtime) if isinstance(runtime, str) else None
    if own is None and runtime not in platforms.SELF_FETCHING_RUNTIMES:
        return False
    return platforms.names_model_source([*(serving.get("args") or ()), *((own.args or ()) if own else ())])


def _literal_artifact(item: ResolvedDeployment) -> Iterator[Diagnostic]:
    """A deployment's literal artifact (no ``{version}``) is its stable version's alone: a canary
    or mirror of another version beside it needs an artifact of its own."""
    artifact = item.serving.get("artifact")
    if not isinstance(artifact, str) or "{version}" in artifact:
        return
    deployment = item.deployment
    others = []
    if deployment.canary is not None and deployment.canary.artifact is None:
        others.append(("canary", deployment.canary.version))
    if deployment.mirror is not None and deployment.mirror.version != deployment.version:
        others.append(("mirror", deployment.mirror.version))
    origin = item.serving.origin("artifact")
    written = origin.location() if origin else None
    for what, version in others:
        yield make(
            "MLG313",
            f"the {what} of {item.model.name!r} in {ENVIRONMENT} would serve the stable version's "
            f"artifact {artifact!r}, which has no {{version}} to make it version {version}'s",
            item.model.doc.locate(("spec", "deployments", item.environment.name, what)),
            "give the canary its own artifact (canary.artifact), or write {version} in the artifact"
            if what == "canary"
            else "write {version} in the artifact, so the mirrored version gets its own",
            related=[written] if written else [],
            environment=item.environment.name,
        )


def _complete(
    item: ResolvedDeployment, target: str, declared: Mapping[str, ServingRuntimeSpec]
) -> Iterator[Diagnostic]:
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
    if serving.get("artifact") is None and not _fetches_itself(serving, declared):
        yield make(
            "MLG320",
            f"no serving artifact is set for {ENVIRONMENT} in any layer, and nothing else would "
            "fetch the model",
            deployment_key(),
            "set spec.serving.artifact, e.g. s3://models/{model}/{version}/ (a Hugging Face or "
            "declared runtime may fetch it itself instead: name it in args, e.g. --model_id=org/name)",
            environment=env,
        )
    yield from _literal_artifact(item)
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
    if transformer is not None and transformer.get("autoscaling") is not None:
        base = ("transformer", "autoscaling")
        yield from _autoscaling(serving, env, at, target, serving.get("deploymentMode"), base)
    yield from refused_nulls(serving, env, target, deployment_key)
    yield from fit.check(serving, target, env, item.model, deployment_key)


def _autoscaling(
    serving: Merged,
    env: str,
    at: Callable[..., Location],
    target: str,
    mode: object,
    base: tuple[str, ...] = ("autoscaling",),
) -> Iterator[Diagnostic]:
    """``base``: the predictor's ``autoscaling``, or the transformer's."""
    low = serving.get(*base, "minReplicas")
    high = serving.get(*base, "maxReplicas")
    to_zero = serving.get(*base, "scaleToZero")
    metric = serving.get(*base, "metric")
    if low is not None and high is not None and low > high:
        yield make(
            "MLG317",
            f"minReplicas {low} is above maxReplicas {high} in {ENVIRONMENT}",
            at(*base, "minReplicas"),
            "lower minReplicas or raise maxReplicas",
            environment=env,
        )
    if low == 0 and not to_zero:
        yield make(
            "MLG317",
            f"minReplicas 0 in {ENVIRONMENT} needs 'scaleToZero: true'",
            at(*base, "minReplicas"),
            "set scaleToZero: true, or minReplicas to 1 or more",
            environment=env,
        )
    if to_zero and (target != "kserve" or mode == "standard"):
        yield make(
            "MLG317",
            f"scaleToZero in {ENVIRONMENT} needs KServe in serverless mode",
            at(*base, "scaleToZero"),
            "plain Kubernetes and KServe standard mode keep at least one replica",
            environment=env,
        )
    if to_zero and low not in (None, 0):
        yield make(
            "MLG317",
            f"scaleToZero in {ENVIRONMENT} contradicts minReplicas {low}",
            at(*base, "minReplicas"),
            "with scaleToZero, set minReplicas: 0",
            environment=env,
        )
    if metric == "custom" and serving.get(*base, "customMetric") is None:
        cleared = serving.null(*base, "customMetric")
        yield make(
            "MLG317",
            f"metric 'custom' in {ENVIRONMENT} needs 'customMetric'",
            (cleared.location() if cleared else None) or at(*base, "metric"),
            "name the Prometheus metric in customMetric",
            environment=env,
        )
    if metric in ("concurrency", "rps") and (target != "kserve" or mode == "standard"):
        yield make(
            "MLG317",
            f"scaling on {metric!r} in {ENVIRONMENT} needs KServe in serverless mode",
            at(*base, "metric"),
            "use cpu, memory or a custom metric",
            environment=env,
        )
    yield from _prometheus(serving, env, at, base, metric)


def _prometheus(
    serving: Merged, env: str, at: Callable[..., Location], base: tuple[str, ...], metric: object
) -> Iterator[Diagnostic]:
    """``metric: prometheus`` scales on the value of a query KEDA sends to a Prometheus server;
    the query's fields mean nothing with another metric."""
    fields = ("query", "serverAddress", "authenticationRef")
    if metric != "prometheus":
        for key in fields:
            if serving.get(*base, key) is not None:
                yield make(
                    "MLG317",
                    f"{key} in {ENVIRONMENT} applies only to 'metric: prometheus' (the metric is {metric!r})",
                    at(*base, key),
                    "set metric: prometheus, or remove it",
                    environment=env,
                )
        return
    for key in fields[:2]:
        if serving.get(*base, key) is None:
            cleared = serving.null(*base, key)
            yield make(
                "MLG317",
                f"metric 'prometheus' in {ENVIRONMENT} needs {key!r}",
                (cleared.location() if cleared else None) or at(*base, "metric"),
                "KEDA's Prometheus scaler needs the query and the server it sends it to",
                environment=env,
            )
    origin = serving.origin(*base, "target")
    if origin is None or origin.layer == "mlgitops default":
        yield make(
            "MLG317",
            f"metric 'prometheus' in {ENVIRONMENT} needs a target of its own: the query's value "
            "per replica (mlgitops' default target is a CPU percentage)",
            at(*base, "metric"),
            "set autoscaling.target to the value of the query one replica should handle",
            environment=env,
        )
