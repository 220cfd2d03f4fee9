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
        default=None,
        description="Free text, in the annotation `mlgitops.dev/description`: a model's on its "
        "objects, the project's on its GitOps objects (Argo CD Applications or ApplicationSet, "
        "Flux GitRepositories and Kustomizations).",
    )
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict, description="Kubernetes labels added to every generated object."
    )


ResourceMap = dict[LabelKey, Quantity | None]


class Resources(SpecModel):
    """Compute resources, in the shorthand (`cpu`, `memory`, `gpu`: requests, with limits equal
    to them) or Kubernetes' own form (`requests` and `limits` by any resource name, e.g.
    `ephemeral-storage` or `nvidia.com/gpu`), or both (the native entry wins for a name).

    Every limit defaults to its request. An explicit `null` on a key removes what a lower layer
    (or mlgitops' default) set, and the key is omitted from the generated objects, so the
    platform decides (the namespace's LimitRange, or no request or limit at all): `limits:
    {cpu: null}` keeps a CPU request without a limit, `requests: null` with `limits` writes
    limits only (which Kubernetes also takes as the requests).
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
    requests: ResourceMap | None = Field(
        default=None,
        description='Container `resources.requests` by resource name, e.g. `{cpu: "1", '
        "ephemeral-storage: 10Gi}`; merged over the shorthand. `null`: no requests at all (the "
        "shorthand's and mlgitops' default too).",
    )
    limits: ResourceMap | None = Field(
        default=None,
        description="Container `resources.limits` by resource name, when they differ from the "
        "requests (each defaults to its request); `null` on a name: no limit for it.",
    )


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
