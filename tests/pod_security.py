"""The Pod Security Standards' "restricted" profile (which includes "baseline"), as checks on a
pod spec, after https://kubernetes.io/docs/concepts/security/pod-security-standards/ (the
policies and their allowed values as of Kubernetes 1.30).

``violations(document)`` lists what each pod template of a workload object breaks; an
InferenceService's predictor and transformer are pod specs (KServe inlines PodSpec), with the
predictor's ``model`` as one more container; a PyTorchJob's replicas, a RayJob's head, worker
groups and submitter, and a TrainJob's runtime patches of its pods are pod templates too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# Baseline: capabilities that may be added; restricted allows NET_BIND_SERVICE only.
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}  # fmt: skip
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
SECCOMP_ALLOWED = {"RuntimeDefault", "Localhost"}
_VOLUME_KEYS = {"name"}
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}


def pod_specs(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], list[dict[str, Any]]]]:
    """(where, pod spec, its containers) of every pod template in ``document``."""
    kind, spec = document.get("kind"), document.get("spec") or {}
    if kind == "Pod":
        yield "spec", spec, _containers(spec)
    elif kind in _WORKLOADS:
        pod = spec["template"]["spec"]
        yield "spec.template.spec", pod, _containers(pod)
    elif kind == "CronJob":
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        yield "spec.jobTemplate.spec.template.spec", pod, _containers(pod)
    elif kind == "PyTorchJob":
        for role, replica in sorted(spec["pytorchReplicaSpecs"].items()):
            pod = replica["template"]["spec"]
            yield f"spec.pytorchReplicaSpecs.{role}.template.spec", pod, _containers(pod)
    elif kind == "RayJob":
        cluster = spec["rayClusterSpec"]
        pod = cluster["headGroupSpec"]["template"]["spec"]
        yield "spec.rayClusterSpec.headGroupSpec.template.spec", pod, _containers(pod)
        for index, group in enumerate(cluster.get("workerGroupSpecs", [])):
            pod = group["template"]["spec"]
            yield f"spec.rayClusterSpec.workerGroupSpecs[{index}].template.spec", pod, _containers(pod)
        if "submitterPodTemplate" in spec:
            pod = spec["submitterPodTemplate"]["spec"]
            yield "spec.submitterPodTemplate.spec", pod, _containers(pod)
    elif kind == "TrainJob":
        # The runtime (torch-distributed) defines the pods; the TrainJob's runtime patches are
        # what it sets on them, and must keep them restricted.
        for index, patch in enumerate(spec.get("runtimePatches", [])):
            jobs = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
            for job in jobs:
                pod = job["template"]["spec"]["template"]["spec"]
                where = f"spec.runtimePatches[{index}]...replicatedJobs[{job['name']}]...spec"
                yield where, pod, _containers(pod)
    elif kind == "InferenceService":
        for component in ("predictor", "transformer", "explainer"):
            pod = spec.get(component)
            if pod is None:
                continue
            containers = _containers(pod)
            if "model" in pod:
                containers.append({"name": "model", **pod["model"]})
            yield f"spec.{component}", pod, containers


def is_workload(document: dict[str, Any]) -> bool:
    return document.get("kind") in {
        *_WORKLOADS,
        "Pod",
        "CronJob",
        "InferenceService",
        "PyTorchJob",
        "RayJob",
        "TrainJob",
    }


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        *pod.get("initContainers", []),
        *pod.get("containers", []),
        *pod.get("ephemeralContainers", []),
    ]


def violations(document: dict[str, Any]) -> list[str]:
    """Every "restricted" rule a pod template of ``document`` breaks, as ``where: rule``."""
    found: list[str] = []
    annotations = (document.get("metadata") or {}).get("annotations") or {}
    for where, pod, containers in pod_specs(document):
        found += [f"{where}: {problem}" for problem in _pod(pod, containers, annotations)]
    return found


def _pod(pod: dict[str, Any], containers: list[dict[str, Any]], annotations: dict[str, str]) -> Iterator[str]:
    pod_sc = pod.get("securityContext") or {}
    yield from _baseline(pod, pod_sc, containers, annotations)
    for volume in pod.get("volumes", []):
        kinds = set(volume) - _VOLUME_KEYS
        if not kinds <= RESTRICTED_VOLUMES:
            yield f"volume {volume.get('name')!r} of type {sorted(kinds)} is not allowed (restricted)"
    if pod_sc.get("runAsUser") == 0:
        yield "pod runAsUser is 0"
    pod_non_root = pod_sc.get("runAsNonRoot") is True
    pod_seccomp = (pod_sc.get("seccompProfile") or {}).get("type")
    if pod_seccomp is not None and pod_seccomp not in SECCOMP_ALLOWED:
        yield f"pod seccompProfile {pod_seccomp} (restricted: RuntimeDefault or Localhost)"
    for container in containers:
        name = container.get("name")
        sc = container.get("securityContext") or {}
        if sc.get("allowPrivilegeEscalation") is not False:
            yield f"container {name!r}: allowPrivilegeEscalation is not false"
        non_root = sc.get("runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            yield f"container {name!r}: runAsNonRoot is not true (pod or container)"
        if sc.get("runAsUser") == 0:
            yield f"container {name!r}: runAsUser is 0"
        seccomp = (sc.get("seccompProfile") or {}).get("type")
        if seccomp is None and pod_seccomp is None:
            yield f"container {name!r}: no seccompProfile (pod or container)"
        elif seccomp is not None and seccomp not in SECCOMP_ALLOWED:
            yield f"container {name!r}: seccompProfile {seccomp}"
        capabilities = sc.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            yield f"container {name!r}: capabilities do not drop ALL"
        added = set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}
        if added:
            yield f"container {name!r}: adds capabilities {sorted(added)} (restricted: NET_BIND_SERVICE only)"


def _baseline(
    pod: dict[str, Any], pod_sc: dict[str, Any], containers: list[dict[str, Any]], annotations: dict[str, str]
) -> Iterator[str]:
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            yield f"{field} is set (baseline)"
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        yield "pod is a Windows HostProcess (baseline)"
    for volume in pod.get("volumes", []):
        if "hostPath" in volume:
            yield f"volume {volume.get('name')!r} is a hostPath (baseline)"
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            yield f"unsafe sysctl {sysctl.get('name')} (baseline)"
    yield from _selinux_apparmor("pod", pod_sc)
    for key, value in annotations.items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            value == "runtime/default" or value.startswith("localhost/")
        ):
            yield f"AppArmor annotation {key}: {value} (baseline)"
    for container in containers:
        name = container.get("name")
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            yield f"container {name!r} is privileged (baseline)"
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            yield f"container {name!r} is a Windows HostProcess (baseline)"
        added = set((sc.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            yield f"container {name!r} adds capabilities {sorted(added)} (baseline)"
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                yield f"container {name!r} uses hostPort {port['hostPort']} (baseline)"
        if sc.get("procMount") not in (None, "Default"):
            yield f"container {name!r}: procMount {sc['procMount']} (baseline)"
        seccomp = (sc.get("seccompProfile") or {}).get("type")
        if seccomp == "Unconfined":
            yield f"container {name!r}: seccompProfile Unconfined (baseline)"
        yield from _selinux_apparmor(f"container {name!r}", sc)


def _selinux_apparmor(where: str, sc: dict[str, Any]) -> Iterator[str]:
    selinux = sc.get("seLinuxOptions") or {}
    if selinux.get("type", "") not in SELINUX_TYPES:
        yield f"{where}: SELinux type {selinux['type']} (baseline)"
    for field in ("user", "role"):
        if selinux.get(field):
            yield f"{where}: SELinux {field} is set (baseline)"
    apparmor = (sc.get("appArmorProfile") or {}).get("type")
    if apparmor not in (None, "RuntimeDefault", "Localhost"):
        yield f"{where}: AppArmor profile {apparmor} (baseline)"
