"""Pod knobs and Kubernetes-native resources reach the objects of both serving targets, in the
fields the docs name (issue 11), and the objects stay valid (vendored schemas, kubernetes-validate
strict, through test_serving_fidelity's compile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from test_serving_fidelity import SKLEARN, _codes, _compile, _project

KNOBS: dict[str, Any] = {
    "probes": {
        "startup": {"failureThreshold": 90, "initialDelaySeconds": 5},
        "readiness": {"path": "/ready", "periodSeconds": 3},
        "liveness": None,
    },
    "sharedMemory": "2Gi",
    "priorityClassName": "ml-serving.high",
    "resources": {
        "requests": {"cpu": "2", "ephemeral-storage": "10Gi"},
        "limits": {"nvidia.com/gpu": 1, "memory": "8Gi"},
    },
}


def _pod_and_container(objects: dict[str, Any], target: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if target == "kserve":
        predictor = objects["InferenceService/iris"]["spec"]["predictor"]
        return predictor, predictor["model"]
    pod = objects["Deployment/iris"]["spec"]["template"]["spec"]
    return pod, pod["containers"][0]


def _standard(target: str) -> dict[str, str]:
    """KServe's standard mode (what the knobs need there); the kubernetes target has no modes."""
    return {"deploymentMode": "standard"} if target == "kserve" else {}


@pytest.mark.parametrize("target", ["kserve", "kubernetes"])
def test_pod_knobs_reach_the_pod(tmp_path: Path, target: str) -> None:
    serving = {**SKLEARN, **KNOBS, **_standard(target), "rollout": {"maxSurge": "50%"}}
    objects, _ = _compile(_project(tmp_path, target, serving))
    pod, container = _pod_and_container(objects, target)
    assert pod["priorityClassName"] == "ml-serving.high"
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2Gi"}} in pod["volumes"]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"]
    assert container["resources"] == {
        # the shorthand default memory request stays beside the native entries; limits default
        # to the requests for each name, written limits win
        "requests": {"cpu": "2", "memory": "1Gi", "ephemeral-storage": "10Gi"},
        "limits": {"cpu": "2", "memory": "8Gi", "ephemeral-storage": "10Gi", "nvidia.com/gpu": "1"},
    }
    assert "livenessProbe" not in container  # an explicit null: no probe
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["readinessProbe"]["periodSeconds"] == 3
    assert container["startupProbe"]["failureThreshold"] == 90
    assert container["startupProbe"]["initialDelaySeconds"] == 5
    if target == "kserve":  # KServe's own default for what the spec did not write
        assert pod["deploymentStrategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "50%"}}
    else:  # mlgitops' maxUnavailable 0 stays under the written maxSurge
        rolling = {"maxSurge": "50%", "maxUnavailable": 0}
        assert objects["Deployment/iris"]["spec"]["strategy"] == {
            "type": "RollingUpdate",
            "rollingUpdate": rolling,
        }


def test_limits_only(tmp_path: Path) -> None:
    """requests: null leaves only the limits (Kubernetes takes them as the requests)."""
    serving = {**SKLEARN, "resources": {"requests": None, "limits": {"cpu": "1", "memory": "2Gi"}}}
    objects, _ = _compile(_project(tmp_path, "kubernetes", serving))
    _, container = _pod_and_container(objects, "kubernetes")
    assert container["resources"] == {"limits": {"cpu": "1", "memory": "2Gi"}}


def test_kubernetes_keeps_its_rollout_default_and_null_leaves_kubernetes_own(tmp_path: Path) -> None:
    objects, _ = _compile(_project(tmp_path / "a", "kubernetes", dict(SKLEARN)))
    rolling = {"maxSurge": 1, "maxUnavailable": 0}
    assert objects["Deployment/iris"]["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": rolling,
    }
    objects, _ = _compile(_project(tmp_path / "b", "kubernetes", {**SKLEARN, "rollout": None}))
    assert objects["Deployment/iris"]["spec"]["strategy"] == {"type": "RollingUpdate"}


VOLUMES = [
    {"name": "models", "mountPath": "/models", "persistentVolumeClaim": "model-store"},
    {"name": "config", "mountPath": "/etc/app", "configMap": "app-config"},
    {"name": "creds", "mountPath": "/var/run/creds", "secret": "app-creds"},
]


@pytest.mark.parametrize("target", ["kserve", "kubernetes"])
def test_ports_and_volumes_reach_the_pod(tmp_path: Path, target: str) -> None:
    serving = {
        **SKLEARN,
        **_standard(target),
        "ports": [{"name": "grpc", "port": 8001}],
        "volumes": VOLUMES,
    }
    objects, _ = _compile(_project(tmp_path, target, serving))
    pod, container = _pod_and_container(objects, target)
    assert {"name": "grpc", "containerPort": 8001, "protocol": "TCP"} in container["ports"]
    assert {"name": "models", "persistentVolumeClaim": {"claimName": "model-store", "readOnly": True}} in pod[
        "volumes"
    ]
    assert {"name": "config", "configMap": {"name": "app-config"}} in pod["volumes"]
    assert {"name": "creds", "secret": {"secretName": "app-creds"}} in pod["volumes"]
    assert {"name": "models", "mountPath": "/models", "readOnly": True} in container["volumeMounts"]


def test_the_plain_service_takes_its_name_and_port(tmp_path: Path) -> None:
    serving = {**SKLEARN, "service": {"name": "iris-api", "port": 8080}}
    objects, _ = _compile(_project(tmp_path, "kubernetes", serving))
    assert objects["Service/iris-api"]["spec"]["ports"][0]["port"] == 8080


def test_an_nfs_volume_is_a_relaxation(tmp_path: Path) -> None:
    """Pod Security "restricted" allows no NFS volume: validate lists it (MLG337)."""
    nfs = {"name": "models", "mountPath": "/models", "nfs": {"server": "10.0.0.5", "path": "/exports/models"}}
    root = _project(tmp_path, "kubernetes", {**SKLEARN, "volumes": [nfs]})
    objects, _ = _compile(root)
    pod, _ = _pod_and_container(objects, "kubernetes")
    assert {
        "name": "models",
        "nfs": {"server": "10.0.0.5", "path": "/exports/models", "readOnly": True},
    } in pod["volumes"]
    assert "MLG337" in _codes(root)


AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["A100"]}
                    ]
                }
            ]
        }
    },
    "podAntiAffinity": {
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {
                "weight": 100,
                "podAffinityTerm": {
                    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "iris"}},
                    "topologyKey": "kubernetes.io/hostname",
                },
            }
        ]
    },
}
SPREAD = [
    {
        "maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "iris"}},
    }
]


@pytest.mark.parametrize("target", ["kserve", "kubernetes"])
def test_affinity_and_spread_pass_through(tmp_path: Path, target: str) -> None:
    serving = {**SKLEARN, "affinity": AFFINITY, "topologySpreadConstraints": SPREAD}
    objects, _ = _compile(_project(tmp_path, target, serving))
    pod, _ = _pod_and_container(objects, target)
    assert pod["affinity"] == AFFINITY
    assert pod["topologySpreadConstraints"] == SPREAD


def test_affinity_is_checked_as_kubernetes_defines_it(tmp_path: Path) -> None:
    wrong = {"nodeAffinity": {"requiredDuringScheduling": {}}}
    root = _project(tmp_path, "kubernetes", {**SKLEARN, "affinity": wrong})
    assert "MLG201" in _codes(root)  # an unknown field, as the API server would refuse it


@pytest.mark.parametrize("path", ["/stats", "/metrics"])
@pytest.mark.parametrize("target", ["kserve", "kubernetes"])
def test_the_monitor_scrapes_the_port_and_path_written(tmp_path: Path, target: str, path: str) -> None:
    """The path written is written even where it is Prometheus' default, which mlgitops leaves
    out when it chooses the path itself."""
    serving = {**SKLEARN, **_standard(target), "ports": [{"name": "stats", "port": 9100}]}
    monitoring = {"scrape": {"port": "stats", "path": path}}
    objects, _ = _compile(_project(tmp_path, target, serving, monitoring))
    if target == "kserve":
        endpoints = objects["PodMonitor/iris"]["spec"]["podMetricsEndpoints"]
    else:
        endpoints = objects["ServiceMonitor/iris"]["spec"]["endpoints"]
        service_ports = objects["Service/iris"]["spec"]["ports"]
        assert {"name": "stats", "port": 9100, "targetPort": "stats", "protocol": "TCP"} in service_ports
    assert [{k: v for k, v in e.items() if k != "relabelings"} for e in endpoints] == [
        {"port": "stats", "path": path}
    ]
