"""Pod-level settings shared by every workload mlgitops generates (serving pods and training
runs): the security context a model may relax, explicitly and visibly."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlgitops.spec.base import SpecModel

# An absolute path whose every segment has a character other than a dot (no `.`/`..` segments).
MOUNT_PATH_PATTERN = r"^(?:/[A-Za-z0-9_.@+-]*[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*)+$"
MountPath = Annotated[str, Field(pattern=MOUNT_PATH_PATTERN, max_length=253)]
_ID = Annotated[int, Field(ge=0, le=2147483647)]
DNS_SUBDOMAIN_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
DnsSubdomain = Annotated[str, Field(pattern=DNS_SUBDOMAIN_PATTERN, max_length=253)]
# A Service name: a DNS-1035 label (starts with a letter).
DnsLabelName = Annotated[str, Field(pattern=r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]


class SecurityContext(SpecModel):
    """Relaxations of the hardened default every generated pod has: Pod Security "restricted"
    (non-root, no privilege escalation, every capability dropped, seccomp `RuntimeDefault`),
    a read-only root filesystem and user, group and `fsGroup` 1000. Each field written here
    is a relaxation `validate` reports (MLG337), and an error where the policy
    `forbidSecurityRelaxations` lists the environment (MLG406)."""

    run_as_user: Annotated[int, Field(ge=1, le=2147483647)] | None = Field(
        default=None,
        description="UID of the containers (pod `securityContext.runAsUser`); default 1000. `null`: "
        "the image's own numeric `USER` (still refused at start if it is root: `runAsNonRoot` stays).",
    )
    run_as_group: _ID | None = Field(
        default=None,
        description="Primary GID (pod `securityContext.runAsGroup`); default 1000, `null`: the image's.",
    )
    fs_group: _ID | None = Field(
        default=None,
        description="Group owning mounted volumes (pod `securityContext.fsGroup`); default 1000, "
        "`null`: none.",
    )
    read_only_root_filesystem: bool | None = Field(
        default=None,
        description="Container `securityContext.readOnlyRootFilesystem`; default `true`. `false` (or "
        "`null`): the image may write anywhere in its own filesystem.",
    )
    writable_paths: list[MountPath] | None = Field(
        default=None,
        description="Directories the container may write to under a read-only root, e.g. "
        "`[/var/cache/models, /home/app/.cache]`: each becomes an `emptyDir` volume mounted there.",
        max_length=16,
    )


_SECONDS = Annotated[int, Field(ge=0, le=86400)]
# A surge or unavailability: a number of pods or a percentage of the replicas (Kubernetes'
# IntOrString in `strategy.rollingUpdate`).
PodCount = Annotated[int, Field(ge=0, le=10000)] | Annotated[str, Field(pattern=r"^(100|[1-9]?[0-9])%$")]


class Probe(SpecModel):
    """One probe of the serving container; each field unset keeps mlgitops' (or on KServe,
    Knative's and Kubernetes') default."""

    path: Annotated[str, Field(pattern=r"^/[\x21-\x7e]*$", max_length=1024)] | None = Field(
        default=None,
        description="HTTP path probed (`httpGet.path`); default the runtime's health endpoint. A "
        "`tcpSocket` probe when the runtime has none and no path is written.",
    )
    port: Annotated[int, Field(ge=1, le=65535)] | None = Field(
        default=None, description="Port probed (`httpGet.port`); default the serving port."
    )
    period_seconds: Annotated[int, Field(ge=1, le=86400)] | None = Field(
        default=None, description="`periodSeconds`: how often the probe runs."
    )
    failure_threshold: Annotated[int, Field(ge=1, le=10000)] | None = Field(
        default=None, description="`failureThreshold`: failures in a row that count."
    )
    initial_delay_seconds: _SECONDS | None = Field(
        default=None, description="`initialDelaySeconds`: wait before the first probe."
    )


class Probes(SpecModel):
    """The serving container's probes (container `startupProbe`, `readinessProbe`, `livenessProbe`)."""

    startup: Probe | None = Field(default=None, description="`startupProbe`.")
    readiness: Probe | None = Field(default=None, description="`readinessProbe`.")
    liveness: Probe | None = Field(default=None, description="`livenessProbe`.")


class Rollout(SpecModel):
    """How a new version replaces the old pods (a rolling update)."""

    max_surge: PodCount | None = Field(
        default=None,
        description="`rollingUpdate.maxSurge`: pods above the desired count during a rollout, a "
        "number or a percentage; default 1 on plain Kubernetes.",
    )
    max_unavailable: PodCount | None = Field(
        default=None,
        description="`rollingUpdate.maxUnavailable`: pods that may be missing during a rollout; "
        "default 0 on plain Kubernetes.",
    )


# Names of the ports and volumes mlgitops itself puts in the pod.
RESERVED_PORT_NAMES = frozenset({"http", "http1", "metrics"})
RESERVED_VOLUME_NAMES = frozenset({"model", "tmp", "dshm"})


def _not_reserved(value: str, reserved: frozenset[str] | set[str]) -> str:
    if value in reserved:
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError("MLG206", f"{value!r} is a name mlgitops gives its own port or volume", {})
    return value


# An IANA service name, as Kubernetes requires of a port name.
PORT_NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$"
_PORT = Annotated[int, Field(ge=1, le=65535)]


class ContainerPort(SpecModel):
    """An extra named port of the serving container (container `ports`), e.g. gRPC or metrics."""

    name: Annotated[str, Field(pattern=PORT_NAME_PATTERN)] = Field(
        description="Port name (at most 15 characters, not `http` or `metrics`, which mlgitops names)."
    )
    port: _PORT = Field(description="`containerPort`.")
    protocol: Literal["TCP", "UDP", "SCTP"] = Field(default="TCP", description="`protocol`.")

    @field_validator("name")
    @classmethod
    def _not_ours(cls, value: str) -> str:
        return _not_reserved(value, RESERVED_PORT_NAMES)


class Service(SpecModel):
    """The plain-Kubernetes Service in front of the model's pods."""

    name: DnsLabelName | None = Field(
        default=None, description="Service `metadata.name`; default the model name."
    )
    port: _PORT | None = Field(default=None, description="Service port (`ports[0].port`); default 80.")


class Volume(SpecModel):
    """A volume mounted into the serving container: exactly one source is set."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")] = Field(
        description="Volume name (pod `volumes[].name`); not `model`, `tmp`, `dshm` or `writable-N`."
    )
    mount_path: MountPath = Field(description="`volumeMounts[].mountPath`.")
    read_only: bool = Field(
        default=True, description="`volumeMounts[].readOnly`; default `true` (a model volume is read-only)."
    )
    persistent_volume_claim: DnsSubdomain | None = Field(
        default=None,
        description="`persistentVolumeClaim.claimName` (mounted read-only unless `readOnly: false`).",
    )
    nfs: NfsSource | None = Field(
        default=None,
        description='An NFS export (`nfs`); not allowed by Pod Security "restricted", so a '
        "relaxation (MLG337).",
    )
    config_map: DnsSubdomain | None = Field(default=None, description="`configMap.name`.")
    secret: DnsSubdomain | None = Field(default=None, description="`secret.secretName`.")

    @field_validator("name")
    @classmethod
    def _not_ours(cls, value: str) -> str:
        if value.startswith("writable-"):
            return _not_reserved(value, {value})  # writable-N: the emptyDirs of writablePaths
        return _not_reserved(value, RESERVED_VOLUME_NAMES)

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        sources = [self.persistent_volume_claim, self.nfs, self.config_map, self.secret]
        if sum(source is not None for source in sources) != 1:
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError(
                "MLG206", "set exactly one of persistentVolumeClaim, nfs, configMap and secret", {}
            )
        return self


class NfsSource(SpecModel):
    """An NFS export."""

    server: Annotated[str, Field(pattern=r"^[A-Za-z0-9]([-A-Za-z0-9.:\[\]]{0,252})$")] = Field(
        description="`nfs.server`: host name or IP address."
    )
    path: MountPath = Field(description="`nfs.path`: the exported directory.")


Volume.model_rebuild()
