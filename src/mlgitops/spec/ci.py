"""`spec.ci`: the CI system, `ci: github` (or `gitlab`) in its short form, or a mapping with
the settings of its pipelines."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from mlgitops.spec.base import SpecModel
from mlgitops.spec.ci_install import IncludeFrom, MlgitopsInstall

CiSystem = Literal["github", "gitlab"]


class CiSettings(SpecModel):
    """The CI system and its settings."""

    system: CiSystem = Field(default="github", description="CI system: `github` or `gitlab`.")
    mlgitops: MlgitopsInstall | None = Field(
        default=None,
        description="How CI installs mlgitops (pinned); unset: `mlgitops==<this version>` from the "
        "package index, which has no release yet (see docs/ci.md).",
    )
    include_from: IncludeFrom | None = Field(
        default=None,
        description=(
            "GitLab, for a project below the repository root: your root CI file (a path from the "
            "repository root, e.g. `.gitlab-ci.yml`) that includes this project's "
            "`<project>/.gitlab-ci.yml`; mlgitops then writes no root file of its own."
        ),
    )

    @model_validator(mode="after")
    def _include_on_gitlab(self) -> CiSettings:
        if self.include_from is not None and self.system != "gitlab":
            from pydantic_core import PydanticCustomError

            raise PydanticCustomError(
                "MLG206", "includeFrom is for GitLab: GitHub reads only the root .github/workflows/", {}
            )
        return self


def _ci_form(value: Any) -> str:
    return "settings" if isinstance(value, dict | CiSettings) else "system"


Ci = Annotated[
    Annotated[CiSystem, Tag("system")] | Annotated[CiSettings, Tag("settings")],
    Discriminator(_ci_form),
]


def ci_settings(value: CiSystem | CiSettings) -> CiSettings:
    """The mapping form of ``spec.ci`` whichever form was written."""
    return value if isinstance(value, CiSettings) else CiSettings(system=value)
