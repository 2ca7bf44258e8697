"""Every model call is recorded with its cost; reports show each principal what it may see."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from guardrails_support import ScriptedModel, answers, calls_once, run_agent
from langchain_core.messages import AIMessage
from sqlalchemy import create_engine, select
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from hexaops.agents import accounting
from hexaops.agents.accounting import UsageRecorder, UsageStore, parse_since, usage_row
from hexaops.agents.context import AgentContext
from hexaops.agents.models import AgentUsage
from hexaops.agents.offline import OfflinePlanner
from hexaops.agents.pricing import LIST_PRICES, OFFLINE_MODEL
from hexaops.platform.core import Platform
from hexaops.platform.errors import InvalidInput, NotFound
from hexaops.ui.cli.usage import app


def _rows(platform: Platform) -> list[AgentUsage]:
    UsageStore.of(platform).flush()  # what the background writer has queued
    with platform.sessions() as session:
        return list(session.scalars(select(AgentUsage).order_by(AgentUsage.id)))


def _record(store: UsageStore, principal: str, org: str, session_id: str, **kw: Any) -> None:
    values: dict[str, Any] = {
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "input_tokens": 1000,
        "output_tokens": 100,
        "cost_usd": 0.0045,
    }
    values.update(kw)
    store.record(
        org=org, principal_id=principal, session_id=session_id, turn_id=f"{session_id}-1", **values
    )


@pytest.fixture
def usage(platform: Platform) -> UsageStore:
    """Three sessions in acme (dev, viewer, owner) and one in globex."""
    store = UsageStore.of(platform)
    _record(store, "dev@acme.example", "acme", "dev-1")
    _record(store, "dev@acme.example", "acme", "dev-1", model="gpt-4.1", provider="openai")
    _record(store, "viewer@acme.example", "acme", "viewer-1")
    _record(
        store,
        "owner@acme.example",
        "acme",
        "owner-1",
        provider="openai-compatible",
        model="llama-local",
        cost_usd=None,
        note="no price",
    )
    _record(store, "owner@globex.example", "globex", "globex-1")
    return store


def test_each_model_call_is_recorded_with_its_cost(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    model = ScriptedModel(script=calls_once, model_name="claude-sonnet-4-5-20250929")
    context = agent_context(session_id="s-7", turn_id="t-7")
    run_agent(model, [UsageRecorder(store, LIST_PRICES)], context, "hello")
    rows = _rows(platform)
    assert len(rows) == 2
    row = rows[0]
    assert (row.org, row.principal_id, row.session_id, row.turn_id) == (
        "acme",
        "dev@acme.example",
        "s-7",
        "t-7",
    )
    assert (row.provider, row.model, row.input_tokens, row.output_tokens) == (
        "openai-compatible",
        "claude-sonnet-4-5-20250929",
        100,
        20,
    )
    assert row.cost_usd == pytest.approx((100 * 3.0 + 20 * 15.0) / 1_000_000)
    assert row.note is None


def test_usage_rows_reach_the_table_without_anyone_waiting_for_them(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    run_agent(
        ScriptedModel(script=answers("hi")),
        [UsageRecorder(store, LIST_PRICES)],
        agent_context(session_id="s-bg", turn_id="t-bg"),
        "hello",
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the background writer, nobody flushing
        with platform.sessions() as session:
            found = session.scalars(select(AgentUsage).where(AgentUsage.turn_id == "t-bg")).all()
        if found:
            break
        time.sleep(0.05)
    assert [row.session_id for row in found] == ["s-bg"]


def test_queued_usage_is_kept_when_a_write_fails(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = UsageStore.of(platform)
    broken = sessionmaker(create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    monkeypatch.setattr(store.writer, "sessions", broken)
    monkeypatch.setattr(accounting, "_RETRY_PAUSE_SECONDS", 0.0)
    row = usage_row(
        at=datetime.now(UTC),
        org="acme",
        principal_id="dev@acme.example",
        session_id="s-retry",
        turn_id="t-retry",
        provider="offline",
        model="offline",
        input_tokens=5,
        output_tokens=1,
        cost_usd=0.0,
    )
    store.writer._queue.append(row)  # as `enqueue` queues it, without starting the thread
    store.flush()  # the database is unreachable: logged, kept
    monkeypatch.setattr(store.writer, "sessions", sessionmaker(platform.engine))
    store.flush()
    assert [r.turn_id for r in _rows(platform)] == ["t-retry"]


def test_an_unknown_model_costs_null_with_a_note(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    model = ScriptedModel(script=answers("hi"), model_name="my-finetune-7b")
    run_agent(model, [UsageRecorder(store, LIST_PRICES)], agent_context(), "hello")
    (row,) = _rows(platform)
    assert row.cost_usd is None
    assert row.note is not None
    assert "HEXAOPS_MODEL_PRICES" in row.note


def test_the_offline_planner_costs_nothing(
    platform: Platform, agent_context: Callable[..., AgentContext]
) -> None:
    store = UsageStore.of(platform)
    context = agent_context(model=OFFLINE_MODEL)
    history = run_agent(
        OfflinePlanner(), [UsageRecorder(store, LIST_PRICES)], context, "hello", tools=()
    )
    assert isinstance(history[-1], AIMessage)
    rows = _rows(platform)
    assert rows
    assert {(r.provider, r.model, r.cost_usd) for r in rows} == {("offline", OFFLINE_MODEL, 0.0)}
    assert all(r.input_tokens > 0 for r in rows)


def test_a_member_sees_only_its_own_sessions(usage: UsageStore, platform: Platform) -> None:
    dev = platform.user("dev@acme.example")
    report = usage.report(dev)
    assert report.total.calls == 2
    assert {line.model for line in report.by_model} == {"claude-sonnet-4-5", "gpt-4.1"}
    assert report.total.input_tokens == 2000
    assert report.total.cost_usd == pytest.approx(0.009)
    with pytest.raises(NotFound):
        usage.report(dev, session_id="viewer-1")
    assert usage.report(dev, session_id="dev-1").total.calls == 2
    assert usage.report(dev, turn_id="dev-1-1").total.calls == 2


def test_owners_see_their_organization_and_nothing_of_another(
    usage: UsageStore, platform: Platform
) -> None:
    owner = platform.user("owner@acme.example")
    report = usage.report(owner, org="acme")
    assert report.total.calls == 4
    assert report.total.unpriced_calls == 1
    assert report.total.cost_usd == pytest.approx(0.0135)  # the priced calls only
    assert report.notes == [
        "1 call(s) of llama-local have no known price and are not in the cost; "
        "add the model to HEXAOPS_MODEL_PRICES"
    ]
    assert usage.report(owner, session_id="viewer-1").total.calls == 1
    with pytest.raises(NotFound):
        usage.report(owner, org="globex")
    with pytest.raises(NotFound):
        usage.report(owner, session_id="globex-1")


def test_reports_narrow_by_time(usage: UsageStore, platform: Platform) -> None:
    owner = platform.user("owner@acme.example")
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert usage.report(owner, since=later).by_model == []
    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    assert parse_since("24h", now) == now - timedelta(hours=24)
    assert parse_since("2026-11-29T08:00", now) == datetime(2026, 11, 29, 8, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        parse_since("yesterday", now)


@pytest.fixture
def cli(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", platform.engine.url.render_as_string(hide_password=False))
    return CliRunner()


def test_the_cli_prints_usage_by_model(usage: UsageStore, cli: CliRunner) -> None:
    result = cli.invoke(app, ["--as", "owner@acme.example", "--org", "acme", "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    report = json.loads(result.stdout)
    assert report["total"]["calls"] == 4
    assert {line["model"] for line in report["by_model"]} == {
        "claude-sonnet-4-5",
        "gpt-4.1",
        "llama-local",
    }

    table = cli.invoke(app, ["--as", "dev@acme.example", "--session", "dev-1", "--since", "24h"])
    assert table.exit_code == 0, (table.stdout, table.stderr)
    assert "claude-sonnet-4-5" in table.stdout
    assert "llama-local" not in table.stdout
    assert "2,000" in table.stdout  # tokens in, total

    denied = cli.invoke(app, ["--as", "owner@acme.example", "--org", "globex"])
    assert denied.exit_code == 1
    assert "organization 'globex' not found" in denied.stderr
    bad = cli.invoke(app, ["--as", "owner@acme.example", "--since", "soon"])
    assert bad.exit_code == 2
