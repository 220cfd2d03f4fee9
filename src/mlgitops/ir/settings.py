"""The IR of a project's settings: its declared runtimes, traffic router and CI settings."""

from __future__ import annotations

from mlgitops import ir
from mlgitops.ir.convert import resources_from_tree
from mlgitops.spec.ci import CiSettings as CiSpec
from mlgitops.spec.ci_install import MlgitopsInstall
from mlgitops.spec.project import Traffic
from mlgitops.spec.runtimes import ServingRuntimeSpec


def runtime(spec: ServingRuntimeSpec) -> ir.ServingRuntime:
    return ir.ServingRuntime(
        name=spec.name,
        kind=spec.kind,
        image=spec.image,
        args=tuple(spec.args or ()),
        port=spec.port,
        protocol_versions=tuple(spec.protocol_versions or ()),
        model_formats=tuple(
            ir.ModelFormat(f.name, f.version, f.auto_select, f.priority)
            for f in spec.supported_model_formats or ()
        ),
        annotations=tuple(sorted((spec.annotations or {}).items())),
        resources=resources_from_tree(spec.resources.model_dump(by_alias=True, exclude_none=True))
        if spec.resources
        else None,
    )


def traffic(traffic: Traffic | None) -> ir.Traffic | None:
    if traffic is None:
        return None
    gateway = traffic.gateway
    return ir.Traffic(
        traffic.router, gateway.name if gateway else None, gateway.namespace if gateway else None
    )


def ci_settings(spec: CiSpec) -> ir.types.CiSettings:
    cloud = spec.cloud
    aws = cloud.aws if cloud else None
    gcp = cloud.gcp if cloud else None
    azure = cloud.azure if cloud else None
    token = spec.github.token if spec.github else None
    return ir.types.CiSettings(
        aws=ir.types.AwsLogin(aws.role_arn, aws.region) if aws else None,
        gcp=ir.types.GcpLogin(gcp.workload_identity_provider, gcp.service_account) if gcp else None,
        azure=(
            ir.types.AzureLogin(
                azure.client_id_var,
                azure.tenant_id_var,
                azure.subscription_id_var,
                azure.storage_account_var or "AZURE_STORAGE_ACCOUNT",
            )
            if azure
            else None
        ),
        github_app=(token.app.id_var, token.app.key_secret) if token and token.app else None,
        github_token_secret=token.secret if token else None,
        gitlab_token_var=spec.gitlab.token_var if spec.gitlab else "MLGITOPS_GITLAB_TOKEN",
        tests=tuple(ir.types.CiTest(t.name, t.image, tuple(t.command), tuple(t.paths)) for t in spec.tests),
    )


def ci_install(install: MlgitopsInstall | None) -> ir.types.CiInstall | None:
    if install is None:
        return None
    return ir.types.CiInstall(
        install.requirements or "", install.git or "", install.commit or "", install.image or ""
    )
