"""Spec pieces shared by projects and models: metadata, env, resources, secrets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from mlgitops.spec.base import SpecModel
from mlgitops.spec.types import (
    DnsLabel,
    EnvLiteral,
    EnvName,
    LabelKey,
    LabelValue,
    NonEmptyText,
    Quantity,
    Text,
)


class KubernetesSecretKey(SpecModel):
    """A key of a Kubernetes Secret in the deployment's namespace."""

    name: DnsLabel = Field(description="Name of the Kubernetes Secret.")
    key: NonEmptyText = Field(description="Key inside the Secret.")


class SecretSource(SpecModel):
    """Where a secret comes from. Secrets are always references, never values.

    Exactly one of `fromSecret` (a Kubernetes Secret, for things that run in
    the cluster) and `fromCiSecret` (a CI secret or variable name, for
    things that run in CI) is set.
    """

    from_secret: KubernetesSecretKey | None = Field(
        default=None, description="Read the value from a key of a Kubernetes Secret."
    )
    from_ci_secret: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = Field(
        default=None, description="Read the value from the CI system's secret of this name."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretSource:
        if (self.from_secret is None) == (self.from_ci_secret is None):
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError("MLG206", "set exactly one of fromSecret and fromCiSecret", {})
        return self


def _env_kind(value: Any) -> str:
    return "ref" if isinstance(value, dict) else "literal"


EnvValue = Annotated[
    Annotated[EnvLiteral, Tag("literal")] | Annotated[SecretSource, Tag("ref")],
    Discriminator(_env_kind),
]
EnvMap = dict[EnvName, EnvValue]


class Metadata(SpecModel):
    """Identity of a project or model."""

    name: DnsLabel = Field(description="Name; becomes part of Kubernetes object names, so a DNS-1123 label.")
    description: Text | None = Field(
        default=None, description="Free text shown in generated annotations and docs."
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Kubernetes labels added to every generated object."
    )


class Limits(SpecModel):
    """Resource limits when they differ from the requests."""

    cpu: Quantity | None = Field(
        default=None, description="CPU limit, e.g. `2` or `1500m`; default the request, `null`: none."
    )
    memory: Quantity | None = Field(
        default=None, description="Memory limit, e.g. `4Gi`; default the request, `null`: none."
    )


class Resources(SpecModel):
    """Compute resources. `cpu` and `memory` are requests; limits default to the requests.

    An explicit `null` on a key removes what a lower layer (or mlgitops' default) set,
    and the key is omitted from the generated objects, so the platform decides (the
    namespace's LimitRange, or no request or limit at all).
    """

    cpu: Quantity | None = Field(default=None, description="CPU request, e.g. `500m` or `2`.")
    memory: Quantity | None = Field(default=None, description="Memory request, e.g. `1Gi`.")
    gpu: Annotated[int, Field(ge=0, le=64)] | None = Field(
        default=None, description="Number of GPUs (request and limit)."
    )
    gpu_resource: Annotated[str, Field(pattern=r"^[a-z0-9.-]+/[a-z0-9.-]+$")] | None = Field(
        default=None,
        description="Extended resource name of the GPU; default `nvidia.com/gpu`. `null` with GPUs "
        "requested is an error on serving (Kubernetes has no default name).",
    )
    limits: Limits | None = Field(default=None, description="Limits, when they differ from the requests.")


class Toleration(SpecModel):
    """A Kubernetes toleration."""

    key: Text | None = Field(default=None, description="Taint key; empty with `Exists` tolerates everything.")
    operator: Literal["Exists", "Equal"] = Field(default="Equal", description="`Equal` or `Exists`.")
    value: Text | None = Field(default=None, description="Taint value, with `Equal`.")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="Taint effect to tolerate; all effects when unset."
    )
    toleration_seconds: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="How long a `NoExecute` taint is tolerated."
    )
