"""Build the IR from the resolved project: fill defaults, fill placeholders, sort."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mlgitops import ir
from mlgitops.ir.convert import env_vars, resources_from_tree, tolerations
from mlgitops.ir.lifecycle import evaluation, monitoring, registry, training
from mlgitops.resolve import ResolvedDeployment, ResolvedProject
from mlgitops.spec.model import ModelSpec
from mlgitops.validate import ValidatedModel

LABEL_PREFIX = "mlgitops.dev"
_NOT_LABEL_CHAR = re.compile(r"[^A-Za-z0-9_.-]+")


def build_project(resolved: ResolvedProject, repo_subdir: str = "") -> ir.Project:
    validated = resolved.validated
    spec = validated.spec.spec
    environments = tuple(
        ir.Environment(env.name, env.namespace, env.cluster, env.approval == "required", order)
        for order, env in enumerate(spec.environments)
    )
    by_name = {env.name: env for env in environments}
    project_labels = tuple(sorted(validated.spec.metadata.labels.items()))
    models = []
    retired = []
    for model in sorted(validated.models, key=lambda m: m.name):
        if model.spec.spec.lifecycle.stage == "retired":
            retired.append(model.name)
            continue
        deployments = tuple(
            _deployment(item, by_name[item.environment.name], project_labels, validated.spec.metadata.name)
            for item in resolved.for_model(model.name)
        )
        default_artifact = spec.defaults.serving.artifact if spec.defaults.serving else None
        models.append(_model(model, spec.registry, deployments, default_artifact))
    return ir.Project(
        name=validated.spec.metadata.name,
        repository=spec.repository,
        revision=spec.revision,
        ci=spec.ci,
        gitops=spec.gitops,
        serving=spec.serving,
        registry_kind=spec.registry.kind,
        environments=environments,
        output=spec.output.path.rstrip("/"),  # an absolute path stays absolute: emit refuses it
        repo_subdir=repo_subdir,
        labels=project_labels,
        argocd=ir.types.ArgoCDSettings(
            spec.argocd.namespace, spec.argocd.project, spec.argocd.application_set
        ),
        flux=ir.types.FluxSettings(spec.flux.namespace, spec.flux.interval),
        models=tuple(models),
        retired=tuple(retired),
    )


def label_value(text: str) -> str:
    """``text`` made into a valid label value (the raw text goes into an annotation)."""
    cleaned = _NOT_LABEL_CHAR.sub("-", text)[:63].strip("-_.")
    return cleaned


def _deployment(
    item: ResolvedDeployment, env: ir.Environment, project_labels: tuple[tuple[str, str], ...], project: str
) -> ir.Deployment:
    spec: ModelSpec = item.model.spec
    name = spec.metadata.name
    serving = _serving(item.serving.values, name, item.deployment.version)
    canary = None
    if item.deployment.canary is not None:
        canary = ir.Canary(
            item.deployment.canary.version,
            item.deployment.canary.traffic,
            fill_artifact(item.serving.get("artifact"), name, item.deployment.canary.version),
        )
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
        f"{LABEL_PREFIX}/owner": spec.metadata.owner,
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
    if spec.metadata.description:
        annotations[f"{LABEL_PREFIX}/description"] = spec.metadata.description
    return ir.Deployment(
        model=name,
        environment=env,
        version=item.deployment.version,
        canary=canary,
        serving=serving,
        labels=tuple(sorted(labels.items())),
        annotations=tuple(sorted(annotations.items())),
        source=item.model.doc.display,
    )


def fill_artifact(template: object, model: str, version: str) -> str | None:
    if not isinstance(template, str):
        return None
    return template.replace("{model}", model).replace("{version}", version)


def _serving(values: Mapping[str, Any], model: str, version: str) -> ir.Serving:
    autoscaling = values["autoscaling"]
    transformer = values.get("transformer")
    return ir.Serving(
        runtime=values["runtime"],
        runtime_version=values.get("runtimeVersion"),
        protocol=values["protocol"],
        storage_uri=fill_artifact(values.get("artifact"), model, version),
        image=values.get("image"),
        command=tuple(values.get("command") or ()),
        args=tuple(values.get("args") or ()),
        env=env_vars(values.get("env") or {}),
        port=values["port"],
        resources=resources_from_tree(values["resources"]),
        node_selector=tuple(sorted((values.get("nodeSelector") or {}).items())),
        tolerations=tolerations(values.get("tolerations") or ()),
        service_account=values.get("serviceAccount"),
        autoscaling=ir.Autoscaling(
            min_replicas=0 if autoscaling["scaleToZero"] else autoscaling["minReplicas"],
            max_replicas=autoscaling["maxReplicas"],
            scale_to_zero=autoscaling["scaleToZero"],
            metric=autoscaling["metric"],
            target=autoscaling["target"],
            custom_metric=autoscaling.get("customMetric"),
            prometheus_url=autoscaling.get("prometheusUrl"),
        ),
        transformer=_transformer(transformer) if transformer else None,
        deployment_mode=values["deploymentMode"],
        annotations=tuple(sorted((values.get("annotations") or {}).items())),
    )


def _transformer(values: Mapping[str, Any]) -> ir.Container:
    return ir.Container(
        image=values["image"],
        command=tuple(values.get("command") or ()),
        args=tuple(values.get("args") or ()),
        env=env_vars(values.get("env") or {}),
        resources=resources_from_tree(values.get("resources") or {"cpu": "100m", "memory": "256Mi"}),
    )


def _model(
    model: ValidatedModel,
    registry_spec: Any,
    deployments: tuple[ir.Deployment, ...],
    default_artifact: str | None,
) -> ir.Model:
    spec = model.spec
    body = spec.spec
    registered = registry(registry_spec, body.registry, spec.metadata.name)
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
        training=training(body.training),
        evaluation=evaluation(body.evaluation),
        registry=registered,
        monitoring=monitoring(body.monitoring),
        deployments=deployments,
        artifact=artifact.replace("{model}", spec.metadata.name) if artifact else None,
    )
