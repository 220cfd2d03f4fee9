"""The `Project` kind (`mlgitops.yaml`): environments, targets, defaults and policies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Discriminator, Field

from mlgitops.spec.base import SpecModel
from mlgitops.spec.ci import Ci
from mlgitops.spec.common import Metadata, SecretSource
from mlgitops.spec.serving import ServingSpec
from mlgitops.spec.types import DnsLabel, Duration, GitUrl, HttpUrl, NonEmptyText, Text, Uri


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
    require_approval: list[DnsLabel] = Field(
        default_factory=list, description="These environments must declare `approval: required`."
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


class Flux(SpecModel):
    """Flux settings."""

    namespace: DnsLabel = Field(default="flux-system", description="Namespace Flux runs in.")
    interval: Duration = Field(default="5m", description="Reconciliation interval.")


class Grafana(SpecModel):
    """Grafana dashboards."""

    per_model_dashboards: bool = Field(
        default=False,
        description=(
            "Also write one dashboard per model (the project's model dashboard with the `model` "
            "variable fixed), besides the project's SLO overview and model dashboards."
        ),
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
        "its settings: cloud login for uploads, the promotion token.",
    )
    gitops: Literal["argocd", "flux"] = Field(
        default="argocd", description="GitOps engine: `argocd` or `flux`."
    )
    serving: Literal["kserve", "kubernetes"] = Field(
        default="kserve", description="Serving target: `kserve` or plain `kubernetes`."
    )
    registry: Registry = Field(description="Model registry: MLflow or plain artifacts.")
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


class ProjectSpec(SpecModel):
    """A `Project` document (`mlgitops.yaml`)."""

    api_version: Literal["mlgitops/v1"] = Field(description="Always `mlgitops/v1`.")
    kind: Literal["Project"] = Field(description="Always `Project`.")
    metadata: Metadata = Field(description="Project name, description and labels.")
    spec: ProjectBody = Field(description="Project settings.")
