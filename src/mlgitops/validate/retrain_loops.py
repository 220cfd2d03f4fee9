"""Training paths that would start training again after every promotion (MLG336).

A push to a model's ``training.paths`` starts its training pipeline, which ends in a
promotion pull request; that pull request edits the model's spec (``promote``) and the
compiled tree. Were either among the training paths, merging the promotion would train
again, and propose again, for ever. The pipeline's own trigger is the generated training
fingerprint (``<output>/ci/<model>/training-inputs.yaml``), which changes only with the
training-relevant part of the spec, so the spec need not be listed.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterator, Sequence

from mlgitops.diagnostics import Diagnostic, make
from mlgitops.validate import ValidatedProject


def check_retrain_loops(project: ValidatedProject) -> Iterator[Diagnostic]:
    root = project.files.root
    output = posixpath.normpath(project.spec.spec.output.path).strip("/")
    edited_by_promotions = {m.doc.path.relative_to(root).as_posix(): m.name for m in project.models}
    in_order = sorted(edited_by_promotions)  # for the specs below a directory: a range of it
    for model in project.models:
        training = model.spec.spec.training
        if training is None:
            continue
        own = model.doc.path.relative_to(root).as_posix()
        for index, path in enumerate(training.paths):
            what = _edited(path, own, output, edited_by_promotions, in_order)
            if what is not None:
                yield make(
                    "MLG336",
                    f"training path {path!r} covers {what}, which every promotion edits: merging a "
                    "promotion would start training again, and open another promotion",
                    model.doc.locate(("spec", "training", "paths", index)),
                    "list only code and data paths; the training pipeline already starts when the "
                    "training part of the spec changes (its training fingerprint)",
                )


def _edited(path: str, own: str, output: str, specs: dict[str, str], in_order: Sequence[str]) -> str | None:
    """What a promotion edits that the training path ``path`` (a file, or a directory ending
    in ``/``) covers, or None. ``in_order``: the keys of ``specs``, sorted."""
    normal = posixpath.normpath(path.strip()).strip("/")
    everything = normal in ("", ".")
    below = everything or path.endswith("/")

    def covers(target: str) -> bool:
        return everything or target == normal or (below and target.startswith(normal + "/"))

    if covers(own):
        return f"the model's own spec {own}"
    covered = [normal] if normal in specs else []
    if everything:
        covered = list(in_order[:1])
    elif below:  # the sorted specs that start with the directory's prefix are one range
        start = bisect.bisect_left(in_order, normal + "/")
        if start < len(in_order) and in_order[start].startswith(normal + "/"):
            covered = sorted([*covered, in_order[start]])
    if covered:
        return f"the spec of {specs[covered[0]]!r} ({covered[0]})"
    inside_output = normal == output or normal.startswith(output + "/")
    if inside_output or (below and output.startswith(normal + "/")):
        return f"the compiled tree {output}/"
    return None
