"""Spec types: what users write, validated strictly by pydantic.

These are kept apart from the resolved IR (:mod:`mlgitops.ir`), which is what
targets read.
"""

from mlgitops.discover import API_VERSION
from mlgitops.spec.model import ModelSpec
from mlgitops.spec.project import ProjectSpec

__all__ = ["API_VERSION", "ModelSpec", "ProjectSpec"]
