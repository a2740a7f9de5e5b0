"""The sandbox owner templates render in, and the budget every render keeps to.

A template is checked once with sample data, but it runs on whatever data reaches it: a branch that
only loops for some customers, or a padding trick ("{{ x|center(10**9) }}"), must fail fast as a
template error instead of hanging a worker or allocating gigabytes. So every render is bounded from
the inside, in the worker's own thread (no signals):

- time: each loop step, call, filter, attribute lookup and output checks a per-render deadline on the
  thread's CPU clock (so a busy machine does not fail a normal template);
- work: loop steps per render, range() lengths and the characters a render emits (counting text that
  macros or ``{% set %}`` blocks buffer) are capped;
- size: widths, repetitions and intermediate strings/lists are capped *before* the operation that
  would allocate them.
"""
from __future__ import annotations

import re
import string
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import wraps
from typing import Any

import jinja2
from jinja2 import StrictUndefined, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from jinja2.utils import _PassArg, pass_context

MAX_BODY_LENGTH = 1600  # Twilio rejects longer message bodies
MAX_OUTPUT_CHARS = 2 * MAX_BODY_LENGTH  # a render stops here: room for whitespace that tidying removes
MAX_RENDER_SECONDS = 0.05  # CPU time of one render
MAX_LOOP_STEPS = 1000  # loop iterations in one render, all loops together
MAX_EMITTED_CHARS = 50_000  # text produced in one render, counting what macros and blocks buffer
_MAX_REPEAT_LENGTH = 10_000  # cap on any intermediate string or sequence ("x" * n, ns.s ~ ns.s, ...)
_MAX_POWER_BITS = 4096  # cap on int ** int and int * int results for the same reason (CPU)
_MAX_WIDTH = MAX_BODY_LENGTH  # widths, paddings and precisions: nothing wider than a whole SMS
_CHECK_EVERY = 16  # read the clock every so many steps: it costs a system call

# Filters whose number arguments are widths, counts or indents (the value itself is not checked).
_WIDTH_FILTERS = frozenset({"center", "indent", "wordwrap", "truncate", "slice", "batch", "tojson", "format"})
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBERS = re.compile(r"\d+")


MAX_CALL_DEPTH = 64  # nested calls a render may make; real templates nest a few


class BudgetExceeded(SecurityError):
    """A render went over its time, work or size budget."""


class _Budget(threading.local):
    """This thread's current render; ``deadline`` is None outside ``rendering``."""

    deadline: float | None = None
    steps = 0
    loop_steps = 0
    emitted = 0
    depth = 0  # calls (macros, recursive loops) running inside one another


_BUDGET = _Budget()


class rendering:
    """``with rendering():`` puts the template renders inside on this thread's budget."""

    def __enter__(self) -> None:
        _BUDGET.deadline = time.thread_time() + MAX_RENDER_SECONDS
        _BUDGET.steps = _BUDGET.loop_steps = _BUDGET.emitted = _BUDGET.depth = 0

    def __exit__(self, *exc: object) -> None:
        _BUDGET.deadline = None


def _tick() -> None:
    """One step of work: now and then, check the clock."""
    if _BUDGET.deadline is None:
        return
    _BUDGET.steps += 1
    if _BUDGET.steps % _CHECK_EVERY == 0 and time.thread_time() > _BUDGET.deadline:
        raise BudgetExceeded(f"takes longer than {MAX_RENDER_SECONDS * 1000:.0f} ms to render")


def _size(value: Any, limit: int = _MAX_REPEAT_LENGTH) -> int:
    """Characters/items in ``value``, nested containers included; stops counting past ``limit``."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, Mapping):
        value = list(value.values())
    if not isinstance(value, (list, tuple, set, frozenset)):
        return 1
    total = len(value)
    for item in value:
        if total > limit:
            break
        total += _size(item, limit - total)
    return total


_SCALARS = frozenset({int, float, bool, type(None)})


def _bounded(value: Any) -> Any:
    """``value`` if it is small enough to keep working with."""
    if type(value) in _SCALARS or (type(value) is str and len(value) <= _MAX_REPEAT_LENGTH):
        return value  # the common case, first: this runs on every attribute lookup
    if _BUDGET.deadline is not None and _size(value) > _MAX_REPEAT_LENGTH:
        raise BudgetExceeded(f"a value longer than {_MAX_REPEAT_LENGTH} characters or items")
    return value


def _check_width(number: Any) -> None:
    if isinstance(number, int) and not isinstance(number, bool) and abs(number) > _MAX_WIDTH:
        raise BudgetExceeded(f"width {number} is over {_MAX_WIDTH}")


def _check_percent_format(text: Any) -> None:
    """'%999999999s' % x pads to a billion characters; '%*s' takes its width from the data."""
    if not isinstance(text, str):
        return
    for match in _PERCENT_SPEC.finditer(text):
        for width in match.groups():
            if width == "*":
                raise BudgetExceeded("'*' widths are not allowed")
            if width:
                _check_width(int(width))


def _check_format_spec(text: str) -> None:
    """'{:>999999999}'.format(x), and '{:{}}' whose width comes from the data."""
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format itself reports the broken format string
    for _literal, _field, spec, _conversion in fields:
        if spec and "{" in spec:
            raise BudgetExceeded("nested format widths are not allowed")
        for width in _NUMBERS.findall(spec or ""):
            _check_width(int(width))


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str) and len(new) > len(old):
        grows = (len(text) // max(len(old), 1) + 1) * (len(new) - len(old))
        if len(text) + grows > _MAX_REPEAT_LENGTH:
            raise BudgetExceeded("replacement makes the text too long")


def _check_str_method(method: Any, args: tuple) -> None:
    """Padding and replacement methods of strings, called from the template."""
    receiver, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    if not isinstance(receiver, str):
        return
    if name in _PADDING_METHODS and args:
        _check_width(args[0] * (len(receiver) if name == "expandtabs" else 1))
    elif name == "replace" and len(args) >= 2:
        _check_replace(receiver, args[0], args[1])
    elif name == "join" and args:
        _check_width(len(receiver) * _size(args[0]))


def _bounded_filter(name: str, func: Callable) -> Callable:
    """``func`` with its arguments checked first and its result checked after."""
    skip = 1 if _PassArg.from_obj(func) is not None else 0  # environment/context comes before the value

    @wraps(func)
    def checked(*args: Any, **kwargs: Any) -> Any:
        if _BUDGET.deadline is None:  # Jinja folding constants at compile time: unchecked, so not here
            raise BudgetExceeded("filters run only inside a render")
        _tick()
        value, extra = args[skip] if len(args) > skip else None, (*args[skip + 1:], *kwargs.values())
        _bounded(value)
        for arg in extra:
            _bounded(arg)
            if name in _WIDTH_FILTERS:
                _check_width(arg)
        if name == "indent" and extra and isinstance(extra[0], str):
            _check_width(len(extra[0]) * (value.count("\n") + 1 if isinstance(value, str) else 1))
        if name == "format":
            _check_percent_format(value)
        if name == "replace" and len(extra) >= 2:
            _check_replace(value, extra[0], extra[1])
        return _bounded(func(*args, **kwargs))
    return checked


@pass_context
def _counted_text(_context: Any, text: str) -> str:
    """Template text, produced at run time so that loops and macros pay for it."""
    return text


def _counted_loop(iterable: Iterable) -> Iterator:
    """Every loop iterates through this: it pays one step per item."""
    for item in _bounded(iterable) if isinstance(iterable, (str, list, tuple)) else iterable:
        _tick()
        _BUDGET.loop_steps += 1
        if _BUDGET.deadline is not None and _BUDGET.loop_steps > MAX_LOOP_STEPS:
            raise BudgetExceeded(f"loops run more than {MAX_LOOP_STEPS} times")
        yield item


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_LOOP_STEPS:
        raise BudgetExceeded(f"range() of more than {MAX_LOOP_STEPS} numbers")
    return numbers


def _emit(value: Any) -> Any:
    """Every ``{{ }}`` output and every piece of template text passes here (Jinja's finalize)."""
    if _BUDGET.deadline is not None:
        _tick()
        _BUDGET.emitted += len(value) if isinstance(value, str) else 1
        if _BUDGET.emitted > MAX_EMITTED_CHARS:
            raise BudgetExceeded(f"produces more than {MAX_EMITTED_CHARS} characters")
        _bounded(value)
    return value


class SmsSandbox(SandboxedEnvironment):
    """The stock sandbox blocks attribute escapes; this also keeps every render on its budget."""

    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_emit, **options)
        self.filters = {name: _bounded_filter(name, func) for name, func in self.filters.items()}
        self.filters["_counted_loop"] = _counted_loop
        self.filters["_counted_text"] = _counted_text
        self.globals["range"] = _bounded_range
        del self.globals["lipsum"]  # lipsum(10**6) writes a book

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        """Route loops and template text through the counters before compiling."""
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_counted_loop", [], [], None, None, lineno=loop.lineno)
        # Text at the top level streams out and render_bounded stops it; text that is repeated or
        # buffered (loops, macros, blocks) is counted as it is produced.
        for block in source.find_all(_REPEATED_OR_BUFFERED):
            for output in block.find_all(nodes.Output):
                output.nodes = [_counted(child) if isinstance(child, nodes.TemplateData) else child
                                for child in output.nodes]
        return super()._generate(source, name, filename, defer_init)

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        _tick()
        if operator_ == "**":
            if isinstance(left, int) and isinstance(right, int) \
                    and left.bit_length() * right > _MAX_POWER_BITS:
                raise SecurityError("number too large")
            return left**right
        if operator_ == "*":
            _check_repeat(left, right)
        if operator_ == "%":
            _check_percent_format(left)
        return _bounded(self.binop_table[operator_](left, right))

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        return _bounded(super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return _bounded(super().getitem(obj, argument))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        for arg in (*args, *kwargs.values()):
            _bounded(arg)
        _check_str_method(__obj, args)
        # A call in a call in a call: recursion, refused by its depth at once, where Python's own
        # limit came after tens of ms (and on a busy machine after the time budget).
        if _BUDGET.depth >= MAX_CALL_DEPTH:
            raise BudgetExceeded(f"recursion: calls nested more than {MAX_CALL_DEPTH} deep")
        _BUDGET.depth += 1
        try:
            return _bounded(super().call(__context, __obj, *args, **kwargs))
        finally:
            _BUDGET.depth -= 1

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapper = super().wrap_str_format(value)
        if wrapper is not None:
            _check_format_spec(value.__self__)
        return wrapper


_REPEATED_OR_BUFFERED = (nodes.For, nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.AssignBlock)


def _counted(text: nodes.TemplateData) -> nodes.Expr:
    return nodes.Filter(nodes.Const(text.data), "_counted_text", [], [], None, None, lineno=text.lineno)


def _check_repeat(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) \
            and left.bit_length() + right.bit_length() > _MAX_POWER_BITS:
        raise SecurityError("number too large")
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int) \
                and _size(seq) * count > _MAX_REPEAT_LENGTH:
            raise SecurityError("repeated sequence too long")


# One environment for the process: compiled templates and filters are shared.
ENV = SmsSandbox(
    undefined=StrictUndefined,
    autoescape=False,  # SMS is plain text, HTML escaping would show "&amp;"
    keep_trailing_newline=False,
    trim_blocks=True,  # a "{% if %}" on its own line leaves no blank line
    lstrip_blocks=True,
)


def render_bounded(template: jinja2.Template, context: dict) -> tuple[str, bool]:
    """The rendered text, and whether it was cut at MAX_OUTPUT_CHARS (rendering stops there)."""
    parts: list[str] = []
    size = 0
    with rendering():
        for chunk in template.generate(context):
            parts.append(chunk)
            size += len(chunk)
            if size > MAX_OUTPUT_CHARS:
                return "".join(parts)[:MAX_OUTPUT_CHARS], True
    return "".join(parts), False
