"""Spec types: what users write, validated strictly by pydantic.

These are kept apart from the resolved IR (:mod:`mlgitops.ir`), which is what
targets read.
"""

from mlgitops.spec.model import ModelSpec
from mlgitops.spec.project import ProjectSpec

API_VERSION = "mlgitops/v1"

__all__ = ["API_VERSION", "ModelSpec", "ProjectSpec"]
