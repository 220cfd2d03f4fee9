"""Cloud login and tokens as data the CI templates render: GitHub steps (official actions pinned
by commit SHA), GitLab ID tokens, variables and script lines.

A login is added only where the model's artifact store needs it (``s3://`` → AWS, ``gs://`` →
Google Cloud, ``az://``/``abfss://`` → Azure) and the project names that cloud in
``spec.ci.cloud``; only that job gets ``id-token: write``. Values reach the output as spec
values (validated by patterns) or as references to CI variables and secrets whose names are
validated identifiers.
"""

from __future__ import annotations

from typing import Any

from mlgitops import ir, platforms
from mlgitops.render.engine import Trusted
from mlgitops.targets.ci import stores

# action → (full commit SHA, release): reviewed by hand when bumped.
ACTIONS = {
    "aws-actions/configure-aws-credentials": ("e3dd6a429d7300a6a4c196c26e071d42e0343502", "v4.0.2"),
    "google-github-actions/auth": ("7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "azure/login": ("a457da9ea143d694b1b9c7c869ebb04ebe844ef5", "v2.3.0"),
    # Installs its default ORAS release and checks it against the checksum it carries.
    "oras-project/setup-oras": ("38de303aac69abb66f3e6255b7198bff35f323e3", "v2.0.0"),
    "actions/create-github-app-token": ("bcd2ba49218906704ab6c1aa796996da409d3eb1", "v3.2.0"),
}


def _uses(action: str) -> str:
    return f"{action}@{ACTIONS[action][0]}"


def _var(name: str) -> Trusted:
    return Trusted("${{ vars.%s }}" % name)  # noqa: UP031 - braces of the expression syntax


def _secret(name: str) -> Trusted:
    return Trusted("${{ secrets.%s }}" % name)  # noqa: UP031 - braces of the expression syntax


def github_login_steps(settings: ir.types.CiSettings, uri: str | None) -> list[dict[str, Any]]:
    """Steps before the upload: the cloud login the artifact's scheme needs, or ORAS."""
    kind = platforms.store_scheme(uri)
    steps: list[dict[str, Any]] = []
    if kind in stores.AWS_SCHEMES and settings.aws:
        steps.append(
            {
                "name": "Log in to AWS",
                "uses": _uses("aws-actions/configure-aws-credentials"),
                "with": {"role-to-assume": settings.aws.role_arn, "aws-region": settings.aws.region},
            }
        )
    if kind in stores.GCP_SCHEMES and settings.gcp:
        steps.append(
            {
                "name": "Log in to Google Cloud",
                "uses": _uses("google-github-actions/auth"),
                "with": {
                    "workload_identity_provider": settings.gcp.workload_identity_provider,
                    "service_account": settings.gcp.service_account,
                },
            }
        )
    if kind in stores.AZURE_SCHEMES and settings.azure:
        steps.append(
            {
                "name": "Log in to Azure",
                "uses": _uses("azure/login"),
                "with": {
                    "client-id": _var(settings.azure.client_id_var),
                    "tenant-id": _var(settings.azure.tenant_id_var),
                    "subscription-id": _var(settings.azure.subscription_id_var),
                },
            }
        )
    if kind == "oci":
        steps.append({"name": "Set up ORAS", "uses": _uses("oras-project/setup-oras")})
    return steps


# The reusable training workflow tells a model's store by its artifact's scheme (startsWith is
# case-insensitive, as the schemes are).
_SCHEME_TESTS = {
    "aws": stores.AWS_SCHEMES,
    "gcp": stores.GCP_SCHEMES,
    "azure": stores.AZURE_SCHEMES,
    "oras": frozenset({"oci"}),
}
_LOGIN_STEP_NAMES = {
    "Log in to AWS": "aws",
    "Log in to Google Cloud": "gcp",
    "Log in to Azure": "azure",
    "Set up ORAS": "oras",
}


def _scheme_condition(schemes: frozenset[str]) -> Trusted:
    tests = " || ".join(f"startsWith(inputs.artifact, '{s}://')" for s in sorted(schemes))
    return Trusted("${{ !inputs.in-cluster && (%s) }}" % tests)  # noqa: UP031 - expression braces


def github_reusable_login_steps(settings: ir.types.CiSettings) -> list[dict[str, Any]]:
    """The login steps of the reusable training workflow, written once for every model: each
    cloud the project names, run only for a model whose artifact is in that cloud's store."""
    samples = {"aws": "s3://x", "gcp": "gs://x", "azure": "az://x", "oras": "oci://x"}
    steps: list[dict[str, Any]] = []
    for kind, uri in samples.items():
        for step in github_login_steps(settings, uri):
            if _LOGIN_STEP_NAMES[step["name"]] == kind:
                steps.append({"name": step["name"], "if": _scheme_condition(_SCHEME_TESTS[kind]), **step})
    return steps


def github_reusable_upload_env(settings: ir.types.CiSettings) -> dict[str, Any]:
    """The upload step's store variables in the reusable workflow: the store's credentials come
    from a secret every caller may pass (STORE_CREDENTIALS_SECRET)."""
    env: dict[str, Any] = {
        "REGISTRY_CREDENTIALS": _secret(STORE_CREDENTIALS_SECRET),
        "REGISTRY_USERNAME": Trusted("${{ github.actor }}"),
    }
    if settings.azure:
        env["AZURE_STORAGE_ACCOUNT"] = _var(settings.azure.storage_account_var)
    return env


def store_secret(registry: ir.Registry) -> str | None:
    """The secret holding an artifact registry's store credentials (the upload script reads it as
    REGISTRY_CREDENTIALS; on GitHub a caller passes it as STORE_CREDENTIALS_SECRET)."""
    if registry.kind == "artifact" and registry.credentials is not None and registry.credentials.ci_secret:
        return registry.credentials.ci_secret
    return None


def github_pr_token_secret(settings: ir.types.CiSettings) -> str | None:
    """The secret the promotion's token step reads (passed down to the called workflows)."""
    if settings.github_app is not None:
        return settings.github_app[1]
    return settings.github_token_secret


STORE_CREDENTIALS_SECRET = "MLGITOPS_STORE_CREDENTIALS"


def github_needs_id_token(settings: ir.types.CiSettings, uri: str | None) -> bool:
    return any("uses" in s and not s["uses"].startswith("oras") for s in github_login_steps(settings, uri))


def github_upload_env(
    settings: ir.types.CiSettings, registry: ir.Registry, uri: str | None
) -> dict[str, Any]:
    """Variables of the upload step beyond the contract's: the store's credentials."""
    env: dict[str, Any] = {}
    if registry.kind == "artifact" and registry.credentials is not None and registry.credentials.ci_secret:
        env["REGISTRY_CREDENTIALS"] = _secret(registry.credentials.ci_secret)
    if platforms.store_scheme(uri) == "az" and settings.azure:
        env["AZURE_STORAGE_ACCOUNT"] = _var(settings.azure.storage_account_var)
    if platforms.store_scheme(uri) == "oci":
        env["REGISTRY_USERNAME"] = Trusted("${{ github.actor }}")
    return env


def github_pr_token(settings: ir.types.CiSettings) -> tuple[list[dict[str, Any]], Trusted]:
    """Steps that obtain the token promotion pull requests are opened with, and the token's
    expression. ``github.token`` (the default) opens pull requests that start no workflow."""
    if settings.github_app is not None:
        id_var, key_secret = settings.github_app
        step = {
            "name": "Get a GitHub App token",
            "id": "app-token",
            "uses": _uses("actions/create-github-app-token"),
            # Only what a promotion needs: push its branch, open its pull request.
            "with": {
                "app-id": _var(id_var),
                "private-key": _secret(key_secret),
                "permission-contents": "write",
                "permission-pull-requests": "write",
            },
        }
        return [step], Trusted("${{ steps.app-token.outputs.token }}")
    if settings.github_token_secret is not None:
        return [], _secret(settings.github_token_secret)
    return [], Trusted("${{ github.token }}")


def gitlab_login(
    settings: ir.types.CiSettings, registry: ir.Registry, uri: str | None
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """The register job's login: script lines, variables and ``id_tokens``."""
    kind = platforms.store_scheme(uri)
    script = ""
    variables: dict[str, Any] = {}
    id_tokens: dict[str, Any] = {}
    if registry.kind == "artifact" and registry.credentials is not None and registry.credentials.ci_secret:
        variables["REGISTRY_CREDENTIALS"] = Trusted("$" + registry.credentials.ci_secret)
    if kind in stores.AWS_SCHEMES and settings.aws:
        name, audience = stores.GITLAB_ID_TOKENS["aws"]
        id_tokens[name] = {"aud": audience}
        variables["AWS_ROLE_ARN"] = settings.aws.role_arn
        variables["AWS_DEFAULT_REGION"] = settings.aws.region
        script += stores.GITLAB_AWS_LOGIN
    if kind in stores.GCP_SCHEMES and settings.gcp:
        provider = settings.gcp.workload_identity_provider
        id_tokens[stores.GCP_ID_TOKEN] = {"aud": "https://iam.googleapis.com/" + provider}
        variables["GCP_WORKLOAD_IDENTITY_PROVIDER"] = provider
        variables["GCP_SERVICE_ACCOUNT"] = settings.gcp.service_account
        script += stores.GITLAB_GCP_LOGIN
    if kind in stores.AZURE_SCHEMES and settings.azure:
        name, audience = stores.GITLAB_ID_TOKENS["azure"]
        id_tokens[name] = {"aud": audience}
        variables["AZURE_CLIENT_ID"] = Trusted("$" + settings.azure.client_id_var)
        variables["AZURE_TENANT_ID"] = Trusted("$" + settings.azure.tenant_id_var)
        variables["AZURE_SUBSCRIPTION_ID"] = Trusted("$" + settings.azure.subscription_id_var)
        if kind == "az":
            variables["AZURE_STORAGE_ACCOUNT"] = Trusted("$" + settings.azure.storage_account_var)
        script += stores.GITLAB_AZURE_LOGIN
    return script, variables, id_tokens


def gitlab_shared_login(settings: ir.types.CiSettings) -> tuple[str, dict[str, Any]]:
    """The hidden register job's login, written once for every model: for each cloud the
    project names, its variables and script lines, run only when the model's artifact
    (``ARTIFACT_TEMPLATE``) is in that cloud's store. The ID tokens are each model's own
    (`gitlab_id_tokens`): a job gets only the token of the cloud it uploads to."""
    samples = {"s3://x": stores.AWS_SCHEMES, "gs://x": stores.GCP_SCHEMES, "az://x": stores.AZURE_SCHEMES}
    script = ""
    variables: dict[str, Any] = {}
    for uri, schemes in samples.items():
        lines, cloud_variables, _tokens = gitlab_login(settings, _NO_CREDENTIALS, uri)
        if not lines:
            continue
        patterns = "|".join(f"{s}://*" for s in sorted(schemes))
        # Not indented: a here-document's terminator must start its line.
        script += f'case "${{ARTIFACT_TEMPLATE:-}}" in\n  {patterns})\n{lines};;\nesac\n'
        variables |= cloud_variables
    return script, variables


def gitlab_id_tokens(settings: ir.types.CiSettings, uri: str | None) -> dict[str, Any]:
    """The ``id_tokens`` of a model's register job: its artifact's cloud's, when the spec names it."""
    return gitlab_login(settings, _NO_CREDENTIALS, uri)[2]


_NO_CREDENTIALS = ir.Registry("mlflow", None, "", None, None, None)
