"""The template engine: Jinja2 (sandboxed for overrides), strict about undefined names, safe by default.

Templates use ``{= expression =}`` for values (not ``{{ }}``), because the
files we generate are full of other tools' ``{{ }}``: GitHub expressions,
Prometheus and Grafana templates.  Every value is written as a quoted YAML
scalar or flow collection, so no spec value can change the structure of the
output; a target may add its own escaping (GitHub ``${{``, GitLab ``$``,
Prometheus ``{{``) for text the consuming tool would otherwise expand.
An override template's text is parsed back and re-serialized canonically; a built-in
template's text is canonical already and written directly (``render/direct.py``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mlgitops.render import direct, yamlout

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
    """Where templates come from: the built-in directory and the project's override templates.

    ``overrides`` holds the texts ``render/overrides.py`` accepted (name → text); the
    override directory itself is only named in diagnostics, never read by Jinja.
    """

    builtin: Path
    override: Path | None = None
    overrides: Mapping[str, str] = field(default_factory=dict)

    def origin(self, name: str) -> Path:
        if self.override is not None and name in self.overrides:
            return self.override / name
        return self.builtin / name


class _OverrideLoader(jinja2.BaseLoader):
    """The accepted override texts, named by their files (so errors map to template lines);
    Jinja never opens the override directory itself."""

    def __init__(self, directory: Path, texts: Mapping[str, str]) -> None:
        self.directory = directory
        self.texts = texts

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        text = self.texts.get(template)
        if text is None:
            raise jinja2.TemplateNotFound(template)
        return text, str(self.directory / template), lambda: True


class _Collections:
    """Mappings and lists a template writes as whole values, kept out of the text.

    Writing a large Python structure as flow YAML only to parse it straight back is most of a
    render's cost. Instead ``{= value =}`` with a mapping or list writes a placeholder scalar
    naming an entry of this table, and :meth:`Engine.render_data` puts the (escaped, normalized)
    value back after parsing. The placeholder carries a random nonce per render, so no spec text
    can forge one.
    """

    def __init__(self) -> None:
        self.nonce = secrets.token_hex(8)
        self.values: list[Any] = []

    def placeholder(self, value: Any, escape: TextEscape | None) -> str:
        self.values.append(_normalized(value, escape))
        return f"{self.prefix}{len(self.values) - 1}\ue001"

    @property
    def prefix(self) -> str:
        return f"\ue000{self.nonce}:"


def _normalized(value: Any, escape: TextEscape | None) -> Any:
    """What flow YAML and a parse back would give (string keys, lists for tuples), with the
    target's escape applied to every text; exact type checks keep this walk cheap."""
    kind = type(value)
    if kind is str:
        return escape(value) if escape else value
    if kind is dict:
        return {str(k): _normalized(v, escape) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_normalized(v, escape) for v in value]
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if isinstance(value, Trusted):
        return str(value)
    if isinstance(value, str):
        return escape(value) if escape else str(value)
    if isinstance(value, Mapping):
        return {str(k): _normalized(v, escape) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalized(v, escape) for v in value]
    raise TypeError(f"cannot write {type(value).__name__} as YAML")


def _yaml_value(escape: TextEscape | None, engine: Engine) -> Callable[[Any], str]:
    def finalize(value: Any) -> str:
        blocks = engine.blocks
        if blocks is not None and type(value) is str:  # most values: one text, written directly
            return direct.text(escape(value) if escape else value, blocks)
        if isinstance(value, jinja2.Undefined):
            # finalize gets the Undefined itself; str() makes StrictUndefined raise its own error,
            # which names the missing variable or attribute (or is the sandbox's SecurityError).
            str(value)
            raise jinja2.UndefinedError("undefined value")
        blocks = engine.blocks
        if blocks is not None:
            return _direct(value, escape, blocks)
        table = engine.collections
        if table is not None and isinstance(value, Mapping | list | tuple):
            return yamlout.quote(table.placeholder(value, escape))
        return yamlout.flow(_escaped(value, escape) if escape else value)

    return finalize


def _direct(value: Any, escape: TextEscape | None, blocks: direct.Blocks) -> str:
    """``value`` in canonical spelling (``render/direct.py``); the same text and data the parse
    back of :func:`yamlout.flow`'s spelling would give."""
    kind = type(value)
    if kind is str:
        return direct.text(escape(value) if escape else value, blocks)
    if value is None or kind is bool or kind is int or kind is float:
        return yamlout.scalar(value)
    if escape is None and (kind is dict or kind is list or kind is tuple):
        # Written as it is: yamlout writes it as it would _normalized's copy (text keys, lists
        # for tuples, a text of a str subclass as text), so neither a copy nor a check first.
        return direct.collection(value, blocks)
    if isinstance(value, Trusted):
        return direct.text(str(value), blocks)
    if isinstance(value, str):
        return direct.text(escape(value) if escape else str(value), blocks)
    return direct.collection(_normalized(value, escape), blocks)


class Trusted(str):
    """Text a target wrote itself (e.g. a GitHub expression naming a CI secret) that must reach
    the output unescaped. Never wrap a spec value in it."""

    __slots__ = ()


class Unexpanded(Trusted):
    """Spec text where the consumer expands nothing (a Prometheus recording rule's ``labels``,
    which Prometheus copies as they are, unlike an alert's): the target's escape would reach the
    output as part of the value.  Still written as one quoted YAML scalar."""

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
        overridden = source.override is not None and bool(source.overrides)
        if source.override is not None and source.overrides:
            loaders.append(_OverrideLoader(source.override, source.overrides))
        loaders.append(jinja2.FileSystemLoader(str(source.builtin)))
        self.source = source
        # The sandbox guards against override templates (untrusted, written in a pull request);
        # it checks every attribute access and call, a fifth of a render's time. Without any
        # override, every template that can be loaded is a built-in one, and spec values only
        # ever reach them as data, never as template code, so they run unsandboxed.
        environment = ImmutableSandboxedEnvironment if overridden else jinja2.Environment
        self.env = environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            finalize=_yaml_value(escape, self),
            autoescape=False,
            variable_start_string="{=",
            variable_end_string="=}",
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.globals.update(globals_ or {})
        self._cache: dict[str, tuple[jinja2.Template, dict[str, Any]]] = {}
        self.collections: _Collections | None = None  # set while render_data runs
        self.blocks: direct.Blocks | None = None  # set while render_yaml writes directly
        self._nonces = direct.Nonces()
        # Only built-in templates are trusted to be written in canonical form (and one of them
        # could include an overridden one), so with any override every render is parsed back.
        self.writes_directly = not overridden

    def render_yaml(self, name: str, context: Mapping[str, Any], leave: direct.Leave | None = None) -> str:
        """Render a built-in template ``name`` as canonical YAML text (what
        ``yamlout.dump_documents`` writes for its documents) directly (``render/direct.py``),
        less what ``leave`` leaves out; an engine that does not write directly parses back
        (``render_data``), and its caller applies the same rule to the documents."""
        if not self.writes_directly:
            assert leave is None, "only a direct render leaves entries out as it writes"
            return yamlout.dump_documents(self.render_data(name, context))
        blocks = self.blocks = direct.Blocks(self._nonces.next(), empty_too=leave is not None)
        try:
            rendered = self.render_text(name, context)
        finally:
            self.blocks = None
        try:
            return direct.splice(rendered, blocks, leave)
        except direct.Misplaced as exc:
            raise RenderError(str(exc), name, None) from None

    def render_data(self, name: str, context: Mapping[str, Any]) -> list[Any]:
        """Render ``name`` and parse it: the documents as data (see :class:`_Collections`)."""
        from mlgitops.render.canonical import MalformedOutput, parse_rendered

        table = self.collections = _Collections()
        try:
            text = self.render_text(name, context)
        finally:
            self.collections = None
        try:
            documents = parse_rendered(text)
        except MalformedOutput as exc:
            raise RenderError(
                f"template produced invalid YAML (rendered line {exc.line}): {exc}", name, None
            ) from None
        return [_restore(document, table, name) for document in documents]

    def render_text(self, name: str, context: Mapping[str, Any]) -> str:
        try:
            cached = self._cache.get(name)
            if cached is None:
                template = self.env.get_template(name)
                cached = self._cache[name] = (template, dict(template.globals))
            template, globals_ = cached
            # What Template.render does, less its copy of the globals from their ChainMap (a
            # Python-level walk of some thirty names on each of ~17,000 renders): they are
            # flattened once per template.
            state = self.env.context_class(
                self.env, {**globals_, **context}, template.name, template.blocks, globals=globals_
            )
            try:
                return self.env.concat(template.root_render_func(state))
            except Exception:
                self.env.handle_exception()
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


def _restore(node: Any, table: _Collections, name: str) -> Any:
    kind = type(node)
    if kind is str:
        if "\ue000" in node:
            index = node.removeprefix(table.prefix).removesuffix("\ue001")
            if not (node.startswith(table.prefix) and node.endswith("\ue001") and index.isdigit()):
                raise RenderError(
                    "a mapping or list must be a whole YAML value, not part of a text", name, None
                )
            return table.values[int(index)]
        return node
    if kind is dict:
        return {_key(k, name): _restore(v, table, name) for k, v in node.items()}
    if kind is list:
        return [_restore(v, table, name) for v in node]
    return node


def _key(key: str, name: str) -> str:
    if "\ue000" in key:
        raise RenderError("a mapping or list cannot be a mapping key", name, None)
    return key


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
