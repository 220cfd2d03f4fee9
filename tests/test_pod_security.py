"""The "restricted" checker of tests/pod_security.py catches what it must (so the workload test
in test_outputs_valid.py can fail)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

import pod_security

GOOD: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "x"},
    "spec": {
        "template": {
            "spec": {
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "c",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            }
        }
    },
}


def _pod(document: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = document["spec"]["template"]["spec"]
    return pod


def test_a_restricted_pod_passes() -> None:
    assert pod_security.violations(GOOD) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["securityContext"].pop("runAsNonRoot"), "runAsNonRoot is not true"),
        (lambda p: p["securityContext"].pop("seccompProfile"), "no seccompProfile"),
        (lambda p: p["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"), "allowPrivilege"),
        (lambda p: p["containers"][0]["securityContext"]["capabilities"].pop("drop"), "drop ALL"),
        (lambda p: p["containers"][0]["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]), "adds"),
        (lambda p: p["volumes"].append({"name": "n", "nfs": {"server": "s", "path": "/"}}), "not allowed"),
        (lambda p: p["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "hostPath"),
        (lambda p: p.update(hostNetwork=True), "hostNetwork"),
        (lambda p: p["securityContext"].update(runAsUser=0), "runAsUser is 0"),
        (lambda p: p["containers"][0]["securityContext"].update(privileged=True), "privileged"),
        (lambda p: p["containers"][0].update(ports=[{"containerPort": 80, "hostPort": 80}]), "hostPort"),
    ],
)
def test_each_rule_catches_its_violation(change: Any, expected: str) -> None:
    document = copy.deepcopy(GOOD)
    change(_pod(document))
    found = pod_security.violations(document)
    assert any(expected in v for v in found), found


def test_an_inference_service_model_is_a_container() -> None:
    """KServe's predictor.model is checked like any container."""
    isvc = {
        "kind": "InferenceService",
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}}}},
    }
    found = pod_security.violations(isvc)
    assert any("container 'model'" in v for v in found), found
