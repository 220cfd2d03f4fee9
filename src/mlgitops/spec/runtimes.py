"""Serving runtimes declared as data (`spec.runtimes` of the project): KServe `ServingRuntime`
and `ClusterServingRuntime` objects a model's `serving.runtime` may name, beside the built-in
runtimes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from mlgitops.spec.base import SpecModel
from mlgitops.spec.common import Resources
from mlgitops.spec.types import DnsLabel, Image, LabelKey, NonEmptyText, Text

# The model servers mlgitops knows without a declaration (spec.serving.runtime).
BUILTIN_RUNTIMES = (
    "sklearn",
    "xgboost",
    "lightgbm",
    "pytorch",
    "tensorflow",
    "onnx",
    "triton",
    "huggingface",
    "custom",
)

# The Go template placeholders KServe fills in a runtime's args from the InferenceService.
NAME_PLACEHOLDER = "{{.Name}}"
NAMESPACE_PLACEHOLDER = "{{.Namespace}}"


class ModelFormat(SpecModel):
    """A model format the runtime serves (`spec.supportedModelFormats[]`)."""

    name: NonEmptyText = Field(description="Format name (`name`), e.g. `sklearn`, `onnx`, `vllm`.")
    version: NonEmptyText | None = Field(
        default=None,
        description='Format version (`version`): "major", "major.minor" or "major.minor.patch".',
    )
    auto_select: bool | None = Field(
        default=None,
        description="`autoSelect`: KServe may pick this runtime for an InferenceService that names "
        "the format but no runtime.",
    )
    priority: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None, description="`priority` among the runtimes auto-selected for the format."
    )


class ServingRuntimeSpec(SpecModel):
    """A KServe serving runtime. On KServe it is rendered as a `ServingRuntime` in each
    environment's namespace, or as one `ClusterServingRuntime` per cluster; a model naming it
    gets `predictor.model.runtime` and the runtime's first format as `modelFormat`. On the
    plain `kubernetes` target a model naming it runs the runtime's container (`image`, `args`
    with `{{.Name}}`/`{{.Namespace}}` filled in as KServe does, `port`); the KServe-only fields
    are refused there."""

    name: DnsLabel = Field(
        description="Runtime name (`metadata.name`), what `serving.runtime` names; not a built-in "
        "runtime's name."
    )
    kind: Literal["ServingRuntime", "ClusterServingRuntime"] = Field(
        default="ServingRuntime",
        description="`ServingRuntime` (namespaced: one per environment, in its namespace) or "
        "`ClusterServingRuntime` (cluster-scoped: one per cluster, listed by the first environment "
        "deployed there). KServe only.",
    )
    image: Image = Field(
        description="Model server image (`spec.containers[0].image`); a digest is allowed, and "
        "`policies.forbidMutableImageTags` applies."
    )
    args: list[Text] | None = Field(
        default=None,
        description="Container `args`. KServe's placeholders (`{{.Name}}`, the InferenceService "
        "name) are written literally for KServe to fill in.",
        max_length=64,
    )
    port: Annotated[int, Field(ge=1, le=65535)] = Field(
        default=8080, description="Port the model server listens on (`containers[0].ports[0]`)."
    )
    protocol_versions: list[Literal["v1", "v2", "grpc-v1", "grpc-v2"]] | None = Field(
        default=None,
        description="Inference protocols served (`spec.protocolVersions`); a model's `protocol` "
        "must be one of them. KServe only.",
        max_length=4,
    )
    supported_model_formats: list[ModelFormat] | None = Field(
        default=None,
        description="Model formats served (`spec.supportedModelFormats`); the first is the "
        "`modelFormat` of the models naming this runtime. Required on KServe, KServe only.",
        max_length=32,
    )
    annotations: dict[LabelKey, Text] | None = Field(
        default=None,
        description="Annotations KServe puts on the runtime's pods (`spec.annotations`), e.g. "
        "`prometheus.kserve.io/port`. KServe only.",
    )
    resources: Resources | None = Field(
        default=None,
        description="The container's `resources`, below the predictor's own (KServe merges them). "
        "KServe only.",
    )
