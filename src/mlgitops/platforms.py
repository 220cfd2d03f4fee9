"""What the serving platforms can honour: facts that validation checks and the serving targets
render by, kept in one place so the two cannot disagree.

* Artifact schemes. KServe admits a ``storageUri`` whose prefix is in its webhook's
  ``SupportedStorageURIPrefixList`` (gs, s3, pvc, file, http(s), hdfs, webhdfs, oci, hf; Azure
  Blob and File shares are https URLs): its storage initializer fetches most of them, the
  controller mounts ``pvc://`` claims and runs ``oci://`` images as modelcars.  ``file://`` names
  a path inside the pod, which no artifact store is, so it is left out.  The plain
  ``kubernetes`` target runs that same storage initializer as an init container on its own
  (``targets/serving/runtimes.py``), without KServe's controller: nothing mounts a PVC or pulls a
  modelcar there, so ``pvc://`` and ``oci://`` cannot be fetched.  No initializer understands
  MLflow's ``models:/``/``runs:/`` URIs: point the artifact at the run's storage instead.
  On the ``kubernetes`` target a ``pvc://claim/path`` becomes what KServe makes of it, the claim
  mounted read-only at the model directory with ``path`` as its sub-path; an ``oci://`` modelcar
  has no honest rendering there (an image volume needs Kubernetes 1.31+ and its ImageVolume
  feature gate), so it stays refused.
* Models without an artifact. Hugging Face's server and the runtimes a project declares can
  fetch the model themselves, from an argument naming it (``--model_id``, vLLM's ``--model``);
  with such an argument the artifact may be left out.  Nothing would fetch a model anywhere else.
* KServe annotations (``serving.kserve.io/*``). The spec decides the deployment mode and the
  autoscaler class; a user's own annotation is written as it is, and must agree with them.
* Triton. ``triton`` and ``onnx`` (KServe serves ONNX with its Triton runtime; the plain
  target runs Triton for it) export Prometheus metrics on their own port, 8002.
"""

from __future__ import annotations

from mlgitops import __version__

# Scheme → what fetches it, per serving target.
ARTIFACT_SCHEMES: dict[str, tuple[str, ...]] = {
    "kserve": ("gs", "s3", "pvc", "hdfs", "webhdfs", "http", "https", "hf", "oci"),
    "kubernetes": ("gs", "s3", "hdfs", "webhdfs", "http", "https", "hf", "pvc"),
}
# The flags by which a model server fetches its model itself, as ``--flag=value`` or ``--flag value``.
MODEL_SOURCE_FLAGS = frozenset({"--model_id", "--model-id", "--model"})
SELF_FETCHING_RUNTIMES = frozenset({"huggingface"})  # and every runtime of spec.runtimes


def names_model_source(args: object) -> bool:
    """Whether container ``args`` tell the model server which model to fetch."""
    if not isinstance(args, list | tuple):
        return False
    return any(isinstance(a, str) and a.split("=", 1)[0] in MODEL_SOURCE_FLAGS for a in args)


def pvc_source(uri: str) -> tuple[str, str]:
    """``pvc://claim/sub/path`` → (claim, sub-path, "" for the whole claim), as KServe parses it."""
    claim, _, path = uri.split("://", 1)[1].partition("/")
    return claim, path.strip("/")


KSERVE_PREFIX = "serving.kserve.io/"
DEPLOYMENT_MODE = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"
# Spec deployment mode → the annotation values meaning it; the first is what mlgitops writes.
# KServe reads RawDeployment, the name before 0.15, as Standard.
DEPLOYMENT_MODES: dict[str, tuple[str, ...]] = {
    "serverless": ("Serverless",),
    "standard": ("Standard", "RawDeployment"),
}
# Metrics that KServe's HPA (Resource metrics) and KEDA scale on in standard mode.
RESOURCE_METRICS = frozenset({"cpu", "memory"})

TRITON_RUNTIMES = frozenset({"triton", "onnx"})
TRITON_METRICS_PORT = 8002
# The port KServe's model servers (and a custom container without ports) serve on.
KSERVE_DEFAULT_PORT = 8080


def artifact_scheme(uri: str) -> str:
    """The scheme of an artifact URI (placeholders need not be filled in)."""
    return uri.split("://", 1)[0].lower() if "://" in uri else uri.split(":", 1)[0].lower()


# Artifact stores a CI system's register job can upload a trained model to, by URI scheme
# (targets/ci/stores.py writes the upload script; validate refuses the others, MLG350). GitLab
# jobs run in a plain Python image: no ORAS there (no pinned installer we could vouch for), so
# oci:// is refused on GitLab.
CI_UPLOAD_SCHEMES: dict[str, frozenset[str]] = {
    "github": frozenset({"s3", "gs", "gcs", "az", "abfs", "abfss", "oci", "hf"}),
    "gitlab": frozenset({"s3", "gs", "gcs", "az", "abfs", "abfss", "hf"}),
}


def store_scheme(uri: str | None) -> str:
    """The scheme of an artifact store URI, "" when it has none."""
    return uri.split("://", 1)[0].lower() if uri and "://" in uri else ""


def autoscaler_classes(mode: str, metric: str) -> tuple[str, ...]:
    """The ``serving.kserve.io/autoscalerClass`` values that scale on ``metric`` in ``mode``
    (none: the annotation must be left out).

    Serverless: Knative's KPA scales on concurrency and rps (no class); KServe switches the
    revision to Knative's HPA class for cpu and memory.  Standard: KServe's HPA scales on
    cpu and memory, KEDA on those and on a Prometheus query (a custom metric).
    """
    if mode == "serverless":
        return ("hpa",) if metric in RESOURCE_METRICS else ()
    if metric in RESOURCE_METRICS:
        return ("hpa", "keda")
    return ("keda",)


def default_autoscaler_class(mode: str, metric: str | None) -> str | None:
    """The class mlgitops writes when the user sets none: only standard mode names one, and
    none when a null left the metric to KServe."""
    if mode != "standard" or metric is None:
        return None
    return "hpa" if metric in RESOURCE_METRICS else "keda"


def uses_keda(mode: str, metric: str | None, annotations: dict[str, str]) -> bool:
    """Whether KServe scales this predictor with KEDA (``spec.predictor.autoScaling``) rather
    than with ``scaleMetric``/``scaleTarget``."""
    if mode != "standard":
        return False
    return annotations.get(AUTOSCALER_CLASS, default_autoscaler_class(mode, metric)) == "keda"


# The drift checker this repository ships (drift/, published by .github/workflows/drift-image.yml)
# is the drift CronJob's default image.  Its digest is only known once it is published, after this
# version was released, so the default is the version's tag; validate warns (MLG405) where the
# policy forbids mutable images, and docs/drift.md says how to pin the digest.
DRIFT_IMAGE_REPOSITORY = "ghcr.io/mlgitops/mlgitops-drift"
DEFAULT_DRIFT_IMAGE = f"{DRIFT_IMAGE_REPOSITORY}:{__version__}"
