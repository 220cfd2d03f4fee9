"""How a model is served. Every field is optional here because the same type is
used by every layer (project defaults, environment settings, the model, the
per-environment override); :mod:`mlgitops.resolve` merges them and checks that
the result is complete."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlgitops.spec.base import SpecModel
from mlgitops.spec.common import EnvMap, Resources, Toleration
from mlgitops.spec.scheduling import Affinity, TopologySpreadConstraint
from mlgitops.spec.types import (
    ArtifactUri,
    DnsLabel,
    HttpUrl,
    Image,
    LabelKey,
    MetricName,
    NonEmptyText,
    Quantity,
    Text,
)
from mlgitops.spec.workload import (
    ContainerPort,
    DnsSubdomain,
    Probes,
    Rollout,
    SecurityContext,
    Service,
    Volume,
)

Protocol = Literal["v1", "v2", "grpc-v2", "openai"]
ScaleMetric = Literal["concurrency", "rps", "cpu", "memory", "custom", "prometheus"]


class Autoscaling(SpecModel):
    """Replica bounds and the metric that scales between them."""

    min_replicas: Annotated[int, Field(ge=0, le=1000)] | None = Field(
        default=None,
        description="Fewest replicas (default 1); 0 only together with `scaleToZero: true`. "
        "`null`: omitted, so KServe's or the HPA's default (1) applies.",
    )
    max_replicas: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description="Most replicas (default 3). `null`: omitted on KServe (its default applies); "
        "an error on the `kubernetes` target, whose HPA requires it (write `autoscaling: null` for no HPA).",
    )
    scale_to_zero: bool | None = Field(
        default=None,
        description="Allow scaling to zero replicas when idle (KServe serverless mode only); "
        "default and `null`: no.",
    )
    metric: ScaleMetric | None = Field(
        default=None,
        description="What drives scaling: `concurrency` (in-flight requests per replica), `rps`, `cpu` "
        "or `memory` (percent of request), `custom` (a Prometheus metric named by `customMetric`), "
        "or `prometheus` (the value of `query`, KServe standard mode: KEDA's Prometheus scaler, "
        "annotation `serving.kserve.io/autoscalerClass: keda`). "
        "Default `concurrency` on KServe serverless, `cpu` otherwise. `null`: omitted, so KServe's "
        "default metric (or the HPA's, 80 % CPU, with mlgitops' default target dropped) applies; "
        "on the `kubernetes` target a `target` of your own then is an error.",
    )
    target: Annotated[float, Field(gt=0)] | None = Field(
        default=None,
        description="Target value of the metric per replica (default 10 for concurrency, 80 for cpu). "
        "`null`: omitted on KServe (its default applies); an error on the `kubernetes` target "
        "while a metric is set, since an HPA metric needs a target.",
    )
    custom_metric: MetricName | None = Field(
        default=None,
        description="Metric name when `metric: custom`. Plain Kubernetes: a per-pod metric the HPA "
        "reads from a custom metrics adapter. KServe (standard mode only): KEDA scales on the sum of "
        "the predictor pods' series in Prometheus (`prometheusUrl`), `target` per replica.",
    )
    prometheus_url: HttpUrl | None = Field(
        default=None,
        description="Prometheus server KEDA queries for `customMetric` on KServe, e.g. "
        "`http://prometheus-operated.monitoring.svc:9090`; set it per environment for several clusters.",
    )
    query: NonEmptyText | None = Field(
        default=None,
        description="PromQL query whose value drives scaling when `metric: prometheus` (KServe: "
        "`autoScaling.metrics[].external.metric.query`, scaled by KEDA, standard mode only), e.g. "
        "`sum(rate(vllm:num_requests_running[1m]))`; `target` is the value per replica.",
    )
    server_address: HttpUrl | None = Field(
        default=None,
        description="Prometheus server KEDA queries when `metric: prometheus` "
        "(`external.metric.serverAddress`).",
    )
    authentication_ref: DnsSubdomain | None = Field(
        default=None,
        description="Name of the KEDA `TriggerAuthentication` in the model's namespace that "
        "authenticates to `serverAddress` (`external.authenticationRef.authenticationRef.name`).",
    )


class Transformer(SpecModel):
    """A pre/post-processing container placed in front of the predictor."""

    image: Image | None = Field(default=None, description="Container image of the transformer.")
    command: list[NonEmptyText] | None = Field(default=None, description="Entrypoint override.")
    args: list[Text] | None = Field(default=None, description="Arguments.")
    env: EnvMap | None = Field(
        default=None, description="Environment variables (literals or secret references)."
    )
    resources: Resources | None = Field(default=None, description="Resources of the transformer.")
    autoscaling: Autoscaling | None = Field(
        default=None,
        description="The transformer's own replica bounds and metric (KServe `transformer.minReplicas`, "
        "`maxReplicas`, `scaleMetric`/`scaleTarget` or `autoScaling.metrics`); unset: KServe's "
        "defaults. Its metric must suit the autoscaler class the predictor's metric chooses.",
    )


class ServingSpec(SpecModel):
    """Serving settings. Mappings merge across layers; lists and scalars replace."""

    runtime: DnsLabel | None = Field(
        default=None,
        description="Model server: `sklearn`, `xgboost`, `lightgbm`, `pytorch`, `tensorflow`, `onnx`, "
        "`triton`, `huggingface`, `custom` (your own container in `image`), or the name of a "
        "runtime declared in the project's `spec.runtimes` (KServe: `predictor.model.runtime`).",
    )
    runtime_version: Text | None = Field(
        default=None,
        description="Version of the serving runtime image, when not the platform default.",
    )
    artifact: ArtifactUri | None = Field(
        default=None,
        description="Where the model artifact lives, with a `{version}` (and optionally `{model}`) "
        "placeholder, "
        "e.g. `s3://models/fraud/{version}/`.",
    )
    protocol: Protocol | None = Field(
        default=None,
        description="Inference protocol: `v1`, `v2`, `grpc-v2` or `openai` (default `v1`, `v2` for "
        "Triton). `null`: no `protocolVersion`, so KServe's default (or the model server's) applies.",
    )
    image: Image | None = Field(
        default=None,
        description="Container image; required with `runtime: custom`, otherwise overrides the runtime's.",
    )
    command: list[NonEmptyText] | None = Field(default=None, description="Container entrypoint override.")
    args: list[Text] | None = Field(default=None, description="Extra arguments to the model server.")
    env: EnvMap | None = Field(
        default=None, description="Environment variables (literals or secret references)."
    )
    port: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        default=None,
        description="Port the container serves on (custom containers); default 8080. `null`: no "
        "port on KServe (its default, 8080, applies); an error on the `kubernetes` target.",
    )
    resources: Resources | None = Field(
        default=None,
        description="Resources of each replica (default requests `500m` CPU and `1Gi` memory). "
        "`null` (or `null` on a key): omitted, so the namespace's LimitRange, or none, applies.",
    )
    node_selector: dict[LabelKey, Text] | None = Field(
        default=None, description="Node labels to schedule onto."
    )
    tolerations: list[Toleration] | None = Field(
        default=None, description="Taints to tolerate (e.g. GPU nodes)."
    )
    service_account: DnsLabel | None = Field(
        default=None,
        description="Kubernetes service account, e.g. one allowed to read the artifact bucket.",
    )
    autoscaling: Autoscaling | None = Field(
        default=None,
        description="Replica bounds and scaling metric. `null`: no autoscaling fields on KServe (its "
        "defaults apply); no HorizontalPodAutoscaler on the `kubernetes` target (1 replica, the "
        "Deployment's default).",
    )
    transformer: Transformer | None = Field(
        default=None, description="Optional pre/post-processing container."
    )
    deployment_mode: Literal["serverless", "standard"] | None = Field(
        default=None,
        description="KServe deployment mode: `serverless` (Knative, can scale to zero) or `standard` "
        "(plain Deployment + HPA); default `serverless`. Ignored by the `kubernetes` serving target. "
        "`null` is an error on KServe: the generated monitoring and checks depend on the mode.",
    )
    annotations: dict[LabelKey, Text] | None = Field(
        default=None, description="Extra annotations on the serving objects."
    )
    probes: Probes | None = Field(
        default=None,
        description="Startup, readiness and liveness probes of the serving container (its "
        "`startupProbe`, `readinessProbe`, `livenessProbe`; KServe: `predictor.model` or the "
        "custom container). Plain Kubernetes probes the runtime's health endpoints by default.",
    )
    shared_memory: Quantity | None = Field(
        default=None,
        description="Size of `/dev/shm`, e.g. `2Gi`: an `emptyDir` of medium `Memory` with this "
        "`sizeLimit` mounted there (PyTorch data loaders, NCCL and vLLM need more than the 64 MiB "
        "container default).",
    )
    priority_class_name: DnsSubdomain | None = Field(
        default=None, description="Pod `priorityClassName` (KServe: `predictor.priorityClassName`)."
    )
    rollout: Rollout | None = Field(
        default=None,
        description="Rolling update of a new version: the Deployment's `strategy.rollingUpdate` "
        "(plain Kubernetes), `predictor.deploymentStrategy.rollingUpdate` (KServe standard mode; "
        "an error in serverless mode, where Knative rolls out revisions).",
    )
    ports: list[ContainerPort] | None = Field(
        default=None,
        description="Extra named container ports (container `ports`, after `http` and Triton's "
        "`metrics`), e.g. `[{name: grpc, port: 8001}]`. KServe: standard mode only (Knative "
        "serves one port), written after the serving port `http1`.",
        max_length=16,
    )
    service: Service | None = Field(
        default=None,
        description="Name and port of the plain-Kubernetes Service (`metadata.name`, `ports[0].port`); "
        "an error on KServe, which names and exposes its own Services.",
    )
    volumes: list[Volume] | None = Field(
        default=None,
        description="Volumes mounted into the serving container (pod `volumes` + container "
        "`volumeMounts`): a PersistentVolumeClaim, an NFS export, a ConfigMap or a Secret, read-only "
        "by default.",
        max_length=32,
    )
    affinity: Affinity | None = Field(
        default=None,
        description="Pod `affinity` (node, pod and pod anti-affinity), passed through as Kubernetes "
        "spells it (KServe: `predictor.affinity`); merged across layers key by key.",
    )
    topology_spread_constraints: list[TopologySpreadConstraint] | None = Field(
        default=None,
        description="Pod `topologySpreadConstraints`, passed through as Kubernetes spells them "
        "(KServe: `predictor.topologySpreadConstraints`).",
        max_length=16,
    )
    security_context: SecurityContext | None = Field(
        default=None,
        description="Relaxations of the serving pods' hardening (the predictor's and transformer's "
        "`securityContext` on KServe, the Deployment's pod and container `securityContext` on "
        "plain Kubernetes). `null`: the image's user and a writable root.",
    )
