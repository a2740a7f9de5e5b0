"""Safe rendering of owner templates (the kinds and their default texts: template_kinds).

Pure functions, no DB and no Flask. Owners edit message bodies as Jinja2
templates; they are rendered in a sandbox with StrictUndefined so a typo is an
error in the editor, never a silently broken text to a customer, and within a
time and size budget (template_budget) whatever data reaches them.
"""

from __future__ import annotations

import functools
import re
import traceback
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SecurityError

from smsdesk.services.back_time import back_at_text
from smsdesk.services.template_budget import ENV, MAX_BODY_LENGTH, MAX_OUTPUT_CHARS, BudgetExceeded, render_bounded
from smsdesk.services.template_kinds import NAMESPACES, VARIABLES

# The sample back time: closed on a Saturday, back on Monday at 9:00.
SAMPLE_NOW, SAMPLE_BACK = datetime(2026, 12, 5, 15, tzinfo=timezone.utc), datetime(2026, 12, 7, 9, tzinfo=timezone.utc)

# --------------------------------------------------------------------------
# Contexts
# --------------------------------------------------------------------------


def empty_context() -> dict[str, dict[str, Any]]:
    """Every variable present and empty, so templates can test ``{% if x %}``."""
    return {ns: {field: "" for field in fields} for ns, fields in NAMESPACES.items()}


def build_context(*, store: Mapping | None = None, customer: Mapping | None = None,
                  order: Mapping | None = None, tracking: Mapping | None = None,
                  cart: Mapping | None = None, shipment: Mapping | None = None,
                  refund: Mapping | None = None) -> dict[str, dict[str, Any]]:
    """Merge the given plain dicts over ``empty_context()``.

    None values become "" because a template would otherwise print "None".
    """
    context = empty_context()
    parts = {"store": store, "customer": customer, "order": order,
             "tracking": tracking, "cart": cart, "shipment": shipment, "refund": refund}
    for ns, values in parts.items():
        for key, value in (values or {}).items():
            context[ns][key] = "" if value is None else value
    return context


def sample_context(store_name: str = "Acme Outfitters", language: str = "en") -> dict[str, dict[str, Any]]:
    """Realistic data for previews and for validating a template once; the away message's back
    time as a customer reading ``language`` gets it."""
    context = build_context(
        store={"name": store_name,
               "support_contact": "support@shop.example.com"},
        customer={"first_name": "Emma"},
        order={"number": "1042", "total": "54.00", "currency": "USD",
               "status_url": "https://shop.example.com/orders/1042"},
        tracking={"number": "1Z999AA10123456784", "company": "UPS",
                  "url": "https://www.ups.com/track?tracknum=1Z999AA10123456784"},
        cart={"recovery_url": "https://shop.example.com/cart/r/8f3a2c9d",
              "total": "54.00", "item_count": 2, "first_item": "Wool Mittens"},
        shipment={"partial": False, "item_count": 2, "order_item_count": 2,
                  "items": "Wool Mittens, Scarf"},
        refund={"amount": "54.00", "partial": False},
    ) | {"answer": {"status": "shipped", "text": "Returns are free within 30 days: acme.example/returns"}}
    context["hours"]["back_at"] = back_at_text(None, SAMPLE_BACK, SAMPLE_NOW, twelve_hour=language in ("en", "es"),
                                               language=language)  # "Monday at 9:00 AM"
    return context

# --------------------------------------------------------------------------
# Errors and the sandbox
# --------------------------------------------------------------------------


class TemplateError(ValueError):
    """A template that cannot be used; ``str()`` reads "line 2: <reason>"."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason
        self.line = line
        super().__init__(f"line {line}: {reason}" if line else reason)


_FORBIDDEN_NODES = (nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport)


@functools.lru_cache(maxsize=512)
def _compile(body: str) -> jinja2.Template:
    """Compile once per distinct body: bodies repeat for every message."""
    try:
        return ENV.from_string(body)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", exc.lineno) from None


# --------------------------------------------------------------------------
# Rendering and validation
# --------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Spanish times end in an abbreviation ("9:00 a. m."): its period also ends a sentence, so a
# template's own full stop after {{ hours.back_at }} is dropped (not an ellipsis).
_DOUBLE_STOP = re.compile(r"(\b[ap]\. m\.)\.(?!\.)")


def _tidy(text: str) -> str:
    """Collapse the whitespace empty variables and blocks leave behind."""
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r\n", "\n").split("\n"))
    return _DOUBLE_STOP.sub(r"\1", _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip())


def render_message(body: str, context: Mapping) -> str:
    """Render ``body`` with ``context`` within the render budget; raises TemplateError on any failure."""
    text, cut = render_preview(body, context)
    if cut:
        raise TemplateError(f"message is longer than {MAX_OUTPUT_CHARS} characters")
    return text


def render_preview(body: str, context: Mapping) -> tuple[str, bool]:
    """The rendered text and whether rendering stopped at MAX_OUTPUT_CHARS; raises TemplateError."""
    template = _compile(body)
    try:
        text, cut = render_bounded(template, dict(context))
    except jinja2.UndefinedError as exc:
        raise _undefined_error(body, context, exc) from None
    except BudgetExceeded as exc:
        raise TemplateError(exc.message or "over the render budget", _error_line(exc)) from None
    except SecurityError as exc:
        raise TemplateError(f"not allowed: {exc.message}", _error_line(exc)) from None
    except Exception as exc:  # a user template can raise anything (TypeError, RecursionError, ...)
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise TemplateError(reason, _error_line(exc)) from None
    return _tidy(text), cut


def _error_line(exc: BaseException) -> int | None:
    """Template line of a render error: Jinja rewrites tracebacks so the
    template's frames are named "<template>" and carry template line numbers."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<template>"]
    return frames[-1].lineno if frames else None


def _undefined_error(body: str, context: Mapping, exc: jinja2.UndefinedError) -> TemplateError:
    """Name the full dotted variable that failed ("order.numbr"), if we can."""
    for name, line in _variable_paths(_compile_ast(body)):
        if not _resolves(name, context):
            word = "unknown" if not _is_known(name) else "missing"
            return TemplateError(f"{word} variable '{name}'", line)
    return TemplateError(exc.message or "undefined variable", _error_line(exc))


def _resolves(name: str, context: Mapping) -> bool:
    """True if the dotted ``name`` exists in ``context``'s nested mappings."""
    value: Any = context
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return False
        value = value[part]
    return True


def validate_template(body: str) -> None:
    """Raise TemplateError unless ``body`` is a usable message template.

    Checks syntax, that every variable is one of VARIABLES (with its line),
    no include/import, and that it renders with sample data within
    MAX_BODY_LENGTH characters.
    """
    if not body or not body.strip():
        raise TemplateError("template is empty")
    for name, line in _checked_paths(body):
        if not _is_known(name):
            raise TemplateError(f"unknown variable '{name}'", line)
    text = render_message(body, sample_context())
    if not text:
        raise TemplateError("template renders to an empty message")
    if len(text) > MAX_BODY_LENGTH:
        raise TemplateError(
            f"message is {len(text)} characters long; the maximum is {MAX_BODY_LENGTH}")


def unknown_variables(body: str) -> list[str]:
    """The variables ``body`` uses that are not in VARIABLES, each once, in order of use;
    raises TemplateError for a syntax error or an include/import."""
    names = [name for name, _line in _checked_paths(body) if not _is_known(name)]
    return list(dict.fromkeys(names))


def _checked_paths(body: str) -> list[tuple[str, int]]:
    """The variables of a template that compiles and includes nothing; raises TemplateError."""
    _compile(body)  # syntax errors, with their line
    ast = _compile_ast(body)
    for node in ast.find_all(_FORBIDDEN_NODES):
        tag = type(node).__name__.lower().replace("fromimport", "import")
        raise TemplateError(f"'{tag}' is not allowed", node.lineno)
    return _variable_paths(ast)


@functools.lru_cache(maxsize=512)
def _compile_ast(body: str) -> nodes.Template:
    """Parsed AST of ``body`` (cached like ``_compile``), for static checks."""
    try:
        return ENV.parse(body)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", exc.lineno) from None


def _is_known(name: str) -> bool:
    """A full variable, or a bare namespace (``{% if tracking %}``)."""
    return name in VARIABLES or name in NAMESPACES


def _variable_paths(ast: nodes.Template) -> list[tuple[str, int]]:
    """Dotted context variables used by a template, with their lines, in order.

    ``meta.find_undeclared_variables`` only yields top-level names ("order");
    walking Getattr/Getitem chains recovers "order.numbr". Names the template
    defines itself ({% set %}, loop variables) and Jinja globals are skipped.
    """
    roots = meta.find_undeclared_variables(ast) - set(ENV.globals)
    found: list[tuple[str, int]] = []
    _walk(ast, roots, found)
    return sorted(found, key=lambda item: item[1])


def _walk(node: nodes.Node, roots: set[str], found: list[tuple[str, int]]) -> None:
    """Collect the outermost variable chains below ``node`` into ``found``."""
    if isinstance(node, nodes.Call) and isinstance(node.node, nodes.Getattr):
        # {{ customer.first_name.title() }}: the last attribute is a method
        # (the sandbox decides if it is safe), the variable is the rest.
        receiver = node.node.node
        if not _record(receiver, roots, found):
            _walk(receiver, roots, found)
        children = [*node.args, *node.kwargs, node.dyn_args, node.dyn_kwargs]
        for child in filter(None, children):
            _walk(child, roots, found)
        return
    if _record(node, roots, found):
        return
    for child in node.iter_child_nodes():
        _walk(child, roots, found)


def _record(node: nodes.Node, roots: set[str], found: list[tuple[str, int]]) -> bool:
    """Record ``node`` if it is a dotted variable chain; True if it was a chain."""
    path = _dotted(node)
    if path is None:
        return False
    if path[0] in roots:
        found.append((".".join(path), node.lineno))
    return True


def _dotted(node: nodes.Node) -> tuple[str, ...] | None:
    """("order", "number") for ``order.number`` / ``order['number']``, else None."""
    if isinstance(node, nodes.Name):
        return (node.name,)
    if isinstance(node, nodes.Getattr):
        base = _dotted(node.node)
        return None if base is None else base + (node.attr,)
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) \
            and isinstance(node.arg.value, str):
        base = _dotted(node.node)
        return None if base is None else base + (node.arg.value,)
    return None
