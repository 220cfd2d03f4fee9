"""IR types: frozen dataclasses, one per concept a target needs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field, is_dataclass

from mlgitops.outputs import DEFAULT_APPLICATION_NAME
from mlgitops.pickling import pickled_by_constructor

_VERSION_ANNOTATIONS = frozenset(
    {"mlgitops.dev/stable-version", "mlgitops.dev/canary-version", "mlgitops.dev/canary-traffic"}
)


@dataclass(frozen=True, slots=True)
class SecretKeyRef:
    name: str
    key: str


@dataclass(frozen=True, slots=True)
class EnvVar:
    """An environment variable: a literal, a Kubernetes secret key, or a CI secret."""

    name: str
    value: str | None = None
    secret: SecretKeyRef | None = None
    ci_secret: str | None = None


@dataclass(frozen=True, slots=True)
class Resources:
    """Requests and limits by Kubernetes resource name (``cpu``, ``memory``, ``nvidia.com/gpu``,
    ``ephemeral-storage``, …), cpu and memory first, then by name. A name absent is left to the
    platform (an explicit ``null``, or never set), so the target omits it."""

    requests: tuple[tuple[str, str], ...]
    limits: tuple[tuple[str, str], ...]
    gpu: int = 0  # accelerators requested through the `gpu` shorthand (training adds /dev/shm)
    gpu_resource: str = "nvidia.com/gpu"  # the resource name those are requested by

    @property
    def cpu(self) -> str | None:
        return dict(self.requests).get("cpu")

    @property
    def memory(self) -> str | None:
        return dict(self.requests).get("memory")


@dataclass(frozen=True, slots=True)
class SecurityContext:
    """The pod's and its containers' hardening; None: an explicit ``null``, so the field is omitted
    (the image's own user, no fsGroup, a writable root)."""

    run_as_user: int | None = 1000
    run_as_group: int | None = 1000
    fs_group: int | None = 1000
    read_only_root_filesystem: bool | None = True
    writable_paths: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Toleration:
    key: str | None
    operator: str
    value: str | None
    effect: str | None
    toleration_seconds: int | None


@dataclass(frozen=True, slots=True)
class Autoscaling:
    """None: left to the platform (an explicit ``null``), so the target omits it."""

    min_replicas: int | None
    max_replicas: int | None
    scale_to_zero: bool
    metric: str | None
    target: float | None
    custom_metric: str | None = None
    prometheus_url: str | None = None  # KEDA's Prometheus, for a custom metric on KServe
    query: str | None = None  # metric "prometheus": KEDA's Prometheus scaler on KServe
    server_address: str | None = None
    authentication_ref: str | None = None  # a KEDA TriggerAuthentication's name


@dataclass(frozen=True, slots=True)
class Probe:
    """What the spec wrote of one probe (None: the target's default); ``enabled`` False: an
    explicit ``null`` removed the probe, so the container has none."""

    path: str | None = None
    port: int | None = None
    period_seconds: int | None = None
    failure_threshold: int | None = None
    initial_delay_seconds: int | None = None
    enabled: bool = True

    @property
    def written(self) -> bool:
        return not self.enabled or any(
            value is not None
            for value in (
                self.path,
                self.port,
                self.period_seconds,
                self.failure_threshold,
                self.initial_delay_seconds,
            )
        )


@dataclass(frozen=True, slots=True)
class Probes:
    startup: Probe = Probe()
    readiness: Probe = Probe()
    liveness: Probe = Probe()


@dataclass(frozen=True, slots=True)
class Rollout:
    """None: left to the platform (not written on KServe, or an explicit ``null``)."""

    max_surge: int | str | None
    max_unavailable: int | str | None


@dataclass(frozen=True, slots=True)
class Port:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True, slots=True)
class Volume:
    """A mounted volume; ``source`` is the pod volume's source (e.g. ``{"nfs": {...}}``) as
    Kubernetes spells it."""

    name: str
    mount_path: str
    read_only: bool
    source: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]

    @property
    def relaxes_restricted(self) -> bool:
        """Pod Security "restricted" allows no NFS volume."""
        return any(kind == "nfs" for kind, _ in self.source)


@dataclass(frozen=True, slots=True)
class Container:
    """A container the user supplies (custom predictor, transformer)."""

    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[EnvVar, ...]
    resources: Resources | None
    autoscaling: Autoscaling | None = None  # the transformer's own (None: KServe's defaults)


@dataclass(frozen=True, slots=True)
class ModelFormat:
    name: str
    version: str | None = None
    auto_select: bool | None = None
    priority: int | None = None


@dataclass(frozen=True, slots=True)
class ServingRuntime:
    """A runtime the project declares (``spec.runtimes``): a KServe ServingRuntime or
    ClusterServingRuntime; on plain Kubernetes, the container a model naming it runs."""

    name: str
    kind: str  # "ServingRuntime" | "ClusterServingRuntime"
    image: str
    args: tuple[str, ...]  # KServe's {{.Name}} placeholders kept as written
    port: int
    protocol_versions: tuple[str, ...]
    model_formats: tuple[ModelFormat, ...]
    annotations: tuple[tuple[str, str], ...]
    resources: Resources | None


@dataclass(frozen=True, slots=True)
class Serving:
    """None in a defaulted field (protocol, port, resources, autoscaling, deployment_mode)
    means an explicit ``null``: the target omits it and the platform's default applies."""

    runtime: str
    runtime_version: str | None
    protocol: str | None
    storage_uri: str | None  # artifact of the stable version, placeholders filled
    image: str | None
    command: tuple[str, ...]
    args: tuple[str, ...]
    env: tuple[EnvVar, ...]
    port: int | None
    resources: Resources | None
    node_selector: tuple[tuple[str, str], ...]
    tolerations: tuple[Toleration, ...]
    service_account: str | None
    autoscaling: Autoscaling | None
    transformer: Container | None
    deployment_mode: str | None  # "serverless" | "standard"; None only on the kubernetes target
    annotations: tuple[tuple[str, str], ...]
    security: SecurityContext = SecurityContext()
    probes: Probes = Probes()
    shared_memory: str | None = None  # sizeLimit of a /dev/shm emptyDir
    priority_class_name: str | None = None
    rollout: Rollout | None = None
    ports: tuple[Port, ...] = ()
    service_name: str | None = None  # plain Kubernetes: default the model name
    service_port: int | None = None  # plain Kubernetes: default 80
    volumes: tuple[Volume, ...] = ()
    # Kubernetes objects passed through as written, kept as canonical JSON text so the IR stays
    # frozen and hashable; the targets parse them back.
    affinity: str | None = None
    topology_spread_constraints: str | None = None
    # the declared runtime ``runtime`` names (None: a built-in runtime)
    declared_runtime: ServingRuntime | None = None


@dataclass(frozen=True, slots=True)
class Canary:
    version: str
    traffic: int
    storage_uri: str | None
    serving: Serving | None = None  # the canary's own settings (its overrides applied), if any


@dataclass(frozen=True, slots=True)
class Mirror:
    """Shadow traffic: ``percent`` % of the requests copied to ``version``."""

    version: str
    percent: int
    storage_uri: str | None


@dataclass(frozen=True, slots=True)
class Expose:
    hostname: str
    path: str


@dataclass(frozen=True, slots=True)
class Variant:
    """One model of an A/B experiment, by its stable version in the experiment's environment."""

    model: str
    version: str
    weight: int
    header: tuple[str, str] | None  # (name, exact value) sent to this variant whatever the weights
    workload: str = ""  # the variant model's workload name here ("": the model's name)

    @property
    def name(self) -> str:
        return self.workload or self.model


@dataclass(frozen=True, slots=True)
class Experiment:
    variants: tuple[Variant, ...]  # the default first, then as written
    default: str


@dataclass(frozen=True, slots=True)
class Traffic:
    """The project's traffic router (``spec.traffic``)."""

    router: str  # "gateway-api" | "istio" | "kserve-native"
    gateway_name: str | None
    gateway_namespace: str | None

    @property
    def routed(self) -> bool:
        """True when a route object splits the traffic between one workload per version."""
        return self.router in ("gateway-api", "istio")


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    namespace: str
    cluster: str | None
    approval: bool
    order: int
    page: bool = True  # False: fast-burn alerts open tickets here instead of paging
    revision: str | None = None  # the branch GitOps syncs this environment from; None: the project's
    manual_sync: bool = False  # Argo CD: no automated sync
    depends_on: tuple[str, ...] = ()  # Flux: Kustomizations outside mlgitops


@dataclass(frozen=True, slots=True)
class Deployment:
    """One model served in one environment."""

    model: str
    environment: Environment
    version: str
    canary: Canary | None
    serving: Serving
    labels: tuple[tuple[str, str], ...]
    annotations: tuple[tuple[str, str], ...]
    source: str
    mirror: Mirror | None = None
    expose: Expose | None = None
    experiment: Experiment | None = None
    # the workload's name here (deployments.<env>.name): the InferenceService or Deployment and
    # Service, and what monitors them; "" means the model's name (see ``name``)
    workload: str = ""

    @property
    def name(self) -> str:
        """The name of the model's workload in this environment."""
        return self.workload or self.model

    @property
    def object_annotations(self) -> dict[str, str]:
        """The annotations for objects beside the workload (Service, monitors, rules): the
        model's identity and lifecycle, without the versions, which only the workload carries
        (so a promotion changes the workload alone)."""
        return {k: v for k, v in self.annotations if k not in _VERSION_ANNOTATIONS}


@dataclass(frozen=True, slots=True)
class DataSource:
    name: str
    uri: str
    version: str | None


@dataclass(frozen=True, slots=True)
class Distributed:
    engine: str  # "pytorch" (TrainJob) | "pytorchjob" (PyTorchJob) | "ray" (RayJob)
    workers: int
    gpus_per_worker: int | None  # None: the training resources' own GPUs


@dataclass(frozen=True, slots=True)
class Training:
    image: str
    command: tuple[str, ...]
    args: tuple[str, ...]  # the spec's args followed by --param=value for each param
    params: tuple[tuple[str, str], ...]
    env: tuple[EnvVar, ...]
    resources: Resources | None
    schedule: str | None
    runner: str
    timeout_minutes: int
    paths: tuple[str, ...]
    service_account: str | None
    node_selector: tuple[tuple[str, str], ...]
    tolerations: tuple[Toleration, ...]
    security: SecurityContext = SecurityContext()
    distributed: Distributed | None = None


@dataclass(frozen=True, slots=True)
class Gate:
    metric: str
    min: float | None
    max: float | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    gates: tuple[Gate, ...]
    image: str | None
    command: tuple[str, ...]
    metrics_file: str


@dataclass(frozen=True, slots=True)
class Registry:
    kind: str  # "mlflow" | "artifact"
    tracking_uri: str | None
    model_name: str
    alias: str | None
    artifact_uri: str | None  # with {version} still in it
    credentials: EnvVar | None


@dataclass(frozen=True, slots=True)
class SeverityAlert:
    labels: tuple[tuple[str, str], ...] = ()
    for_: str | None = None


@dataclass(frozen=True, slots=True)
class SLOAlerting:
    """The spec's ``alerting`` of one SLO; the defaults are mlgitops' alerts."""

    name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    runbook_url: str | None = None
    page: SeverityAlert = SeverityAlert()
    ticket: SeverityAlert = SeverityAlert()
    disable: bool = False


@dataclass(frozen=True, slots=True)
class SLO:
    kind: str  # "availability" | "latency"
    objective: float  # percent
    window: str
    threshold: str | None = None  # latency only
    alerting: SLOAlerting = SLOAlerting()


@dataclass(frozen=True, slots=True)
class Drift:
    features: tuple[str, ...]
    method: str
    threshold: float
    schedule: str
    reference: str | None
    image: str | None
    retrain: bool
    retrain_token: SecretKeyRef | None = None
    current: str | None = None  # URI template of the live inputs ({date}, {model}, {environment})


@dataclass(frozen=True, slots=True)
class MetricSelectors:
    """User overrides of the series SLOs use; None means the serving target's default."""

    requests: str | None = None
    errors: str | None = None
    latency: str | None = None
    latency_unit: str | None = None
    good: str | None = None  # counter of good events (availability = good / requests)
    gauge: str | None = None  # 0..1 gauge averaged over time (availability)


@dataclass(frozen=True, slots=True)
class Alerts:
    route: str | None
    runbook_url: str | None


@dataclass(frozen=True, slots=True)
class Monitoring:
    slos: tuple[SLO, ...]
    drift: Drift | None
    alerts: Alerts
    metrics: MetricSelectors = MetricSelectors()
    scrape_port: str | None = None  # None: the serving target's default
    scrape_path: str | None = None


@dataclass(frozen=True, slots=True)
class Model:
    name: str
    owner: str
    description: str | None
    labels: tuple[tuple[str, str], ...]
    source: str
    stage: str
    sunset: datetime.date | None
    replaced_by: str | None
    data: tuple[DataSource, ...]
    training: Training | None
    evaluation: Evaluation | None
    registry: Registry
    monitoring: Monitoring
    deployments: tuple[Deployment, ...]
    artifact: str | None = None  # where versions live, "{version}" still in it (model filled in)


@dataclass(frozen=True, slots=True)
class ArgoCDSettings:
    namespace: str
    project: str
    application_set: bool
    application_name: str = DEFAULT_APPLICATION_NAME  # {project} and {environment} replaced
    sync_waves: bool = False


@dataclass(frozen=True, slots=True)
class GrafanaSettings:
    per_model_dashboards: bool  # besides the project's generic dashboards


@dataclass(frozen=True, slots=True)
class FluxSettings:
    namespace: str
    interval: str
    retry_interval: str | None = None
    timeout: str | None = "10m"
    prune: bool = True
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PrometheusSettings:
    format: str = "operator"  # "operator" | "files"
    api_group: str = "monitoring.coreos.com"


@dataclass(frozen=True, slots=True)
class AwsLogin:
    role_arn: str
    region: str


@dataclass(frozen=True, slots=True)
class GcpLogin:
    workload_identity_provider: str
    service_account: str


@dataclass(frozen=True, slots=True)
class AzureLogin:
    client_id_var: str
    tenant_id_var: str
    subscription_id_var: str
    storage_account_var: str


@dataclass(frozen=True, slots=True)
class CiTest:
    name: str
    image: str
    command: tuple[str, ...]
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CiSettings:
    """spec.ci beyond the system's name: cloud logins for uploads, the promotion token."""

    aws: AwsLogin | None = None
    gcp: GcpLogin | None = None
    azure: AzureLogin | None = None
    github_app: tuple[str, str] | None = None  # (variable with the App ID, secret with its key)
    github_token_secret: str | None = None  # a secret holding a personal access token
    gitlab_token_var: str = "MLGITOPS_GITLAB_TOKEN"
    tests: tuple[CiTest, ...] = ()


@dataclass(frozen=True, slots=True)
class CiInstall:
    """How CI installs mlgitops: a requirements file, a git URL with its commit, or an image."""

    requirements: str = ""  # a requirements file with hashes, relative to the project
    git: str = ""  # a git URL, with ``commit``
    commit: str = ""  # 40 hex digits
    image: str = ""  # a container image holding mlgitops, pinned by digest


@dataclass(frozen=True, slots=True)
class Project:
    name: str
    repository: str
    revision: str
    ci: str
    gitops: str
    serving: str
    registry_kind: str
    environments: tuple[Environment, ...]
    output: str  # relative directory of the compiled tree, POSIX
    repo_subdir: str  # the project directory relative to the git repository root ("" at the root)
    labels: tuple[tuple[str, str], ...]
    argocd: ArgoCDSettings
    flux: FluxSettings
    grafana: GrafanaSettings
    models: tuple[Model, ...]
    retired: tuple[str, ...] = field(default=())
    prometheus: PrometheusSettings = PrometheusSettings()
    include: tuple[str, ...] = ("models/**/*.yaml",)  # spec.include: the model spec patterns
    templates: str = ""  # spec.templates, the override templates directory ("" without one)
    traffic: Traffic | None = None
    ci_settings: CiSettings = CiSettings()
    # How CI installs mlgitops (spec.ci.mlgitops); None: the default, see targets/ci/contract.py
    ci_install: CiInstall | None = None
    # spec.ci.includeFrom: the user's root CI file that includes the project's ("" without one)
    ci_include_from: str = ""
    runtimes: tuple[ServingRuntime, ...] = ()  # spec.runtimes, in the order written
    description: str | None = None  # metadata.description: annotates the GitOps objects
    # The labels each environment's kustomization puts on every object it lists (with
    # mlgitops.dev/environment), which its objects then leave out: part-of, managed-by and the
    # project's labels that no model gives another value (kustomize would overwrite it).
    shared_labels: tuple[tuple[str, str], ...] = ()

    @property
    def routed(self) -> bool:
        """One workload per version behind a weighted route (gateway-api or istio)."""
        return self.traffic is not None and self.traffic.routed

    def deployments(self) -> tuple[Deployment, ...]:
        return tuple(d for m in self.models for d in m.deployments)


# Every IR type pickles as a call of its constructor: a compile's workers send back the IR of the
# models they built (pipeline.py, relayed.py).
for _type in list(globals().values()):
    if isinstance(_type, type) and is_dataclass(_type) and _type.__module__ == __name__:
        pickled_by_constructor(_type)
