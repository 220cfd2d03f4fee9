"""The description of a promotion pull request: what ``mlgitops promote`` says, the evaluation
gates' table when the pipeline ran them (``mlgitops gate --format markdown``), and what the
promotion changes in the generated files (``mlgitops diff --base HEAD``, the edit not yet
committed)."""

from __future__ import annotations

PR_BODY = """\
set -eu
{
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["body"])' "$RUNNER_TEMP/promotion.json"
  if [ -f "$RUNNER_TEMP/gate/gate.md" ]; then
    printf '\\n### Evaluation\\n\\n'
    cat "$RUNNER_TEMP/gate/gate.md"
  fi
  printf '\\n### What the promotion changes\\n\\n'
  mlgitops diff --base HEAD --format markdown
} > "$RUNNER_TEMP/pr-body.md"
"""

GATE_REPORT = (
    'mlgitops gate "$MODEL" --env "$FIRST_ENV" --metrics "$METRICS_DIR/$METRICS_FILE" --format markdown'
    ' > "$RUNNER_TEMP/gate.md"\n'
)
