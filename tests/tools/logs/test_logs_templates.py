"""The template miner and the budgeted summary."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hexaops.platform.telemetry.records import LogRecord
from hexaops.tools.budget import compact_json, estimate_tokens
from hexaops.tools.logs.summary import mine, summarize
from hexaops.tools.logs.templates import TemplateMiner, mask, ranked

T0 = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("message", "masked"),
    [
        ("GET /api/v1/orders/12345 200 in 35ms", "GET /api/<*>/orders/<*> <*> in <*>"),
        ("connect to 10.42.0.17:5432 failed", "connect to <*> failed"),
        ("trace 4bf92f3577b34da6a3ce929d0e0e4736 done", "trace <*> done"),
        ("user 123e4567-e89b-12d3-a456-426614174000 logged in", "user <*> logged in"),
        ("free 0x7ffd5e8c bytes", "free <*> bytes"),
        ("waited 2.5s, heap 412Mi (80%)", "waited <*>, heap <*> (<*>)"),
        ("missing key 'database.url' in \"prod config\"", "missing key <*> in <*>"),
        ("pod checkout-7d9f8b6c5-x2k4p ready", "pod checkout-<*>-<*> ready"),
        ("plain words stay", "plain words stay"),
    ],
)
def test_mask_replaces_variables(message: str, masked: str) -> None:
    assert mask(message) == masked


@pytest.mark.parametrize(
    ("lines", "templates"),
    [
        (
            ["user alice logged in", "user bob logged in", "user carol logged in"],
            ["user <*> logged in"],
        ),
        (
            ["cache hit for key users", "cache miss for key users", "disk full on /var"],
            ["cache <*> for key users", "disk full on /var"],
        ),
        (
            # same length, too different: separate templates
            ["connection refused by db", "shutting down the worker"],
            ["connection refused by db", "shutting down the worker"],
        ),
        (
            # different token counts never merge
            ["job 1 done", "job 2 done quickly"],
            ["job <*> done", "job <*> done quickly"],
        ),
    ],
)
def test_miner_groups_lines_into_templates(lines: list[str], templates: list[str]) -> None:
    miner = TemplateMiner()
    for line in lines:
        miner.add(line, "INFO", T0)
    assert sorted(t.text for t in miner.templates) == sorted(templates)
    assert sum(t.count for t in miner.templates) == len(lines)


def test_ranking_puts_a_rare_fatal_before_frequent_info() -> None:
    miner = TemplateMiner()
    for i in range(1000):
        miner.add(f"served request {i}", "INFO", T0 + timedelta(seconds=i))
    for i in range(50):
        miner.add(f"retrying upstream call {i}", "ERROR", T0)
    miner.add("out of memory: killing process 42", "FATAL", T0 + timedelta(seconds=7))
    miner.add("deprecated flag --foo used", "WARN", T0)
    order = [t.text for t in ranked(miner.templates)]
    assert order == [
        "out of memory: killing process <*>",
        "retrying upstream call <*>",
        "deprecated flag --foo used",
        "served request <*>",
    ]


def _noisy_lines(n: int, root_cause_at: int) -> list[LogRecord]:
    rng = random.Random(7)
    shapes = [
        ("INFO", "GET /api/v1/{path}/{id} 200 in {ms}ms"),
        ("INFO", "user {user} added item {id} to cart {hex}"),
        ("DEBUG", "cache {hit} for key product:{id}"),
        ("WARN", "request took {s}s (slow request threshold 0.5s)"),
        ("ERROR", "upstream payments returned 503 after {ms}ms"),
    ]
    lines = []
    for i in range(n):
        level, shape = shapes[min(int(rng.expovariate(1.2)), 4)]
        message = shape.format(
            path=rng.choice(["orders", "products", "users"]),
            id=rng.randrange(10**6),
            ms=rng.randrange(900),
            user=rng.choice(["alice", "bob", "carol", "dave"]),
            hex=f"{rng.getrandbits(64):016x}",
            hit=rng.choice(["hit", "miss"]),
            s=round(rng.uniform(0.5, 3), 2),
        )
        if i == root_cause_at:
            level, message = "FATAL", "invalid configuration: required key 'database.url' missing"
        lines.append(
            LogRecord(
                T0 + timedelta(milliseconds=10 * i),
                "acme",
                "acme-prod",
                "shop",
                f"checkout-{i % 3}",
                "checkout",
                level,
                message,
                {},
            )
        )
    return lines


def test_100k_lines_summarize_under_budget_keeping_the_root_cause() -> None:
    lines = _noisy_lines(100_000, root_cause_at=61_234)
    mined = mine(lines)
    data = summarize(
        mined.miner.templates,
        lines=mined.lines,
        levels=mined.levels,
        first_error=mined.first_error,
        budget_tokens=1700,
    )
    assert estimate_tokens(compact_json(data)) <= 1700
    assert data["lines"] == 100_000
    top = data["templates"][0]
    assert top["count"] == 1
    assert top["levels"] == {"FATAL": 1}
    assert "database.url" in top["examples"][0]
    assert len(data["templates"]) == data["templates_total"]  # a handful of templates
    assert data["templates_total"] <= 8
    assert "upstream payments returned" in data["first_error"]["line"]


def test_summary_trims_the_least_telling_templates_to_fit() -> None:
    miner = TemplateMiner()
    for i in range(300):
        name = chr(97 + i % 26) + chr(97 + i // 26)  # distinct first words: no merging
        miner.add(f"{name} subsystem reported a state change", "INFO", T0)
    miner.add("segfault in worker", "FATAL", T0)
    data = summarize(
        miner.templates,
        lines=301,
        levels={"INFO": 300, "FATAL": 1},
        first_error=None,
        budget_tokens=400,
    )
    assert estimate_tokens(compact_json(data)) <= 400
    assert data["templates"][0]["template"] == "segfault in worker"
    assert len(data["templates"]) < data["templates_total"]
