"""`spec.ci.mlgitops` and `spec.ci.includeFrom`: how CI installs mlgitops, and which root CI
file includes the project's pipeline.

CI runs mlgitops with the repository's secrets, so what it installs is named exactly: a
requirements file with hashes the user keeps, or a git URL pinned to a commit.  A bare
`mlgitops==<version>` from the package index is what happens without it (docs/ci.md).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from mlgitops.spec.base import SpecModel
from mlgitops.spec.types import GitUrl

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


class MlgitopsInstall(SpecModel):
    """How CI installs mlgitops: `requirements`, or `git` with `commit`."""

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

    @model_validator(mode="after")
    def _one_source(self) -> MlgitopsInstall:
        from pydantic_core import PydanticCustomError

        if (self.requirements is None) == (self.git is None):
            raise PydanticCustomError("MLG206", "set exactly one of requirements and git", {})
        if (self.git is None) != (self.commit is None):
            raise PydanticCustomError("MLG206", "git and commit go together", {})
        return self


IncludeFrom = Annotated[
    str,
    AfterValidator(_plain_relative),
    WithJsonSchema({"type": "string", "pattern": r"^[^/\\]+(/[^/\\]+)*$"}),
]
