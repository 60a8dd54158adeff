"""Tool, resource-template and prompt definitions derived once per process, not once per server.

The SDK's ``Tool.from_function`` builds a pydantic argument model and two JSON schemas from a tool
function's signature on every registration: 58 ms for the read-only tools and 220 ms with the write
tools (measured with cProfile, 2 cores), which :func:`footage_mcp.surface.server.build_server` paid on
every call. A server embedded in an agent framework, every in-process test and every forked test bridge
builds servers again and again from the same functions (closures over a new server's state: new function
objects, the same code). What the SDK derives depends only on the signature and the registration
arguments, so :func:`derive_tool` derives it once per such key and gives each registration a copy bound
to its own function.

Resource templates and prompts wrap their function with pydantic's ``validate_call`` as well as deriving
an argument model and schema (about 5 ms each, 10 ms a server for its three templates and two prompts),
and the wrapper is bound to that very function. So :func:`derive_template` and :func:`derive_prompt`
keep what they derive per function object (module-level functions, the same in every server) and
options, and give each registration its own copy.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from mcp.server.mcpserver.prompts import Prompt
from mcp.server.mcpserver.resources import ResourceManager, ResourceTemplate
from mcp.server.mcpserver.resources.templates import DEFAULT_RESOURCE_SECURITY, ResourceSecurity
from mcp.server.mcpserver.tools import Tool, ToolManager
from mcp.server.mcpserver.utilities.logging import get_logger
from mcp.types import Annotations, Icon, ToolAnnotations

MAX_DEFINITIONS = 256
"""Derived definitions kept (a server has about twenty tools; the cap only bounds odd embedders)."""

_definitions: dict[tuple[Any, ...], Tool] = {}
_templates: dict[tuple[Any, ...], ResourceTemplate] = {}
_prompts: dict[tuple[Any, ...], Prompt] = {}
_lock = threading.Lock()
logger = get_logger(__name__)


def derive_tool(fn: Callable[..., Any], **options: Any) -> Tool:
    """``Tool.from_function(fn, **options)``, with the derived parts (argument model, schemas, context and
    resolver parameters) shared with earlier registrations of a function with the same code, signature
    (annotations and defaults, by value) and options (by value); the returned tool calls ``fn`` itself. A
    callable without ``__code__`` is derived every time.

    Raises:
        ValueError, InvalidSignature: as ``Tool.from_function`` (nothing is kept then).
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return Tool.from_function(fn, **options)
    signature = (fn.__annotations__, getattr(fn, "__defaults__", None), getattr(fn, "__kwdefaults__", None))
    key = (code, fn.__module__, fn.__qualname__, repr(signature), repr(sorted(options.items())))
    with _lock:
        template = _definitions.get(key)
    if template is None:
        template = Tool.from_function(fn, **options)
        with _lock:
            if len(_definitions) >= MAX_DEFINITIONS:
                _definitions.clear()
            _definitions[key] = template
    return template.model_copy(update={"fn": fn})


class DerivingToolManager(ToolManager):
    """The SDK's tool manager, deriving each tool's definition with :func:`derive_tool`."""

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> Tool:
        tool = derive_tool(
            fn,
            name=name,
            title=title,
            description=description,
            annotations=annotations,
            icons=icons,
            meta=meta,
            structured_output=structured_output,
        )
        existing = self._tools.get(tool.name)
        if existing:
            if self.warn_on_duplicate_tools:
                logger.warning(f"Tool already exists: {tool.name}")
            return existing
        self._tools[tool.name] = tool
        return tool


def _kept(store: dict[tuple[Any, ...], Any], key: tuple[Any, ...], derive: Callable[[], Any]) -> Any:
    """``store[key]``, derived (outside the lock) and kept if absent; the store is cleared when full."""
    with _lock:
        kept = store.get(key)
    if kept is None:
        kept = derive()
        with _lock:
            if len(store) >= MAX_DEFINITIONS:
                store.clear()
            store[key] = kept
    return kept


def derive_template(fn: Callable[..., Any], **options: Any) -> ResourceTemplate:
    """``ResourceTemplate.from_function(fn, **options)``, derived once per function object and options (by
    value); each call returns its own copy. A closure or a callable object is derived every time. Raises
    as ``ResourceTemplate.from_function``."""
    if getattr(fn, "__closure__", None) is not None or not hasattr(fn, "__code__"):
        return ResourceTemplate.from_function(fn, **options)  # a closure is new for each server: not kept
    key = (fn, repr(sorted(options.items())))
    template: ResourceTemplate = _kept(_templates, key, lambda: ResourceTemplate.from_function(fn, **options))
    return template.model_copy()


def derive_prompt(fn: Callable[..., Any], **options: Any) -> Prompt:
    """``Prompt.from_function(fn, **options)``, derived once per function object and options (by value);
    each call returns its own copy. A closure or a callable object is derived every time. Raises as
    ``Prompt.from_function``."""
    if getattr(fn, "__closure__", None) is not None or not hasattr(fn, "__code__"):
        return Prompt.from_function(fn, **options)  # a closure is new for each server: not kept
    key = (fn, repr(sorted(options.items())))
    prompt: Prompt = _kept(_prompts, key, lambda: Prompt.from_function(fn, **options))
    return prompt.model_copy()


class DerivingResourceManager(ResourceManager):
    """The SDK's resource manager, deriving each template with :func:`derive_template` (a template of a
    closure is derived every time: a new closure is a new function object)."""

    def add_template(
        self,
        fn: Callable[..., Any],
        uri_template: str,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        icons: list[Icon] | None = None,
        annotations: Annotations | None = None,
        meta: dict[str, Any] | None = None,
        security: ResourceSecurity = DEFAULT_RESOURCE_SECURITY,
    ) -> ResourceTemplate:
        template = derive_template(
            fn,
            uri_template=uri_template,
            name=name,
            title=title,
            description=description,
            mime_type=mime_type,
            icons=icons,
            annotations=annotations,
            meta=meta,
            security=security,
        )
        self._templates[template.uri_template] = template
        return template


__all__ = [
    "MAX_DEFINITIONS",
    "DerivingResourceManager",
    "DerivingToolManager",
    "derive_prompt",
    "derive_template",
    "derive_tool",
]
