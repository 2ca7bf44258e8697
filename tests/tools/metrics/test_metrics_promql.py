"""The PromQL tenant rewriter on its own: every selector gets the tenant matchers, whatever
the syntax around it; what it cannot read safely is refused. And the pod → workload rule."""

from __future__ import annotations

import re

import pytest

from hexaops.platform.errors import InvalidInput
from hexaops.tools.metrics.promql import enforce_tenant, tokenize
from hexaops.tools.metrics.workloads import pod_pattern, workload_of

TENANT = ['org="acme"', 'workspace=~"acme-prod|acme-staging"']
T = ",".join(TENANT)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("up", f"up{{{T}}}"),
        ('x{code=~"5.."}', f'x{{code=~"5..",{T}}}'),
        ('{__name__=~"container_.*"}', f'{{__name__=~"container_.*",{T}}}'),
        ('x{org="globex"}', f'x{{org="globex",{T}}}'),  # ANDed: matches nothing
        ('x{"odd.name"}', f'x{{"odd.name",{T}}}'),
        (
            "sum by (pod) (rate(x[5m] offset 1h))",
            f"sum by(pod)(rate(x{{{T}}}[5m] offset 1h))",
        ),
        (
            "a / on(pod) group_left(node) b",
            f"a{{{T}}} / on(pod) group_left(node) b{{{T}}}",
        ),
        ("a and on() group_right b", f"a{{{T}}} and on() group_right b{{{T}}}"),
        ("sum(x) without (by, on)", f"sum(x{{{T}}}) without(by, on)"),
        (
            "max_over_time(rate(x[5m])[1h:1m]) @ end()",
            f"max_over_time(rate(x{{{T}}}[5m])[1h : 1m]) @ end()",
        ),
        ("x > bool 1e3 + 0x1f * Inf - NaN", f"x{{{T}}} > bool 1e3 + 0x1f * Inf - NaN"),
        ("job:requests:rate5m", f"job:requests:rate5m{{{T}}}"),
        ('count_values("v", x)', f'count_values("v", x{{{T}}})'),
        (
            'label_replace(x, "a", "$1", "b", "(.*)")',
            f'label_replace(x{{{T}}}, "a", "$1", "b", "(.*)")',
        ),
        ('x # a comment with {org=~".+"}\n+ y', f"x{{{T}}} + y{{{T}}}"),
        ('x{a="}{org=~\\".+\\"", b=`c`}', f'x{{a="}}{{org=~\\".+\\"",b=`c`,{T}}}'),
        ("x @ 1609746000", f"x{{{T}}} @ 1609746000"),
    ],
)
def test_every_selector_gets_the_tenant(query: str, expected: str) -> None:
    assert enforce_tenant(query, TENANT) == expected


@pytest.mark.parametrize(
    "query",
    [
        "",
        "# only a comment",
        "sum(x",
        "x)",
        "x}",
        "x{",
        'x{a~"b"}',
        "x{a=b}",
        'x{a="b" c="d"}',
        'by{a="b"}',
        "sum by x",
        "x @ y",
        'x{a="unterminated}',
        "x $ y",
        "x ; drop",
        "rate(x[5m]]",
        "sum by (a=b) (x)",
        "x" * 5000,
    ],
)
def test_what_cannot_be_read_safely_is_refused(query: str) -> None:
    with pytest.raises(InvalidInput):
        enforce_tenant(query, TENANT)


def test_numbers_and_durations_are_not_metric_names() -> None:
    kinds = [t.kind for t in tokenize("1h30m 5m 1.5e-3 0x1F inf NaN .5")]
    assert kinds == ["duration", "duration", "number", "number", "number", "number", "number"]


@pytest.mark.parametrize(
    ("pod", "workload"),
    [
        ("checkout-60f02de35c-b9cd3", "checkout"),  # sandbox: hex digests
        ("checkout-api-60f02de35c-b9cd3", "checkout-api"),
        ("coredns-5d78c9869d-kq8wz", "coredns"),  # Deployment
        ("web-frontend-x7k2p", "web-frontend"),  # DaemonSet: a word is not a hash
        ("redis-0", "redis"),  # StatefulSet
        ("standalone", "standalone"),
    ],
)
def test_pod_to_workload_rule(pod: str, workload: str) -> None:
    assert workload_of(pod) == workload
    if pod != workload:
        assert re.fullmatch(pod_pattern(workload), pod)
    assert not re.fullmatch(pod_pattern("checkout"), "checkout-api-60f02de35c-b9cd3")
