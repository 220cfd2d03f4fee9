"""How each runtime runs as a plain Kubernetes container (the ``kubernetes`` target).

KServe knows its runtimes; without KServe we name the model-server image,
its arguments and its health endpoints ourselves.  Images are the upstream
servers KServe itself uses, pinned to release tags.  The artifact is copied
to ``/mnt/models`` by KServe's storage-initializer as an init container.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlgitops import ir

MODEL_DIR = "/mnt/models"
STORAGE_INITIALIZER = "kserve/storage-initializer:v0.16.0"


@dataclass(frozen=True, slots=True)
class Runtime:
    image: str
    args: tuple[str, ...]  # {model}, {port} and {model_dir} are filled in
    ready_path: str | None  # HTTP readiness path; None: TCP probe
    live_path: str | None


_KSERVE_ARGS = ("--model_name={model}", "--model_dir={model_dir}", "--http_port={port}")
RUNTIMES: dict[str, Runtime] = {
    "sklearn": Runtime("kserve/sklearnserver:v0.16.0", _KSERVE_ARGS, "/v1/models/{model}", "/"),
    "xgboost": Runtime("kserve/xgbserver:v0.16.0", _KSERVE_ARGS, "/v1/models/{model}", "/"),
    "lightgbm": Runtime("kserve/lgbserver:v0.16.0", _KSERVE_ARGS, "/v1/models/{model}", "/"),
    "huggingface": Runtime("kserve/huggingfaceserver:v0.16.0", _KSERVE_ARGS, "/v1/models/{model}", "/"),
    "pytorch": Runtime(
        "pytorch/torchserve-kfs:0.9.0",
        (
            "torchserve",
            "--start",
            "--model-store={model_dir}/model-store",
            "--ts-config={model_dir}/config/config.properties",
        ),
        "/v1/models/{model}",
        "/v1/models/{model}",
    ),
    "tensorflow": Runtime(
        "tensorflow/serving:2.6.2",
        ("--rest_api_port={port}", "--model_name={model}", "--model_base_path={model_dir}"),
        "/v1/models/{model}",
        "/v1/models/{model}",
    ),
    "onnx": Runtime(
        "nvcr.io/nvidia/tritonserver:23.05-py3",
        ("tritonserver", "--model-store={model_dir}", "--http-port={port}", "--allow-grpc=false"),
        "/v2/health/ready",
        "/v2/health/live",
    ),
    "triton": Runtime(
        "nvcr.io/nvidia/tritonserver:23.05-py3",
        ("tritonserver", "--model-store={model_dir}", "--http-port={port}", "--allow-grpc=false"),
        "/v2/health/ready",
        "/v2/health/live",
    ),
    "custom": Runtime("", (), None, None),
}


def fill(text: str, model: str, port: int) -> str:
    return text.replace("{model}", model).replace("{port}", str(port)).replace("{model_dir}", MODEL_DIR)


def declared(runtime: ir.ServingRuntime, model: str, namespace: str) -> Runtime:
    """A runtime of ``spec.runtimes`` as KServe would run it for an InferenceService named after
    the model: its image, its args with ``{{.Name}}`` and ``{{.Namespace}}`` filled in (validate
    refuses any other placeholder on this target, MLG382), a TCP probe (its health endpoints are
    not known)."""
    args = tuple(a.replace("{{.Name}}", model).replace("{{.Namespace}}", namespace) for a in runtime.args)
    return Runtime(runtime.image, args, None, None)
