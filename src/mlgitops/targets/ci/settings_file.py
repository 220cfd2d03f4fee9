"""``<output>/ci/SETTINGS.md``: the checklist of one-time repository settings the pipelines need
(the text of ``mlgitops ci settings``), written with every compile so a reviewer sees a new
secret or environment in the same pull request that starts needing it."""

from __future__ import annotations

from mlgitops import ci_settings, ir
from mlgitops.targets.base import HEADER, OutputFile, RenderContext


def settings_path(project: ir.Project) -> str:
    return f"{project.output}/ci/SETTINGS.md"


class SettingsChecklist:
    name = "ci-settings"
    scope = "project"

    def render(self, project: ir.Project, ctx: RenderContext) -> list[OutputFile]:
        # The generated-file header is a Markdown heading too.
        text = (
            HEADER.format(source="mlgitops.yaml") + "\n" + ci_settings.markdown(ci_settings.collect(project))
        )
        return [OutputFile(settings_path(project), text, "mlgitops.yaml")]
