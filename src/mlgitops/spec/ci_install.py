"""`spec.ci.mlgitops` and `spec.ci.includeFrom`: how CI installs mlgitops, and which root CI
file includes the project's pipeline.

CI runs mlgitops with the repository's secrets, so what it installs is named exactly: a
requirements file with hashes the user keeps, a git URL pinned to a commit, or a container
image pinned by digest.  Without one, the generated install steps refuse to run (nothing is
fetched by name from a package index; docs/ci.md says why).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from mlgitops.spec.base import SpecModel
from mlgitops.spec.types import IMAGE_PATTERN, GitUrl, Image

_COMMIT = r"^[0-9a-f]{40}$"
_RELATIVE = re.compile(r"^[^/\\\x00]+(?:/[^/\\\x00]+)*$")


def _plain_relative(value: str) -> str:
    """A path below a directory: no leading ``/``, no ``.`` or ``..`` part, no backslash."""
    if not _RELATIVE.fullmatch(value) or any(part in (".", "..") for part in value.split("/")):
        from pydantic_core import PydanticCustomError

        raise PydanticCustomError("MLG206", "{value!r} is not a plain relative path", {"value": value})
    return value


RelativePath = Annotated[
    str,
    AfterValidator(_plain_relative),
    WithJsonSchema({"type": "string", "pattern": r"^[^/\\]+(/[^/\\]+)*$"}),
]


def _digest_pinned(value: str) -> str:
    """A tag can be moved to other contents; only a digest names one image."""
    if "@sha256:" not in value:
        from pydantic_core import PydanticCustomError

        # The value passed the image pattern first: it holds no braces to confuse the template.
        raise PydanticCustomError("MLG206", f"{value!r} is not pinned by digest (name@sha256:<64 hex>)")
    return value


DigestImage = Annotated[
    Image,
    AfterValidator(_digest_pinned),
    WithJsonSchema({"type": "string", "pattern": IMAGE_PATTERN.removesuffix(")?$") + ")$"}),
]


class MlgitopsInstall(SpecModel):
    """How CI installs mlgitops: `requirements`, `git` with `commit`, or `image`."""

    requirements: RelativePath | None = Field(
        default=None,
        description=(
            "Requirements file, relative to the project, that pins mlgitops and every dependency "
            "with `--hash=sha256:` lines; CI runs `pip install --require-hashes -r` on it."
        ),
    )
    git: GitUrl | None = Field(
        default=None, description="Git URL of mlgitops' source; CI installs `git+<url>@<commit>`."
    )
    commit: Annotated[str, Field(pattern=_COMMIT)] | None = Field(
        default=None, description="The full 40-hex commit of `git` to install (a branch or tag can move)."
    )
    image: DigestImage | None = Field(
        default=None,
        description="Container image holding mlgitops, pinned by digest (`name@sha256:<64 hex>`): "
        "the jobs that run mlgitops run in it (GitHub `container:`, GitLab `image:`) and install nothing.",
    )

    @model_validator(mode="after")
    def _one_source(self) -> MlgitopsInstall:
        from pydantic_core import PydanticCustomError

        if [self.requirements, self.git, self.image].count(None) != 2:
            raise PydanticCustomError("MLG206", "set exactly one of requirements, git and image", {})
        if (self.git is None) != (self.commit is None):
            raise PydanticCustomError("MLG206", "git and commit go together", {})
        return self


IncludeFrom = Annotated[
    str,
    AfterValidator(_plain_relative),
    WithJsonSchema({"type": "string", "pattern": r"^[^/\\]+(/[^/\\]+)*$"}),
]
