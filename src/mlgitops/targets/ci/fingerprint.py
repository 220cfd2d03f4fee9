"""The training fingerprint: ``<output>/ci/<model>/training-inputs.yaml``.

A push to the default branch starts a model's training pipeline when this file (or one
of the model's ``training.paths``) changes. It holds the model's training section and its
data sources with their versions, nothing a promotion edits, so promoting a version (which
rewrites the model's spec and the compiled tree) never retrains (see also MLG336,
``validate/retrain_loops.py``). ``sha256`` condenses the rest, for a reviewer who wants to
know at a glance whether a pull request retrains.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

from mlgitops import ir
from mlgitops.outputs import CI_DIR
from mlgitops.targets.base import OutputFile, RenderContext

FILE_NAME = "training-inputs.yaml"


def fingerprint_path(project: ir.Project, model: ir.Model) -> str:
    """The fingerprint's path relative to the project."""
    return f"{project.output}/{CI_DIR}/{model.name}/{FILE_NAME}"


def training_inputs(model: ir.Model, training: ir.Training) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(_as_data(training)))
    # Fields added since fingerprints were first written, left out where they change nothing, so
    # that an upgrade of mlgitops retrains no model: no distribution, and the GPU resource's name
    # (which reaches the requests anyway when GPUs are requested).
    if plain["distributed"] is None:
        del plain["distributed"]
    if plain["resources"] is not None:
        del plain["resources"]["gpu_resource"]
    data = {source.name: {"uri": source.uri, "version": source.version} for source in model.data}
    return {"training": plain, "data": data}


def _as_data(value: Any) -> Any:
    """What ``dataclasses.asdict`` gives, as JSON writes it, without its deep copy of every leaf
    (the IR is frozen): a fifth of the fingerprint's time.  Leaves (most nodes) are told by their
    exact type first, before the slower dataclass and container checks."""
    kind = type(value)
    if kind is str or value is None or kind is bool or kind is int or kind is float:
        return value
    if hasattr(kind, "__dataclass_fields__"):
        return {field.name: _as_data(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_as_data(item) for item in value]
    if isinstance(value, dict):
        return {key: _as_data(item) for key, item in value.items()}
    return value


class TrainingFingerprint:
    name = "training-inputs"
    scope = "model"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        files = []
        for model in project.models:
            if model.training is None:
                continue
            context: dict[str, Any] = {}  # under compile.Outline, the path alone
            if not ctx.paths_only:
                inputs = training_inputs(model, model.training)
                digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
                context = {"model": model.name, "digest": digest, **inputs}
            files.append(
                ctx.yaml_file(
                    self.name,
                    "training-inputs.yaml.j2",
                    context,
                    path=fingerprint_path(project, model),
                    source=model.source,
                )
            )
        return files
