"""IR of the lifecycle parts that do not vary per environment: training, evaluation, registry, monitoring."""

from __future__ import annotations

from collections.abc import Mapping

from mlgitops import ir
from mlgitops.ir.convert import env_var, env_vars, resources, security_context, tolerations
from mlgitops.spec.common import Resources as ResourcesSpec
from mlgitops.spec.model import Evaluation as EvaluationSpec
from mlgitops.spec.model import ModelRegistry
from mlgitops.spec.model import Training as TrainingSpec
from mlgitops.spec.monitoring import Monitoring as MonitoringSpec
from mlgitops.spec.monitoring import SeverityAlert as SeverityAlertSpec
from mlgitops.spec.monitoring import SLOAlerting as SLOAlertingSpec
from mlgitops.spec.project import ArtifactRegistry, MlflowRegistry

GPU_RESOURCE = "nvidia.com/gpu"  # with `resources: null` there is no gpuResource: NVIDIA's name


def training(spec: TrainingSpec | None, ci_names: Mapping[str, str] | None = None) -> ir.Training | None:
    """``ci_names``: the first environment's ``ciSecrets`` (CI trains for the first environment)."""
    if spec is None:
        return None
    params = tuple(sorted((name, _param(value)) for name, value in spec.params.items()))
    return ir.Training(
        image=spec.image,
        command=tuple(spec.command or ()),
        args=(*spec.args, *(f"--{name}={value}" for name, value in params)),
        params=params,
        env=env_vars(spec.env, ci_names),
        resources=_resources(spec),
        schedule=spec.schedule,
        runner=spec.runner,
        timeout_minutes=spec.timeout_minutes,
        paths=tuple(spec.paths),
        service_account=spec.service_account,
        node_selector=tuple(sorted((spec.node_selector or {}).items())),
        tolerations=tolerations(spec.tolerations or ()),
        security=_security(spec),
        distributed=_distributed(spec),
    )


def _distributed(spec: TrainingSpec) -> ir.Distributed | None:
    written = spec.distributed
    if written is None:
        return None
    return ir.Distributed(written.engine, written.workers, written.gpus_per_worker)


def _resources(spec: TrainingSpec) -> ir.Resources | None:
    """One training pod's resources (each worker's, when distributed: ``gpusPerWorker`` is its
    GPUs, in the spec's GPU resource). An explicit ``resources: null`` leaves them all to the
    platform (a LimitRange, or none), but for the GPUs per worker."""
    gpus = spec.distributed.gpus_per_worker if spec.distributed is not None else None
    if spec.resources is None and "resources" in spec.model_fields_set:
        if gpus is None:
            return None
        gpu = ((GPU_RESOURCE, str(gpus)),)
        return ir.Resources(gpu, gpu, gpus, GPU_RESOURCE)
    written = spec.resources
    if gpus is not None:
        written = (written or ResourcesSpec()).model_copy(update={"gpu": gpus})
        # model_copy does not mark the field as set; the conversion reads the fields set
        written.model_fields_set.add("gpu")
    return resources(written, "1", "2Gi")


def _security(spec: TrainingSpec) -> ir.SecurityContext:
    """The training pod's relaxations; ``securityContext: null`` clears the ids and the read-only root."""
    written = spec.security_context
    if written is None:
        nulled = "security_context" in spec.model_fields_set
        return security_context({}, lambda *path: nulled)
    values = written.model_dump(by_alias=True, exclude_unset=True)
    present = {key: value for key, value in values.items() if value is not None}
    return security_context(present, lambda *path: path[0] in values)


def _param(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def evaluation(spec: EvaluationSpec | None) -> ir.Evaluation | None:
    if spec is None:
        return None
    return ir.Evaluation(
        gates=tuple(ir.Gate(g.metric, g.min, g.max) for g in spec.gates),
        image=spec.image,
        command=tuple(spec.command or ()),
        metrics_file=spec.metrics_file,
    )


def registry(
    project: MlflowRegistry | ArtifactRegistry,
    model: ModelRegistry | None,
    name: str,
    ci_names: Mapping[str, str] | None = None,
) -> ir.Registry:
    credentials = (
        env_var("REGISTRY_CREDENTIALS", project.credentials, ci_names) if project.credentials else None
    )
    if isinstance(project, MlflowRegistry):
        return ir.Registry(
            kind="mlflow",
            tracking_uri=project.tracking_uri,
            model_name=(model.model_name if model and model.model_name else name),
            alias=model.alias if model else None,
            artifact_uri=model.artifact_uri if model else None,
            credentials=credentials,
        )
    artifact = model.artifact_uri if model and model.artifact_uri else None
    if artifact is None:
        artifact = project.uri.rstrip("/") + "/{model}/{version}/"
    return ir.Registry(
        kind="artifact",
        tracking_uri=None,
        model_name=(model.model_name if model and model.model_name else name),
        alias=None,
        artifact_uri=artifact.replace("{model}", name),
        credentials=credentials,
    )


def monitoring(spec: MonitoringSpec | None) -> ir.Monitoring:
    if spec is None:
        return ir.Monitoring(slos=(), drift=None, alerts=ir.Alerts(None, None))
    slos: list[ir.SLO] = []
    if spec.slos is not None:
        if spec.slos.availability is not None:
            a = spec.slos.availability
            slos.append(ir.SLO("availability", a.objective, a.window, None, _alerting(a.alerting)))
        if spec.slos.latency is not None:
            lat = spec.slos.latency
            slos.append(ir.SLO("latency", lat.objective, lat.window, lat.threshold, _alerting(lat.alerting)))
    drift = None
    if spec.drift is not None:
        d = spec.drift
        token = ir.SecretKeyRef(d.retrain_token.name, d.retrain_token.key) if d.retrain_token else None
        drift = ir.Drift(
            tuple(d.features),
            d.method,
            d.threshold,
            d.schedule,
            d.reference,
            d.image,
            d.retrain,
            token,
            d.current,
        )
    alerts = ir.Alerts(spec.alerts.route, spec.alerts.runbook_url) if spec.alerts else ir.Alerts(None, None)
    m = spec.metrics
    metrics = (
        ir.MetricSelectors(m.requests, m.errors, m.latency, m.latency_unit, m.good, m.gauge)
        if m
        else ir.MetricSelectors()
    )
    scrape = spec.scrape
    return ir.Monitoring(
        tuple(slos),
        drift,
        alerts,
        metrics,
        scrape_port=scrape.port if scrape else None,
        scrape_path=scrape.path if scrape else None,
    )


def _alerting(spec: SLOAlertingSpec | None) -> ir.SLOAlerting:
    if spec is None:
        return ir.SLOAlerting()

    def severity(alert: SeverityAlertSpec | None) -> ir.SeverityAlert:
        if alert is None:
            return ir.SeverityAlert()
        return ir.SeverityAlert(tuple(sorted((alert.labels or {}).items())), alert.for_)

    return ir.SLOAlerting(
        spec.name,
        tuple(sorted((spec.labels or {}).items())),
        tuple(sorted((spec.annotations or {}).items())),
        spec.runbook_url,
        severity(spec.page),
        severity(spec.ticket),
        spec.disable,
    )
