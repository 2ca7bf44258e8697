"""Export metrics of a time window from the ClickHouse store as OpenMetrics text, the input of
`promtool tsdb create-blocks-from openmetrics FILE DATA` (Prometheus backfill).

What promtool needs, and what this writes:
- every sample of a family under one `# TYPE` line (families are contiguous);
- counters as `# TYPE x counter` with samples named `x_total`; histograms as
  `# TYPE x histogram` with `x_bucket{le=…}`, `x_sum`, `x_count`; everything else a gauge;
- each series' samples in time order, timestamps in seconds (the store keeps milliseconds;
  promtool would read them as seconds);
- a final `# EOF`.
ClickHouse renders the lines and they stream block by block to the file, so a window of millions
of samples never sits in memory as one string.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final, Literal

from hexaops.platform.errors import InvalidInput
from hexaops.platform.telemetry.clickhouse import AllTenants, ClickHouseStore, Tenant

MetricType = Literal["counter", "gauge", "histogram"]

_FIXED_LABELS: Final = ("org", "workspace", "namespace", "pod", "container")
_HISTOGRAM_SUFFIXES: Final = ("_bucket", "_sum", "_count")


@dataclass(frozen=True)
class Family:
    name: str  # the family name of `# TYPE` (without _total / _bucket / _sum / _count)
    type: MetricType
    metrics: tuple[str, ...]  # sample names of the family, in export order


@dataclass(frozen=True)
class ExportStats:
    families: int
    samples: int


def families_of(names: Iterable[str]) -> list[Family]:
    """Group metric names into OpenMetrics families by the naming convention (SCHEMA.md):
    `<x>_bucket` makes `<x>` a histogram (with `<x>_sum`, `<x>_count`), `<x>_total` a counter,
    anything else a gauge. Families come out sorted by name."""
    present = set(names)
    histograms = {n[: -len("_bucket")] for n in present if n.endswith("_bucket")}
    grouped: dict[str, tuple[MetricType, list[str]]] = {}
    for name in sorted(present):
        family: str
        kind: MetricType
        base = next(
            (name[: -len(s)] for s in _HISTOGRAM_SUFFIXES if name.endswith(s)),
            None,
        )
        if base is not None and base in histograms:
            family, kind = base, "histogram"
        elif name.endswith("_total") and len(name) > len("_total"):
            family, kind = name[: -len("_total")], "counter"
        else:
            family, kind = name, "gauge"
        if family in grouped and grouped[family][0] != kind:
            # e.g. a gauge `x` next to a counter `x_total`: one family name can't be both.
            raise InvalidInput(f"metrics {grouped[family][1]} and {name} clash as family {family}")
        grouped.setdefault(family, (kind, []))[1].append(name)
    return [Family(f, kind, tuple(ms)) for f, (kind, ms) in sorted(grouped.items())]


def _escaped(sql: str) -> str:
    """SQL: an OpenMetrics label value — backslash, double quote and newline escaped."""
    # In ClickHouse string literals a backslash escapes: '\\' is one backslash.
    return (
        "replaceAll(replaceAll(replaceAll("
        + sql
        + r""", '\\', '\\\\'), '"', '\\"'), '\n', '\\n')"""
    )


def _line_sql() -> str:
    """SQL rendering one sample as an OpenMetrics line, newline included.

    ClickHouse renders the lines so the export runs at ~1M samples/s; Python only copies the
    text. Labels: the fixed columns, then the labels map sorted by key; empty values are left out
    (Prometheus treats an empty label as absent), map keys that repeat a fixed column or start
    with "__" are dropped, other invalid label-name characters become "_"."""
    fixed = ", ".join(
        f"if({c} = '', '', concat('{c}=\"', {_escaped(c)}, '\"'))" for c in _FIXED_LABELS
    )
    reserved = ", ".join(f"'{c}'" for c in _FIXED_LABELS)
    mapped = (
        f"arrayMap((k, v) -> if(v = '' OR k IN ({reserved}) OR startsWith(k, '__'), '',"
        f" concat(replaceRegexpAll(if(match(k, '^[0-9]'), concat('_', k), k), '[^A-Za-z0-9_]', '_'),"
        f" '=\"', {_escaped('v')}, '\"')), mapKeys(mapSort(labels)), mapValues(mapSort(labels)))"
    )
    labels = f"arrayStringConcat(arrayFilter(x -> x != '', [{fixed}] || {mapped}), ',')"
    value = (
        "multiIf(isNaN(value), 'NaN', isInfinite(value), if(value > 0, '+Inf', '-Inf'),"
        " toString(value))"
    )
    # Seconds with millisecond precision; Float64 prints the shortest exact form (…260.123).
    seconds = "toString(toUnixTimestamp64Milli(ts) / 1000)"
    return f"concat(name, '{{', {labels}, '}} ', {value}, ' ', {seconds}, '\\n')"


def export_openmetrics(
    store: ClickHouseStore,
    path: Path,
    start: datetime,
    end: datetime,
    scope: Tenant | AllTenants,
) -> ExportStats:
    """Write the metrics of `scope` in [start, end] to `path` as OpenMetrics text."""
    families = families_of(store.metric_names(scope, start, end))
    order = [m for f in families for m in f.metrics]
    # Position of each family's first metric in `order`: rows arrive sorted by name position,
    # so a block splits into per-family runs by bisecting its (sorted) position column.
    family_starts = [0]
    for family in families[:-1]:
        family_starts.append(family_starts[-1] + len(family.metrics))
    samples = 0
    current = -1
    blocks = (
        store.stream_metrics(
            scope, start, end, order, ["indexOf({names:Array(String)}, name) - 1", _line_sql()]
        )
        if order
        else iter(())
    )
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for positions, lines in blocks:
            i, n = 0, len(lines)
            while i < n:
                fi = bisect_right(family_starts, positions[i]) - 1
                if fi != current:
                    out.write(f"# TYPE {families[fi].name} {families[fi].type}\n")
                    current = fi
                next_start = family_starts[fi + 1] if fi + 1 < len(families) else len(order)
                j = bisect_left(positions, next_start, i)
                out.write("".join(lines[i:j]))
                i = j
            samples += n
        out.write("# EOF\n")
    return ExportStats(families=len(families), samples=samples)
