"""`spec.ci`: the CI system and what its pipelines need from the repository's settings.

`ci: github` (or `gitlab`) stays the short form; the mapping form adds how CI installs
mlgitops, the GitLab root include, cloud login for artifact uploads, the token promotion
pull requests are opened with, and test jobs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from mlgitops.spec.base import SpecModel
from mlgitops.spec.ci_install import IncludeFrom, MlgitopsInstall
from mlgitops.spec.types import DnsLabel, EnvName, Image, NonEmptyText

CiSystem = Literal["github", "gitlab"]
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"


class AwsCloud(SpecModel):
    """AWS: assume an IAM role through OpenID Connect (no long-lived keys)."""

    role_arn: Annotated[str, Field(pattern=_ROLE_ARN)] = Field(
        description="IAM role the upload jobs assume, e.g. `arn:aws:iam::123456789012:role/mlgitops`."
    )
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]+$")] = Field(
        description="AWS region, e.g. `eu-west-1`."
    )


class GcpCloud(SpecModel):
    """Google Cloud: workload identity federation (no service account keys)."""

    workload_identity_provider: Annotated[
        str,
        Field(
            pattern=r"^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$"
        ),
    ] = Field(
        description="Full provider name: `projects/<number>/locations/global/workloadIdentityPools/<pool>/"
        "providers/<provider>`."
    )
    service_account: Annotated[str, Field(pattern=r"^[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com$")] = (
        Field(description="Service account to impersonate, `<name>@<project>.iam.gserviceaccount.com`.")
    )


class AzureCloud(SpecModel):
    """Azure: federated credentials of an app registration; the IDs are CI variables (not secrets)."""

    client_id_var: EnvName = Field(description="CI variable holding the app registration's client ID.")
    tenant_id_var: EnvName = Field(description="CI variable holding the tenant ID.")
    subscription_id_var: EnvName = Field(description="CI variable holding the subscription ID.")
    storage_account_var: EnvName | None = Field(
        default=None,
        description="CI variable naming the storage account of `az://` artifacts "
        "(`abfss://` URIs name theirs); default `AZURE_STORAGE_ACCOUNT`.",
    )


class Cloud(SpecModel):
    """Cloud logins the upload jobs perform before writing a model (OIDC, no stored keys)."""

    aws: AwsCloud | None = Field(default=None, description="AWS role to assume (for `s3://`).")
    gcp: GcpCloud | None = Field(default=None, description="Google Cloud identity (for `gs://`).")
    azure: AzureCloud | None = Field(default=None, description="Azure identity (for `az://`, `abfss://`).")


class GitHubApp(SpecModel):
    """A GitHub App whose installation token opens promotion pull requests."""

    id_var: EnvName = Field(description="Repository variable holding the App's ID.")
    key_secret: EnvName = Field(description="Repository secret holding the App's private key.")


class GitHubToken(SpecModel):
    """The token promotion pull requests are opened with. GitHub starts no workflow for events
    made with the workflow's own `github.token`, so such pull requests get no CI."""

    app: GitHubApp | None = Field(default=None, description="A GitHub App (recommended).")
    secret: EnvName | None = Field(
        default=None, description="A repository secret holding a fine-grained personal access token."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> GitHubToken:
        if (self.app is None) == (self.secret is None):
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("MLG206", "set exactly one of app and secret", {})
        return self


class GitHubSettings(SpecModel):
    """GitHub Actions settings."""

    token: GitHubToken | None = Field(
        default=None,
        description="Token for promotion pull requests; default the workflow's `github.token` "
        "(its pull requests start no workflow).",
    )


class GitLabSettings(SpecModel):
    """GitLab CI settings."""

    token_var: EnvName = Field(
        default="MLGITOPS_GITLAB_TOKEN",
        description="CI/CD variable holding a project access token (role Developer, scopes "
        "`api`, `write_repository`) that pushes promotion branches and opens merge requests.",
    )


class CiTest(SpecModel):
    """A test job that runs before validation on pull requests."""

    name: DnsLabel = Field(description="Job name (the job is `test-<name>`).")
    image: Image = Field(description="Container image the job runs in.")
    command: Annotated[list[NonEmptyText], Field(min_length=1)] = Field(
        description="Command and its arguments, run from the project directory without a shell."
    )
    paths: list[NonEmptyText] = Field(
        default_factory=list,
        description="Paths relative to the project (a trailing `/`: everything below) whose changes "
        "run the job (GitLab: only then; GitHub: they also start the validation workflow, whose "
        "tests always run); empty: every pull request that runs validation.",
    )


class CiSettings(SpecModel):
    """The CI system and its settings."""

    system: CiSystem = Field(default="github", description="CI system: `github` or `gitlab`.")
    cloud: Cloud | None = Field(default=None, description="Cloud logins for artifact uploads.")
    github: GitHubSettings | None = Field(default=None, description="GitHub Actions settings.")
    gitlab: GitLabSettings | None = Field(default=None, description="GitLab CI settings.")
    tests: list[CiTest] = Field(
        default_factory=list, description="Test jobs that run on pull requests before validation."
    )
    mlgitops: MlgitopsInstall | None = Field(
        default=None,
        description="How CI installs mlgitops, pinned: a requirements file with hashes, a git URL at "
        "a commit, or an image by digest; unset: the install steps stop and say so (no release "
        "exists to install by name; `init` fills in the commit it was installed from; docs/ci.md).",
    )
    include_from: IncludeFrom | None = Field(
        default=None,
        description=(
            "GitLab, for a project below the repository root: your root CI file (a path from the "
            "repository root, e.g. `.gitlab-ci.yml`) that includes this project's "
            "`<project>/.gitlab-ci.yml`; mlgitops then writes no root file of its own."
        ),
    )

    @model_validator(mode="after")
    def _settings_of_the_system(self) -> CiSettings:
        from pydantic_core import PydanticCustomError

        if self.include_from is not None and self.system != "gitlab":
            raise PydanticCustomError(
                "MLG206", "includeFrom is for GitLab: GitHub reads only the root .github/workflows/", {}
            )
        other = "gitlab" if self.system == "github" else "github"
        if getattr(self, other) is not None:
            raise PydanticCustomError(
                "MLG206", "{other} settings with system {system}", {"other": other, "system": self.system}
            )
        return self


def _ci_form(value: Any) -> str:
    return "settings" if isinstance(value, dict | CiSettings) else "system"


Ci = Annotated[
    Annotated[CiSystem, Tag("system")] | Annotated[CiSettings, Tag("settings")],
    Discriminator(_ci_form),
]


def ci_settings(value: CiSystem | CiSettings) -> CiSettings:
    """The mapping form of ``spec.ci`` whichever form was written."""
    return value if isinstance(value, CiSettings) else CiSettings(system=value)
