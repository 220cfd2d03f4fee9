"""The `Project` kind (`mlgitops.yaml`): environments, targets, defaults and policies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Discriminator, Field, WithJsonSchema

from mlgitops.outputs import DEFAULT_APPLICATION_NAME
from mlgitops.spec.base import SpecModel
from mlgitops.spec.ci import Ci
from mlgitops.spec.common import Metadata, SecretSource
from mlgitops.spec.runtimes import ServingRuntimeSpec
from mlgitops.spec.serving import ServingSpec
from mlgitops.spec.types import (
    ENV_NAME_PATTERN,
    DnsLabel,
    Duration,
    EnvName,
    GitUrl,
    HttpUrl,
    NonEmptyText,
    Text,
    Uri,
)


def _not_github_reserved(value: str) -> str:
    if value.upper().startswith("GITHUB_"):
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError("MLG206", f"{value!r}: secret names cannot start with GITHUB_")
    return value


# A CI secret (GitHub) or CI/CD variable (GitLab) name: letters, digits and `_`, not starting with
# a digit; GitHub reserves the `GITHUB_` prefix (in any case).
CiSecretName = Annotated[
    EnvName,
    AfterValidator(_not_github_reserved),
    WithJsonSchema(
        {"type": "string", "pattern": ENV_NAME_PATTERN, "not": {"pattern": "^[Gg][Ii][Tt][Hh][Uu][Bb]_"}}
    ),
]


class EnvironmentMonitoring(SpecModel):
    """How the alerts of an environment reach people."""

    page: bool = Field(
        default=True,
        description="`false`: the fast-burn alerts of this environment open tickets "
        "(`severity: ticket`) instead of paging, e.g. for `dev` and `staging`.",
    )


class EnvironmentGitOps(SpecModel):
    """How the GitOps engine syncs one environment."""

    revision: NonEmptyText | None = Field(
        default=None,
        description="Branch this environment is synced from, e.g. a release branch for prod; "
        "default `spec.revision`. Argo CD: the Application's `source.targetRevision`; Flux: a "
        "GitRepository of its own (`ref.branch`) that the environment's Kustomization reads.",
    )
    sync_policy: Literal["automated", "manual"] = Field(
        default="automated",
        description="Argo CD: `automated` syncs every change (`syncPolicy.automated` with prune "
        "and self-heal); `manual` leaves it out, so a person syncs, as is common for prod. "
        "Refused with Flux, which always reconciles.",
    )
    depends_on: list[DnsLabel] = Field(
        default_factory=list,
        description="Flux: Kustomizations outside mlgitops (in the Flux namespace) that must be "
        "ready before this environment is reconciled, added to the Kustomization's `dependsOn` "
        "after the previous environment. Refused with Argo CD, which has no such dependency.",
    )


class Environment(SpecModel):
    """A deployment environment. The list order is the promotion order."""

    name: DnsLabel = Field(
        description="Environment name, e.g. `dev`; its files go to `<output>/<name>/`, so not "
        "`gitops`, `prometheus`, `dashboards` or `ci` (project-wide output directories)."
    )
    namespace: DnsLabel = Field(description="Kubernetes namespace the models of this environment run in.")
    cluster: NonEmptyText | None = Field(
        default=None,
        description="Target cluster: an API server URL or an Argo CD cluster name; "
        "default the local cluster.",
    )
    approval: Literal["required", "none"] = Field(
        default="none",
        description="`required`: promotions need a reviewer (CI environment protection).",
    )
    serving: ServingSpec | None = Field(
        default=None,
        description="Serving settings for every model in this environment (below the model's own).",
    )
    monitoring: EnvironmentMonitoring = Field(
        default_factory=EnvironmentMonitoring, description="Alerting in this environment."
    )
    gitops: EnvironmentGitOps = Field(
        default_factory=EnvironmentGitOps, description="How the GitOps engine syncs this environment."
    )
    ci_secrets: dict[EnvName, CiSecretName] = Field(
        default_factory=dict,
        description="CI secret names for this environment: `fromCiSecret: NAME` reads the secret "
        "this maps `NAME` to (e.g. `{DB_PASSWORD: DB_PASSWORD_DEV}`), else `NAME` itself. The jobs "
        "that read `fromCiSecret` (training, evaluation, registration) act for the first "
        "environment, so only its map is used; on a later environment it is refused (MLG353).",
    )


class MlflowRegistry(SpecModel):
    """An MLflow model registry."""

    kind: Literal["mlflow"] = Field(description="`mlflow`.")
    tracking_uri: HttpUrl = Field(description="MLflow tracking server URL.")
    credentials: SecretSource | None = Field(default=None, description="Token for the tracking server.")


class ArtifactRegistry(SpecModel):
    """Versions stored as plain artifacts in object storage."""

    kind: Literal["artifact"] = Field(description="`artifact`.")
    uri: Uri = Field(description="Base URI; a model's versions live under `<uri>/<model>/<version>/`.")
    credentials: SecretSource | None = Field(default=None, description="Credentials for uploads.")


Registry = Annotated[MlflowRegistry | ArtifactRegistry, Discriminator("kind")]


class Policies(SpecModel):
    """Rules enforced by `validate`; each lists the environments it applies to."""

    require_evaluation_gate: list[DnsLabel] = Field(
        default_factory=list,
        description="Models deployed here must define at least one evaluation gate.",
    )
    require_slo: list[DnsLabel] = Field(
        alias="requireSLO",
        default_factory=list,
        description="Models deployed here must define at least one SLO.",
    )
    forbid_mutable_image_tags: list[DnsLabel] = Field(
        default_factory=list,
        description="Images running here must be pinned by digest or a version tag "
        "(not `latest`, `main`, …).",
    )
    forbid_mutable_versions: list[DnsLabel] | None = Field(
        default=None,
        description="Versions served here (stable and canary) must not be names that move, "
        "such as `latest`, `main` or `master`; default every environment with `approval: required`.",
    )
    require_approval: list[DnsLabel] = Field(
        default_factory=list, description="These environments must declare `approval: required`."
    )
    forbid_security_relaxations: list[DnsLabel] = Field(
        default_factory=list,
        description="Pods running here keep the full hardening: a `securityContext` relaxation "
        "(MLG337) is an error (MLG406).",
    )


class Defaults(SpecModel):
    """Project-wide defaults, the lowest layer of resolution."""

    serving: ServingSpec | None = Field(default=None, description="Serving defaults for every model.")


class Output(SpecModel):
    """Where compiled files go."""

    path: NonEmptyText = Field(
        default="deploy", description="Directory of the compiled tree, relative to the project."
    )


class ArgoCD(SpecModel):
    """Argo CD settings."""

    namespace: DnsLabel = Field(default="argocd", description="Namespace Argo CD runs in.")
    project: DnsLabel = Field(default="default", description="Argo CD AppProject of the Applications.")
    application_set: bool = Field(
        default=False, description="Generate one ApplicationSet instead of Applications."
    )
    application_name: NonEmptyText = Field(
        default=DEFAULT_APPLICATION_NAME,
        description="Name of each environment's Application (`metadata.name`): `{project}` and "
        "`{environment}` are replaced; the result must be a DNS subdomain, unique per environment.",
    )
    sync_waves: bool = Field(
        default=False,
        description="Annotate each Application with `argocd.argoproj.io/sync-wave` set to its "
        "environment's position (0 for the first), so an app-of-apps syncs the environments in "
        "promotion order.",
    )


class Flux(SpecModel):
    """Flux settings."""

    namespace: DnsLabel = Field(default="flux-system", description="Namespace Flux runs in.")
    interval: Duration = Field(default="5m", description="Reconciliation interval.")
    retry_interval: Duration | None = Field(
        default=None,
        description="Kustomization `retryInterval`: how soon a failed reconciliation is retried; "
        "unset or `null`: Flux's default (the interval).",
    )
    timeout: Duration | None = Field(
        default="10m",
        description="Kustomization `timeout` for applying and waiting for health; `null`: Flux's "
        "default (the interval).",
    )
    prune: bool = Field(
        default=True,
        description="Kustomization `prune`: delete from the cluster what disappears from git.",
    )
    depends_on: list[DnsLabel] = Field(
        default_factory=list,
        description="Kustomizations outside mlgitops (in the Flux namespace) that every "
        "environment's Kustomization waits for (`dependsOn`), e.g. the one installing KServe.",
    )


class Grafana(SpecModel):
    """Grafana dashboards."""

    per_model_dashboards: bool = Field(
        default=False,
        description=(
            "Also write one dashboard per model (the project's model dashboard with the `model` "
            "variable fixed), besides the project's SLO overview and model dashboards."
        ),
    )


class GatewayRef(SpecModel):
    """The Gateway API Gateway the routes attach to."""

    name: DnsLabel = Field(description="Name of the Gateway.")
    namespace: DnsLabel = Field(description="Namespace of the Gateway.")


class Traffic(SpecModel):
    """How requests are split between versions; chosen once for the project (docs/traffic.md)."""

    router: Literal["gateway-api", "istio", "kserve-native"] = Field(
        description="`gateway-api`: one workload per version and an HTTPRoute with exact weights; "
        "`istio`: the same with a VirtualService; `kserve-native`: KServe serverless "
        "`canaryTrafficPercent`, whose stable side is the previously rolled-out revision, which "
        "only the cluster remembers (a cluster rebuilt from git serves the canary alone)."
    )
    gateway: GatewayRef | None = Field(
        default=None, description="The Gateway the HTTPRoutes attach to (required by `gateway-api`)."
    )


class Prometheus(SpecModel):
    """How Prometheus rules are delivered."""

    format: Literal["operator", "files"] = Field(
        default="operator",
        description="`operator`: PrometheusRule objects in each environment (Prometheus Operator); "
        "`files`: plain rule files and their promtool unit tests under `<output>/prometheus/`, for "
        "Prometheus without the operator. Never both.",
    )
    api_group: Annotated[
        str, Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
    ] = Field(
        default="monitoring.coreos.com",
        description="API group of the operator's PrometheusRule, ServiceMonitor and PodMonitor "
        "(version `v1`), e.g. `monitoring.rhobs` for the Red Hat observability operator.",
    )


class ProjectBody(SpecModel):
    """The `spec` of a Project."""

    repository: GitUrl = Field(description="Git URL of this repository, which GitOps tools sync from.")
    revision: NonEmptyText = Field(default="main", description="Branch the compiled output is synced from.")
    repository_root: Literal["."] | None = Field(
        default=None,
        description=(
            "`.` declares that the project directory is the root of its git repository, whatever "
            "repository it sits in now (as the bundled examples, each meant to be copied into a "
            "repository of its own): paths in GitOps objects and CI files are then relative to the "
            "project. Unset: mlgitops finds the git top level above the project."
        ),
    )
    ci: Ci = Field(
        default="github",
        description="CI system, `github` or `gitlab`, or a mapping with the system (`system`) and "
        "its settings: how CI installs mlgitops, cloud login for uploads, the promotion token, tests.",
    )
    gitops: Literal["argocd", "flux"] = Field(
        default="argocd", description="GitOps engine: `argocd` or `flux`."
    )
    serving: Literal["kserve", "kubernetes"] = Field(
        default="kserve", description="Serving target: `kserve` or plain `kubernetes`."
    )
    registry: Registry = Field(description="Model registry: MLflow or plain artifacts.")
    runtimes: list[ServingRuntimeSpec] = Field(
        default_factory=list,
        description="Serving runtimes a model's `serving.runtime` may name: KServe "
        "`ServingRuntime`/`ClusterServingRuntime` objects (on the `kubernetes` target, the "
        "container a model naming one runs).",
        max_length=64,
    )
    traffic: Traffic | None = Field(
        default=None,
        description="Traffic router for canaries. Without it a canary is possible only on KServe "
        "serverless (its native, cluster-history-dependent split).",
    )
    environments: Annotated[list[Environment], Field(min_length=1)] = Field(
        description="Environments in promotion order (a version moves from each to the next)."
    )
    include: Annotated[list[NonEmptyText], Field(min_length=1)] = Field(
        default_factory=lambda: ["models/**/*.yaml"],
        description=(
            "Glob patterns of model files, relative to the project (`**` spans directories). "
            "Everything a pattern matches must be a readable regular file inside the project; "
            "a symbolic link is followed only to a regular file inside the project, never into a "
            "directory. A matched directory, special file (FIFO, socket, device), symbolic link "
            "leading elsewhere, dangling or looping, or an unreadable file or directory on the way "
            "is an error, so a model file is never silently left out."
        ),
    )
    policies: Policies = Field(default_factory=Policies, description="Policies checked by `validate`.")
    defaults: Defaults = Field(default_factory=Defaults, description="Project-wide defaults.")
    output: Output = Field(default_factory=Output, description="Where compiled files go.")
    templates: Text | None = Field(
        default=None,
        description=(
            "Directory of override templates, relative to the project: a real directory (no "
            "symbolic link on the way; not the project itself, `.git` or `.mlgitops`) holding only "
            "`<target>/<name>.j2` files, each replacing a built-in template of that target and at "
            "most 256 KiB of UTF-8. Any other entry is an error."
        ),
    )
    argocd: ArgoCD = Field(default_factory=ArgoCD, description="Argo CD settings.")
    flux: Flux = Field(default_factory=Flux, description="Flux settings.")
    grafana: Grafana = Field(default_factory=Grafana, description="Grafana dashboard settings.")
    prometheus: Prometheus = Field(default_factory=Prometheus, description="Prometheus rule delivery.")


class ProjectSpec(SpecModel):
    """A `Project` document (`mlgitops.yaml`)."""

    api_version: Literal["mlgitops/v1"] = Field(description="Always `mlgitops/v1`.")
    kind: Literal["Project"] = Field(description="Always `Project`.")
    metadata: Metadata = Field(description="Project name, description and labels.")
    spec: ProjectBody = Field(description="Project settings.")
