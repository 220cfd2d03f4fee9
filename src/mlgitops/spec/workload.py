"""Pod-level settings shared by every workload mlgitops generates (serving pods and training
runs): the security context a model may relax, explicitly and visibly."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from mlgitops.spec.base import SpecModel

# An absolute path whose every segment has a character other than a dot (no `.`/`..` segments).
MOUNT_PATH_PATTERN = r"^(?:/[A-Za-z0-9_.@+-]*[A-Za-z0-9_@+-][A-Za-z0-9_.@+-]*)+$"
MountPath = Annotated[str, Field(pattern=MOUNT_PATH_PATTERN, max_length=253)]
_ID = Annotated[int, Field(ge=0, le=2147483647)]


class SecurityContext(SpecModel):
    """Relaxations of the hardened default every generated pod has: Pod Security "restricted"
    (non-root, no privilege escalation, every capability dropped, seccomp `RuntimeDefault`),
    a read-only root filesystem and user, group and `fsGroup` 1000. Each field written here
    is a relaxation `validate` reports (MLG336), and an error where the policy
    `forbidSecurityRelaxations` lists the environment (MLG405)."""

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
