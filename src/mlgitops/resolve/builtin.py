"""mlgitops' own defaults: the lowest layer of resolution.

They depend on the serving target, the runtime and the KServe deployment
mode, because what is sensible differs (Triton speaks only the v2 protocol,
Kubernetes HPAs cannot scale on request concurrency).
"""

from __future__ import annotations

import functools

from mlgitops.spec.serving import ServingSpec


@functools.cache
def builtin_serving(
    target: str, runtime: object, mode: object, protocol: str | None = None, port: int = 8080
) -> ServingSpec:
    """Pure function of its arguments, so memoized (a few dozen combinations at most).
    ``protocol`` and ``port``: a declared runtime's first protocol and its port."""
    request_driven = target == "kserve" and mode != "standard"
    # A Deployment rolls out one new pod at a time and keeps every old one until it is ready;
    # KServe's own defaults apply there unless the spec writes a rollout.
    rollout = {"rollout": {"maxSurge": 1, "maxUnavailable": 0}} if target == "kubernetes" else {}
    return ServingSpec.model_validate(
        {
            **rollout,
            "protocol": protocol or ("v2" if runtime == "triton" else "v1"),
            "port": port,
            "deploymentMode": "serverless",
            "resources": {"cpu": "500m", "memory": "1Gi"},
            "autoscaling": {
                "minReplicas": 1,
                "maxReplicas": 3,
                "scaleToZero": False,
                "metric": "concurrency" if request_driven else "cpu",
                "target": 10 if request_driven else 80,
            },
        }
    )
