"""What the model specs say of each other and of the project: the checks across models, which
``pipeline.py`` runs in the parent while the workers resolve the models."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from mlgitops.diagnostics import Diagnostic
from mlgitops.validate import ValidatedProject

if TYPE_CHECKING:
    from mlgitops.validate.promotion import ServedBefore


def check_references(
    validated: ValidatedProject,
    today: datetime.date | None,
    history: ServedBefore | None,
    found: list[Diagnostic],
) -> None:
    """Appended to ``found`` (a callback's result: ``parallel.map_chunks``' ``meanwhile``)."""
    # Imported here, once the workers resolving the models have been forked without them.
    from mlgitops.validate import semantic
    from mlgitops.validate.ci_stores import check_ci_secret_names, check_upload_schemes
    from mlgitops.validate.distributed import check_distributed_training
    from mlgitops.validate.retrain_loops import check_retrain_loops

    found += semantic.check_project(validated, today or datetime.date.today(), history)
    found += check_retrain_loops(validated)
    found += check_upload_schemes(validated)
    found += check_distributed_training(validated)
    found += check_ci_secret_names(validated)
