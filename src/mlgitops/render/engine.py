"""The template engine: sandboxed Jinja2, strict about undefined names, safe by default.

Templates use ``{= expression =}`` for values (not ``{{ }}``), because the
files we generate are full of other tools' ``{{ }}``: GitHub expressions,
Prometheus and Grafana templates.  Every value is written as a quoted YAML
scalar or flow collection, so no spec value can change the structure of the
output; a target may add its own escaping (GitHub ``${{``, GitLab ``$``,
Prometheus ``{{``) for text the consuming tool would otherwise expand.
The rendered text is parsed back and re-serialized canonically.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mlgitops.render import yamlout

TextEscape = Callable[[str], str]


class RenderError(Exception):
    """A template failed; carries the template file and line for a located diagnostic."""

    def __init__(self, message: str, template: str, line: int | None) -> None:
        super().__init__(message)
        self.template = template
        self.line = line

    def __reduce__(self) -> tuple[type[RenderError], tuple[str, str, int | None]]:
        return (RenderError, (str(self), self.template, self.line))


@dataclass(frozen=True, slots=True)
class TemplateSource:
    """Where templates come from: the built-in directory and an optional override directory."""

    builtin: Path
    override: Path | None = None

    def origin(self, name: str) -> Path:
        if self.override is not None and (self.override / name).is_file():
            return self.override / name
        return self.builtin / name


def _yaml_value(escape: TextEscape | None) -> Callable[[Any], str]:
    def finalize(value: Any) -> str:
        if isinstance(value, jinja2.Undefined):
            # finalize gets the Undefined itself; str() makes StrictUndefined raise its own error,
            # which names the missing variable or attribute (or is the sandbox's SecurityError).
            str(value)
            raise jinja2.UndefinedError("undefined value")
        return yamlout.flow(_escaped(value, escape) if escape else value)

    return finalize


class Trusted(str):
    """Text a target wrote itself (e.g. a GitHub expression naming a CI secret) that must reach
    the output unescaped. Never wrap a spec value in it."""

    __slots__ = ()


def _escaped(value: Any, escape: TextEscape) -> Any:
    if isinstance(value, Trusted):
        return str(value)
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, Mapping):
        return {k: _escaped(v, escape) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_escaped(v, escape) for v in value]
    return value


class Engine:
    """Renders one target's templates; one engine per target and escape rule."""

    def __init__(
        self,
        source: TemplateSource,
        escape: TextEscape | None = None,
        globals_: Mapping[str, Any] | None = None,
    ) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if source.override is not None:
            loaders.append(jinja2.FileSystemLoader(str(source.override)))
        loaders.append(jinja2.FileSystemLoader(str(source.builtin)))
        self.source = source
        self.env = ImmutableSandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            finalize=_yaml_value(escape),
            autoescape=False,
            variable_start_string="{=",
            variable_end_string="=}",
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.globals.update(globals_ or {})
        self._cache: dict[str, jinja2.Template] = {}

    def render_text(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            template = self._cache.get(name)
            if template is None:
                template = self._cache[name] = self.env.get_template(name)
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(
                f"template syntax error: {exc.message}", exc.filename or name, exc.lineno
            ) from None
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"template {exc.name!r} not found", name, None) from None
        except Exception as exc:
            raise RenderError(
                f"template failed: {type(exc).__name__}: {exc}", name, _template_line(exc, name)
            ) from None


def _template_line(exc: BaseException, name: str) -> int | None:
    """The template line where ``exc`` happened (Jinja maps its frames to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
