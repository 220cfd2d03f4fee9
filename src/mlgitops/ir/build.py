"""Build the IR from the resolved project: fill defaults, fill placeholders, sort."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlgitops import ir
from mlgitops.ir import settings
from mlgitops.ir.lifecycle import evaluation, monitoring, registry, training
from mlgitops.ir.serving import canary_settings, fill_artifact, serving_settings
from mlgitops.resolve import ResolvedDeployment, ResolvedProject, model_order
from mlgitops.spec.ci import ci_settings
from mlgitops.spec.model import ModelSpec
from mlgitops.spec.project import ProjectSpec
from mlgitops.validate import ValidatedModel, ValidatedProject

LABEL_PREFIX = "mlgitops.dev"
_NOT_LABEL_CHAR = re.compile(r"[^A-Za-z0-9_.-]+")
Stable = Mapping[tuple[str, str], tuple[str, str]]  # (model, environment) → (version, workload name)


@dataclass
class BuiltModels:
    """The models one build made, for another in the same process (``diff``: the base revision
    after the head).  A model's IR reads its spec, its resolved deployments, the project spec and
    the stable versions of its experiments' variants, nothing else: where the spec and the
    deployments are the very objects of the first build (``validate.deployments.KnownDeployments``),
    the project spec is equal and the variants' versions are the same, it is taken as it is."""

    _project: ProjectSpec | None = None
    _models: dict[str, tuple[ModelSpec, tuple[ResolvedDeployment, ...], tuple[object, ...], ir.Model]] = (
        field(default_factory=dict)
    )

    def start(self, project: ProjectSpec) -> None:
        """A build of ``project`` begins: what was built under another project spec is dropped."""
        if self._project is not project and self._project != project:
            self._models = {}
        self._project = project

    def take(
        self, model: ValidatedModel, items: tuple[ResolvedDeployment, ...], reads: tuple[object, ...]
    ) -> ir.Model | None:
        entry = self._models.get(model.name)
        if entry is None or entry[0] is not model.spec or entry[2] != reads or len(entry[1]) != len(items):
            return None
        return entry[3] if all(a is b for a, b in zip(entry[1], items, strict=True)) else None

    def keep(
        self,
        model: ValidatedModel,
        items: tuple[ResolvedDeployment, ...],
        reads: tuple[object, ...],
        built: ir.Model,
    ) -> None:
        self._models[model.name] = (model.spec, items, reads, built)


def _variant_reads(items: tuple[ResolvedDeployment, ...], stable: Stable) -> tuple[object, ...]:
    """What a model's IR reads of other models: its experiments' variants' stable versions."""
    return tuple(
        stable.get((v.model, item.environment.name))
        for item in items
        if item.deployment.experiment is not None
        for v in item.deployment.experiment.variants
    )


def build_project(
    resolved: ResolvedProject, repo_subdir: str = "", known: BuiltModels | None = None
) -> ir.Project:
    """The IR; ``known``: models an earlier build made, taken where they come out the same (and
    this build's kept in it)."""
    validated = resolved.validated
    if known is not None:
        known.start(validated.spec)
    stable = stable_versions(validated)
    models = build_models(validated, validated.models, resolved.by_model, stable, known)
    assert models is not None  # a valid project's experiments name deployed variants
    return assemble_project(validated, models, repo_subdir)


def stable_versions(validated: ValidatedProject) -> dict[tuple[str, str], tuple[str, str]]:
    """Each model's stable version and workload name in each environment it is deployed in: an
    experiment's variants are other models (read from the specs, as resolution takes them)."""
    return {
        (model.name, env.name): (deployment.version, deployment.name or "")
        for model in sorted(validated.models, key=model_order)
        if model.spec.spec.lifecycle.stage != "retired"
        for env in validated.spec.spec.environments
        if (deployment := model.spec.spec.deployments.get(env.name)) is not None
    }


def build_models(
    validated: ValidatedProject,
    models: Iterable[ValidatedModel],
    resolved: Mapping[str, tuple[ResolvedDeployment, ...]],
    stable: Stable,
    known: BuiltModels | None = None,
) -> tuple[ir.Model, ...] | None:
    """The IR of ``models`` (some or all of the project's, the retired left out) by name, from
    their ``resolved`` deployments; None when an experiment names a variant not deployed in its
    environment (validate refuses it, MLG345: a compile's workers build before they know)."""
    spec = validated.spec.spec
    environments = _environments(validated.spec)
    by_name = {env.name: env for env in environments}
    declared = {r.name: r for r in map(settings.runtime, spec.runtimes)}
    project_labels = tuple(sorted(validated.spec.metadata.labels.items()))
    built_models: list[ir.Model] = []
    for model in sorted(models, key=lambda m: m.name):
        if model.spec.spec.lifecycle.stage == "retired":
            continue
        items = resolved.get(model.name, ())
        if not _variants_deployed(items, stable):
            return None
        reads = _variant_reads(items, stable) if known is not None else ()
        built = known.take(model, items, reads) if known is not None else None
        if built is None:
            deployments = tuple(
                _deployment(
                    item,
                    by_name[item.environment.name],
                    project_labels,
                    validated.spec.metadata.name,
                    stable,
                    declared,
                )
                for item in items
            )
            default_artifact = spec.defaults.serving.artifact if spec.defaults.serving else None
            built = _model(
                model, spec.registry, deployments, default_artifact, spec.environments[0].ci_secrets
            )
            if known is not None:
                known.keep(model, items, reads, built)
        built_models.append(built)
    return tuple(built_models)


def _variants_deployed(items: Iterable[ResolvedDeployment], stable: Stable) -> bool:
    return all(
        (variant.model, item.environment.name) in stable
        for item in items
        if item.deployment.experiment is not None
        for variant in item.deployment.experiment.variants
    )


def _environments(project: ProjectSpec) -> tuple[ir.Environment, ...]:
    return tuple(
        ir.Environment(
            env.name,
            env.namespace,
            env.cluster,
            env.approval == "required",
            order,
            env.monitoring.page,
            revision=env.gitops.revision,
            manual_sync=env.gitops.sync_policy == "manual",
            depends_on=tuple(env.gitops.depends_on),
        )
        for order, env in enumerate(project.spec.environments)
    )


def assemble_project(
    validated: ValidatedProject, models: tuple[ir.Model, ...], repo_subdir: str
) -> ir.Project:
    """The project's IR around the IR of its ``models`` (every one not retired, by name)."""
    spec = validated.spec.spec
    ci = ci_settings(spec.ci)
    project_labels = tuple(sorted(validated.spec.metadata.labels.items()))
    retired = sorted(m.name for m in validated.models if m.spec.spec.lifecycle.stage == "retired")
    return ir.Project(
        name=validated.spec.metadata.name,
        description=validated.spec.metadata.description,
        repository=spec.repository,
        revision=spec.revision,
        ci=ci.system,
        gitops=spec.gitops,
        serving=spec.serving,
        registry_kind=spec.registry.kind,
        environments=_environments(validated.spec),
        output=spec.output.path.rstrip("/"),  # an absolute path stays absolute: emit refuses it
        repo_subdir=repo_subdir,
        labels=project_labels,
        argocd=ir.types.ArgoCDSettings(
            spec.argocd.namespace,
            spec.argocd.project,
            spec.argocd.application_set,
            spec.argocd.application_name,
            spec.argocd.sync_waves,
        ),
        flux=ir.types.FluxSettings(
            spec.flux.namespace,
            spec.flux.interval,
            spec.flux.retry_interval,
            spec.flux.timeout,
            spec.flux.prune,
            tuple(spec.flux.depends_on),
        ),
        grafana=ir.types.GrafanaSettings(spec.grafana.per_model_dashboards),
        models=models,
        retired=tuple(retired),
        include=tuple(spec.include),
        templates=(spec.templates or "").strip("/"),
        traffic=settings.traffic(spec.traffic),
        prometheus=ir.types.PrometheusSettings(spec.prometheus.format, spec.prometheus.api_group),
        ci_settings=settings.ci_settings(ci),
        ci_install=settings.ci_install(ci.mlgitops),
        ci_include_from=ci.include_from or "",
        runtimes=tuple(map(settings.runtime, spec.runtimes)),
        shared_labels=_shared_labels(validated, project_labels),
    )


def _shared_labels(
    validated: ValidatedProject, project_labels: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """``ir.Project.shared_labels``: decided from every model's labels, so that a model's own
    value for a project label stays on its objects (and the change re-renders every model)."""
    overridden = {
        key
        for model in validated.models
        if model.spec.spec.lifecycle.stage != "retired"
        for key, value in model.spec.metadata.labels.items()
        if dict(project_labels).get(key, value) != value
    }
    shared = {key: value for key, value in project_labels if key not in overridden}
    shared["app.kubernetes.io/managed-by"] = "mlgitops"
    shared["app.kubernetes.io/part-of"] = validated.spec.metadata.name
    return tuple(sorted(shared.items()))


def label_value(text: str) -> str:
    """``text`` made into a valid label value (the raw text goes into an annotation)."""
    cleaned = _NOT_LABEL_CHAR.sub("-", text)[:63].strip("-_.")
    return cleaned


def owner_annotation(owner: str) -> dict[str, str]:
    """The owner as written, beside the ``mlgitops.dev/owner`` label, when the label could not
    hold it whole."""
    return {} if label_value(owner) == owner else {f"{LABEL_PREFIX}/owner": owner}


def _deployment(
    item: ResolvedDeployment,
    env: ir.Environment,
    project_labels: tuple[tuple[str, str], ...],
    project: str,
    stable: Stable,
    declared: Mapping[str, ir.ServingRuntime],
) -> ir.Deployment:
    spec: ModelSpec = item.model.spec
    name = spec.metadata.name
    serving = serving_settings(item.serving, name, item.deployment.version)
    runtime = declared.get(serving.runtime)
    if runtime is not None:
        serving = dataclasses.replace(serving, declared_runtime=runtime)
    canary = None
    written = item.deployment.canary
    if written is not None:
        canary_serving = canary_settings(item, serving, name)
        canary = ir.Canary(written.version, written.traffic, canary_serving.storage_uri, canary_serving)
    mirror = None
    if item.deployment.mirror is not None:
        m = item.deployment.mirror
        mirror = ir.Mirror(m.version, m.percent, fill_artifact(item.serving.get("artifact"), name, m.version))
    expose = item.deployment.expose
    exposed = ir.Expose(expose.hostname, expose.path) if expose else None
    experiment = _experiment(item, stable)
    labels = {
        **dict(project_labels),
        **spec.metadata.labels,
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": f"{name}-{env.name}",
        "app.kubernetes.io/part-of": project,
        "app.kubernetes.io/managed-by": "mlgitops",
        f"{LABEL_PREFIX}/model": name,
        f"{LABEL_PREFIX}/environment": env.name,
        f"{LABEL_PREFIX}/owner": label_value(spec.metadata.owner),
    }
    annotations = {
        **owner_annotation(spec.metadata.owner),
        f"{LABEL_PREFIX}/source": item.model.doc.display,
        f"{LABEL_PREFIX}/stable-version": item.deployment.version,
    }
    if canary is not None:
        annotations[f"{LABEL_PREFIX}/canary-version"] = canary.version
        annotations[f"{LABEL_PREFIX}/canary-traffic"] = str(canary.traffic)
    lifecycle = spec.spec.lifecycle
    if lifecycle.stage == "deprecated":
        annotations[f"{LABEL_PREFIX}/deprecated"] = "true"
        if lifecycle.sunset is not None:
            annotations[f"{LABEL_PREFIX}/sunset"] = lifecycle.sunset.isoformat()
        if lifecycle.replaced_by is not None:
            annotations[f"{LABEL_PREFIX}/replaced-by"] = lifecycle.replaced_by
        if lifecycle.reason is not None:
            annotations[f"{LABEL_PREFIX}/lifecycle-reason"] = lifecycle.reason
    if spec.metadata.description:
        annotations[f"{LABEL_PREFIX}/description"] = spec.metadata.description
    return ir.Deployment(
        model=name,
        environment=env,
        version=item.deployment.version,
        canary=canary,
        mirror=mirror,
        expose=exposed,
        experiment=experiment,
        serving=serving,
        labels=tuple(sorted(labels.items())),
        annotations=tuple(sorted(annotations.items())),
        source=item.model.doc.display,
        workload=item.deployment.name or "",
    )


def _experiment(item: ResolvedDeployment, stable: Stable) -> ir.Experiment | None:
    """The variants by their stable versions here (validate made sure each is deployed here)."""
    written = item.deployment.experiment
    if written is None:
        return None
    env = item.environment.name
    variants = [
        ir.Variant(
            v.model,
            stable[(v.model, env)][0],
            v.weight,
            (v.match.header.name, v.match.header.value) if v.match else None,
            stable[(v.model, env)][1],
        )
        for v in written.variants
    ]
    variants.sort(key=lambda v: v.model != written.default)  # stable sort: the default first
    return ir.Experiment(tuple(variants), written.default)


def _model(
    model: ValidatedModel,
    registry_spec: Any,
    deployments: tuple[ir.Deployment, ...],
    default_artifact: str | None,
    ci_names: Mapping[str, str],
) -> ir.Model:
    """``ci_names``: the first environment's ``ciSecrets``, for the CI jobs that train, evaluate
    and register (they act for the first environment)."""
    spec = model.spec
    body = spec.spec
    registered = registry(registry_spec, body.registry, spec.metadata.name, ci_names)
    artifact = (
        registered.artifact_uri or (body.serving.artifact if body.serving else None) or default_artifact
    )
    return ir.Model(
        name=spec.metadata.name,
        owner=spec.metadata.owner,
        description=spec.metadata.description,
        labels=tuple(sorted(spec.metadata.labels.items())),
        source=model.doc.display,
        stage=body.lifecycle.stage,
        sunset=body.lifecycle.sunset,
        replaced_by=body.lifecycle.replaced_by,
        data=tuple(ir.DataSource(d.name, d.uri, d.version) for d in body.data),
        training=training(body.training, ci_names),
        evaluation=evaluation(body.evaluation),
        registry=registered,
        monitoring=monitoring(body.monitoring),
        deployments=deployments,
        artifact=artifact.replace("{model}", spec.metadata.name) if artifact else None,
    )
