"""The `Model` kind: one model's whole lifecycle."""

from __future__ import annotations

import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from mlgitops.spec.base import SpecModel
from mlgitops.spec.common import EnvMap, Metadata, Resources, Toleration
from mlgitops.spec.monitoring import Monitoring
from mlgitops.spec.serving import ServingSpec
from mlgitops.spec.types import (
    DNS_LABEL_PATTERN,
    ArtifactUri,
    Cron,
    DnsLabel,
    FixedArtifactUri,
    Image,
    LabelKey,
    MetricName,
    ModelName,
    NonEmptyText,
    ScalarValue,
    Text,
    Uri,
    Version,
)
from mlgitops.spec.workload import SecurityContext


class ModelMetadata(Metadata):
    """Identity and ownership of a model."""

    name: ModelName = Field(
        description="Model name; names its Service/InferenceService, so a DNS-1035 label "
        "(starts with a letter)."
    )
    owner: NonEmptyText = Field(description="Owning team; labels every object and alert.")


class DataSource(SpecModel):
    """A dataset the model trains on."""

    name: DnsLabel = Field(description="Name of the data source.")
    uri: Uri = Field(description="Where the data lives, e.g. `s3://bucket/path/`.")
    version: Text | None = Field(default=None, description="Pinned dataset version or snapshot.")


ParamValue = ScalarValue


class Distributed(SpecModel):
    """Training on several machines, by a training operator already installed in the cluster
    (with `runner: kubernetes`). Each worker runs the training container with the training's
    image, command, environment, resources and hardening."""

    engine: Literal["pytorch", "pytorchjob", "ray"] = Field(
        description="`pytorch`: a Kubeflow Trainer `TrainJob` (`trainer.kubeflow.org/v1alpha1`) on "
        "the `torch-distributed` ClusterTrainingRuntime, `numNodes` = `workers`; `pytorchjob`: a "
        "training-operator `PyTorchJob` (`kubeflow.org/v1`), one `Master` and `workers - 1` "
        "`Worker` replicas; `ray`: a KubeRay `RayJob` (`ray.io/v1`) whose `entrypoint` is the "
        "command and arguments, on a Ray cluster of one head and a worker group of `workers` "
        "replicas, shut down when the job ends."
    )
    workers: Annotated[int, Field(ge=1, le=1000)] = Field(
        description="Number of training machines (pods): `TrainJob` `numNodes`, `PyTorchJob` "
        "Master + Worker replicas, RayJob worker-group `replicas`."
    )
    gpus_per_worker: Annotated[int, Field(ge=1, le=64)] | None = Field(
        default=None,
        description="GPUs of each worker (`resources.limits` and `requests` of the GPU resource: "
        "`nvidia.com/gpu`, or `resources.gpuResource`); instead of `resources.gpu`, which it "
        "must not contradict. Unset: `resources.gpu`.",
    )


class Training(SpecModel):
    """How the model is (re)trained."""

    image: Image = Field(description="Training container image.")
    command: list[NonEmptyText] | None = Field(
        default=None, description="Entrypoint, e.g. `[python, -m, pkg.train]`."
    )
    args: list[Text] = Field(default_factory=list, description="Arguments after the command.")
    params: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$")], ParamValue] = Field(
        default_factory=dict, description="Hyper-parameters, passed as `--name=value` arguments."
    )
    env: EnvMap = Field(
        default_factory=dict, description="Environment variables (literals or secret references)."
    )
    resources: Resources | None = Field(default=None, description="Resources of the training run.")
    schedule: Cron | None = Field(default=None, description="Retraining schedule (cron, UTC).")
    runner: Literal["ci", "kubernetes"] = Field(
        default="ci",
        description="`ci`: train in the CI runner; `kubernetes`: run a Kubernetes Job.",
    )
    timeout_minutes: Annotated[int, Field(ge=1, le=4320)] = Field(
        default=120, description="Training time limit."
    )
    paths: list[NonEmptyText] = Field(
        default_factory=list,
        description="Repository paths whose changes retrain the model (push trigger).",
    )
    service_account: DnsLabel | None = Field(
        default=None, description="Service account of the Kubernetes Job."
    )
    node_selector: dict[LabelKey, Text] | None = Field(default=None, description="Node labels for the Job.")
    tolerations: list[Toleration] | None = Field(default=None, description="Tolerations for the Job.")
    security_context: SecurityContext | None = Field(
        default=None,
        description="Relaxations of the training pod's hardening (its pod and container "
        "`securityContext`). `null`: the image's user and a writable root.",
    )
    distributed: Distributed | None = Field(
        default=None,
        description="Train on several machines with a training operator already in the cluster "
        "(`runner: kubernetes` only): `training-job.yaml` is then the engine's object, which the "
        "CI pipeline creates and waits for. A `schedule` still starts the CI pipeline, but no "
        "in-cluster CronJob is written (MLG391).",
    )


class Gate(SpecModel):
    """A threshold that an evaluation metric must meet before registration."""

    metric: MetricName = Field(description="Metric name as written in the metrics file.")
    min: float | None = Field(default=None, description="Lowest acceptable value (inclusive).")
    max: float | None = Field(default=None, description="Highest acceptable value (inclusive).")


class Evaluation(SpecModel):
    """The evaluation gate between training and registration."""

    gates: list[Gate] = Field(default_factory=list, description="Thresholds; all must pass.")
    image: Image | None = Field(default=None, description="Evaluation image; default the training image.")
    command: list[NonEmptyText] | None = Field(
        default=None, description="Evaluation command; writes the metrics file."
    )
    metrics_file: NonEmptyText = Field(
        default="metrics.json", description="JSON file of metric name → number."
    )


class ModelRegistry(SpecModel):
    """Where a trained version is registered (the project chooses MLflow or plain artifacts)."""

    model_name: NonEmptyText | None = Field(
        default=None,
        description="MLflow registered-model name; default the model name. One name for every "
        "environment: CI registers a version once, when it trains it (a placeholder such as "
        "`{environment}` is refused, MLG362).",
    )
    alias: Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_-]*$")] | None = Field(
        default=None,
        description="MLflow alias set on a version that passes its gates, e.g. `champion` "
        "(refused with an artifact registry, which has no aliases: MLG360).",
    )
    artifact_uri: ArtifactUri | None = Field(
        default=None,
        description="For the artifact registry: where versions are uploaded, with `{version}`.",
    )


class Canary(SpecModel):
    """A second version receiving a share of the traffic, with the serving settings that differ
    for it (blue/green with a new image, resources or node pool is one spec)."""

    version: Version = Field(description="Version under test.")
    # validate/semantic.py refuses 0 and 100 with a hint of what to do instead (MLG304); the
    # schema only tells the editor the range.
    traffic: int = Field(
        description="Percentage of requests sent to the canary, 1 to 99; 0 (deployed, reachable "
        "by its own Service, no user traffic) with a gateway-api or istio router.",
        json_schema_extra={"minimum": 0, "maximum": 99},
    )
    image: Image | None = Field(default=None, description="The canary's container image.")
    resources: Resources | None = Field(default=None, description="The canary's resources.")
    node_selector: dict[LabelKey, Text] | None = Field(
        default=None, description="The canary's node labels (e.g. a new instance type)."
    )
    artifact: FixedArtifactUri | None = Field(
        default=None,
        description="The canary's artifact URI (`{model}` and `{version}` are filled in); a literal "
        "URI without `{version}` is allowed, since the canary's version is fixed.",
    )
    env: EnvMap | None = Field(
        default=None, description="Environment variables added to (or replacing) the stable version's."
    )
    runtime_version: Text | None = Field(default=None, description="The canary's model server version.")


class Expose(SpecModel):
    """Where the route receives requests (a gateway-api or istio router)."""

    hostname: Annotated[
        str,
        Field(
            pattern=r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
            max_length=253,
        ),
    ] = Field(description="Host name of the route, e.g. `iris.ml.acme.com`.")
    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9/._~%!$&'()*+,;=:@-]*$", max_length=1024)] = Field(
        default="/", description="Path prefix of the route."
    )


class Mirror(SpecModel):
    """Shadow traffic: a copy of a share of the requests, whose responses are discarded."""

    version: Version = Field(description="Version receiving the copies (deployed beside the others).")
    percent: Annotated[int, Field(ge=1, le=100)] = Field(description="Percentage of requests copied to it.")


class HeaderMatch(SpecModel):
    """An HTTP request header with an exact value."""

    # Lower case with hyphens: Istio refuses other header keys; Gateway API matches any case.
    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=256)] = Field(
        description="Header name, lower case, e.g. `x-variant`."
    )
    value: Annotated[str, Field(min_length=1, max_length=4096)] = Field(
        description="The exact value that selects the variant."
    )


class VariantMatch(SpecModel):
    """Requests sent to a variant whatever the weights."""

    header: HeaderMatch = Field(description="Requests carrying this header go to the variant.")


class Variant(SpecModel):
    """One model of an A/B experiment, served by its stable version in the same environment."""

    model: DnsLabel = Field(description="A model of the project deployed in this environment.")
    weight: Annotated[int, Field(ge=0, le=100)] = Field(
        description="Percentage of the requests it receives; the variants' weights sum to 100."
    )
    match: VariantMatch | None = Field(
        default=None, description="Requests routed to this variant regardless of the weights."
    )


class Experiment(SpecModel):
    """A/B between models behind this model's route (a gateway-api or istio router)."""

    variants: Annotated[list[Variant], Field(min_length=2)] = Field(
        description="The models sharing the route and their weights (summing to 100)."
    )
    default: DnsLabel = Field(
        description="The variant that owns the experiment's outcome until it ends: listed first "
        "in the route and recorded in its `mlgitops.dev/experiment-default` annotation."
    )


class Deployment(ServingSpec):
    """The version deployed in one environment, plus overrides of any serving field."""

    version: Version = Field(description="Stable version served in this environment.")
    name: ModelName | None = Field(
        default=None,
        description="The name of the model's workloads in this environment, default the model's "
        "name: the InferenceService (KServe `metadata.name`) or the Deployment and Service, and "
        "everything that names or selects them (PodDisruptionBudget, HPA, routes, monitors, the "
        "series SLO rules and dashboards read). Labels, output paths and the drift check keep "
        "the model's name. Unique among the models of a namespace (MLG361).",
    )
    artifact: FixedArtifactUri | None = Field(
        default=None,
        description="Where this environment's artifact lives; the version is fixed here, so a "
        "literal URI without `{version}` is allowed (e.g. `oci://registry/models/fraud@sha256:…` "
        "or `pvc://models/fraud/1.4.2`).",
    )
    canary: Canary | None = Field(default=None, description="Canary version and its traffic share.")
    mirror: Mirror | None = Field(
        default=None, description="Shadow traffic to another version (a gateway-api or istio router)."
    )
    expose: Expose | None = Field(
        default=None,
        description="Host name and path of the route, so it is an entry point (a gateway-api or "
        "istio router).",
    )
    experiment: Experiment | None = Field(
        default=None,
        description="A/B between models behind this model's route, with exact weights and "
        "header matches (a gateway-api or istio router).",
    )
    waive_promotion_order: bool = Field(
        default=False,
        description="Allow a version that is not deployed in the previous environment (hotfixes).",
    )
    reason: Text | None = Field(
        default=None,
        description="Why the promotion order is waived; required beside `waivePromotionOrder` in "
        "environments with `approval: required`.",
    )


class Lifecycle(SpecModel):
    """Where the model is in its life."""

    stage: Literal["active", "deprecated", "retired"] = Field(
        default="active",
        description="`active`; `deprecated` (still served, annotated, warned about after `sunset`); "
        "`retired` (nothing is generated; deployments must be removed).",
    )
    sunset: datetime.date | None = Field(
        default=None, description="Date (YYYY-MM-DD) after which a deprecated model should be gone."
    )
    replaced_by: DnsLabel | None = Field(default=None, description="The model that replaces this one.")
    reason: Text | None = Field(
        default=None,
        description="Why the model is deprecated or retired; a deprecated model's workloads carry it in "
        "the annotation `mlgitops.dev/lifecycle-reason`.",
    )

    @field_validator("sunset", mode="before")
    @classmethod
    def _parse_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                from pydantic_core import PydanticCustomError

                raise PydanticCustomError("MLG206", f"{value!r} is not a date (YYYY-MM-DD)") from None
        return value


class ModelBody(SpecModel):
    """The `spec` of a Model."""

    data: list[DataSource] = Field(default_factory=list, description="Training data sources.")
    training: Training | None = Field(default=None, description="How the model is trained.")
    evaluation: Evaluation | None = Field(default=None, description="Gates a version must pass.")
    registry: ModelRegistry | None = Field(default=None, description="Registry settings for this model.")
    serving: ServingSpec | None = Field(
        default=None, description="How the model is served in every environment."
    )
    deployments: dict[str, Deployment] = Field(
        default_factory=dict,
        description="Per environment: the version served and serving overrides.",
        # Keys must name a declared environment (checked across files), whose names are DNS labels.
        json_schema_extra={"propertyNames": {"pattern": DNS_LABEL_PATTERN, "maxLength": 63}},
    )
    monitoring: Monitoring | None = Field(default=None, description="SLOs, drift and alert routing.")
    lifecycle: Lifecycle = Field(default_factory=Lifecycle, description="Lifecycle stage.")


class ModelSpec(SpecModel):
    """A `Model` document (`models/*.yaml`)."""

    api_version: Literal["mlgitops/v1"] = Field(description="Always `mlgitops/v1`.")
    kind: Literal["Model"] = Field(description="Always `Model`.")
    metadata: ModelMetadata = Field(description="Name, owner, description and labels.")
    spec: ModelBody = Field(description="The model's lifecycle.")
