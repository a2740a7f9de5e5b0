"""Templates are owners' code run on customers' data: the sandbox refuses unsafe access, and a
budget of time, work and size holds whatever data reaches the template."""

import threading
import time

import pytest

from smsdesk.services.template_budget import MAX_CALL_DEPTH
from smsdesk.services.templates import TemplateError, build_context, render_message, sample_context, validate_template

# --- sandbox ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ store.name.__class__ }}",
        "{{ range.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ 'x' * 100000000 }}",  # memory
        "{{ 99 ** 99 ** 99 ** 99 }}",  # CPU (Jinja reads it left to right)
    ],
)
def test_sandbox_blocks_unsafe_access(body):
    with pytest.raises(TemplateError):
        render_message(body, sample_context())
    with pytest.raises(TemplateError):
        validate_template(body)


def test_sandbox_error_is_reported_as_not_allowed():
    with pytest.raises(TemplateError) as err:
        render_message("ok\n{{ ''.__class__ }}", {})
    assert err.value.line == 2
    assert "unsafe" in err.value.reason


# --- budget: time, work and size, whatever data reaches the template ---------------------------------

FAN_OUT = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}"
NESTED_LOOPS = "{% for a in range(999) %}{% for b in range(999) %}{{ b }}{% endfor %}{% endfor %}"


def rendering_fails_fast(body: str, context=None) -> TemplateError:
    """The render refuses ``body`` within a second of CPU (the budget is 50 ms of the thread's
    CPU time; wall time on a loaded machine says nothing about the template)."""
    start = time.thread_time()
    with pytest.raises(TemplateError) as err:
        render_message(body, sample_context() if context is None else context)
    assert time.thread_time() - start < 1, body
    return err.value


@pytest.mark.parametrize(("body", "reason"), [
    ("{{ '%999999999s' % customer.first_name }}", "width 999999999 is over 1600"),
    ("{{ '%-99999s' % customer.first_name }}", "width 99999 is over 1600"),
    ("{{ '%.99999f' % 1.5 }}", "width 99999 is over 1600"),
    ("{{ '%*s' % (999999999, customer.first_name) }}", "'*' widths are not allowed"),
    ("{{ '%999999999s'|format(customer.first_name) }}", "width 999999999 is over 1600"),
    ("{{ '{:>999999999}'.format(customer.first_name) }}", "width 999999999 is over 1600"),
    ("{{ '{0:{1}}'.format(customer.first_name, 999999999) }}", "nested format widths are not allowed"),
    ("{{ '{:>999999999}'.format_map(order) }}", "width 999999999 is over 1600"),
    ("{{ 'x' * 10**9 }}", "repeated sequence too long"),
    ("{{ [customer.first_name] * 10**9 }}", "repeated sequence too long"),
    ("{{ customer.first_name|center(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name.center(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name.ljust(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name.rjust(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name.zfill(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name|indent(10**9, true) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name|wordwrap(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ customer.first_name|truncate(10**9) }}", "width 1000000000 is over 1600"),
    ("{{ order|tojson(indent=10**9) }}", "width 1000000000 is over 1600"),
    ("{{ range(9)|slice(10**9)|list }}", "width 1000000000 is over 1600"),
    ("{{ ('x' * 9000).replace('', 'y' * 9000) }}", "replacement makes the text too long"),
    ("{{ ('x' * 9000)|replace('', 'y' * 9000) }}", "replacement makes the text too long"),
    ("{{ ('x' * 900).join(customer.first_name * 3) }}", "width 10800 is over 1600"),
    ("{{ (2**4000) * (2**4000) }}", "number too large"),
    ("{{ lipsum(10**6) }}", "unknown variable 'lipsum'"),
])
def test_padding_tricks_are_refused(body, reason):
    assert reason in rendering_fails_fast(body).reason


@pytest.mark.parametrize(("body", "reason"), [
    ("{% for i in range(10**9) %}x{% endfor %}", "range() of more than 1000 numbers"),
    (NESTED_LOOPS, "loops run more than 1000 times"),
    ("{% for c in ('x' * 999) %}{% for d in ('y' * 999) %}{% endfor %}{% endfor %}", "loops run more than 1000"),
    ("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
     "a value longer than 10000"),
    ("{% set ns = namespace(l=[1]) %}{% for i in range(60) %}{{ ns.l.extend(ns.l) }}{% endfor %}",
     "a value longer than 10000"),
    ("{% set x %}{% for i in range(999) %}{{ 'y' * 9999 }}{% endfor %}{% endset %}{{ x|length }}",
     "produces more than 50000 characters"),
    ("{% macro m() %}{% for i in range(999) %}" + "y" * 99 + "{% endfor %}{% endmacro %}{{ m()|length }}",
     "produces more than 50000 characters"),
    ("{{ ([[0] * 5000] * 5000)|join }}", "repeated sequence too long"),
    ("{% for i in range(999) %}{{ 'x' * 999 }}{% endfor %}", "message is longer than 3200 characters"),
])
def test_repetition_is_refused(body, reason):
    assert reason in rendering_fails_fast(body).reason


@pytest.mark.parametrize(("body", "reason"), [
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion"),
    ("{% macro d(s) %}{{ d(s ~ s) }}{% endmacro %}{{ d(customer.first_name) }}", "a value longer than 10000"),
    ("{% for x in [1] recursive %}{{ loop([1, 2]) }}{% endfor %}", "recursion"),
    (FAN_OUT + "{{ f(40) }}", "takes longer than 50 ms to render"),  # 2**40 calls, no loop, tiny output
])
def test_recursion_is_refused(body, reason):
    assert reason in rendering_fails_fast(body).reason


def test_recursion_is_refused_by_its_depth_not_by_the_clock():
    """Depth is counted, not timed: the same reason however busy the machine is."""
    assert rendering_fails_fast("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}").reason == (
        f"recursion: calls nested more than {MAX_CALL_DEPTH} deep")


def test_bounded_recursion_within_the_depth_renders():
    body = "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{% endif %}x{% endmacro %}{{ f(" + str(MAX_CALL_DEPTH - 2) + ") }}"
    assert render_message(body, sample_context()) == "x" * (MAX_CALL_DEPTH - 1)


def customer_named(name: str) -> dict:
    return build_context(store={"name": "Acme"}, customer={"first_name": name}, order={"number": "1", "total": "54.00"})


@pytest.mark.parametrize(("body", "context", "reason"), [
    # Only a customer who is not the sample's "Emma" takes the branch.
    ("{% if customer.first_name != 'Emma' %}" + NESTED_LOOPS + "{% endif %}Hi", customer_named("Zed"),
     "loops run more than 1000 times"),
    (FAN_OUT + "{% if customer.first_name != 'Emma' %}{{ f(40) }}{% endif %}Hi", customer_named("Zed"),
     "takes longer than 50 ms"),
    # A loop as long as the data: fine for the sample's 54.00, not for a big order.
    ("{% for i in range(order.total|int) %}*{% endfor %}", build_context(order={"total": "99999"}),
     "range() of more than 1000 numbers"),
    ("{% for c in customer.first_name %}{% for d in customer.first_name %}.{% endfor %}{% endfor %}",
     customer_named("Z" * 500), "loops run more than 1000 times"),
    ("{{ (customer.first_name * 300)|length }}", customer_named("Zed" * 2000), "repeated sequence too long"),
])
def test_data_dependent_branches_fail_for_the_customer_that_takes_them(body, context, reason):
    validate_template(body)  # the sample data passes: only the real data shows the problem
    assert reason in rendering_fails_fast(body, context).reason


def test_budget_holds_in_a_worker_thread():
    """The deadline is per thread and needs no signal, so a job's worker thread is bounded too."""
    errors: list[TemplateError] = []

    def render() -> None:
        try:
            render_message(FAN_OUT + "{{ f(40) }}", sample_context())
        except TemplateError as exc:
            errors.append(exc)
    worker = threading.Thread(target=render, daemon=True)
    worker.start()
    worker.join(timeout=30)  # unbounded, f(40) runs for hours; a loaded machine still ends in time
    assert not worker.is_alive()
    assert "takes longer than 50 ms" in errors[0].reason


@pytest.mark.parametrize(("body", "expected"), [
    ("{{ '%05d' % 42 }} {{ '%.2f' % 3.14159 }} {{ '{:>6}'.format('ab') }}", "00042 3.14 ab"),
    ("{{ 'ab'|center(6) }}|{{ 'ab' * 3 }}|{{ order.number|int + 1 }}", "ab |ababab|1043"),
    ("{% for i in range(3) %}{{ i }}{% endfor %} {% for c in 'abc' %}{{ c|upper }}{% endfor %}", "012 ABC"),
    ("{% macro hi(n) %}Hi {{ n }}{% endmacro %}{{ hi(customer.first_name) }}", "Hi Emma"),
    ("{% set s %}{% for i in range(3) %}x{% endfor %}{% endset %}{{ s }}", "xxx"),
    ("{{ customer.first_name|truncate(9) }} {{ ['a', 'b']|join(', ') }}", "Emma a, b"),
])
def test_ordinary_formatting_still_works(body, expected):
    assert render_message(body, sample_context()) == expected


def test_a_budget_error_names_its_line():
    err = rendering_fails_fast("Hi\n{{ 'x' * 10**9 }}")
    assert err.line == 2
