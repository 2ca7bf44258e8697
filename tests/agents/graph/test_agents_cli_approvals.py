"""The CLI around agent approvals, in-process (offline planner, the test's platform database):
a developer's delete becomes a pending platform action, an owner approves it with
`hexaops platform actions approve ID`, and the waiting session finishes its turn; nobody
without the role runs it, and nothing runs twice. Plus the bad inputs of `hexaops ask`."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from agents_graph_support import ScriptedModel
from typer.testing import CliRunner

from hexaops.agents.events import Answer, ApprovalRequested
from hexaops.agents.service import AgentService
from hexaops.platform.core import Platform
from hexaops.platform.domain import Principal
from hexaops.ui.cli import ask as ask_cli
from hexaops.ui.cli import platform as platform_cli
from hexaops.ui.cli.chat import chat

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def hexaops(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """`hexaops(*args, input=None)` → (exit code, stdout, stderr), as a shell would run it."""
    for name in [n for n in os.environ if n.startswith("HEXAOPS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", platform.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HEXAOPS_HOME", str(tmp_path))
    monkeypatch.setenv("HEXAOPS_MODEL_PROVIDER", "offline")
    runner, cli = CliRunner(), _cli()

    def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
        result = runner.invoke(cli, list(args), input=input)
        assert not isinstance(result.exception, AssertionError | TypeError), result.exception
        return result.exit_code, result.stdout, result.stderr

    return run


def _cli() -> typer.Typer:
    """The commands of `hexaops` these tests use (`chat` may not be mounted yet)."""
    cli = typer.Typer()
    cli.add_typer(ask_cli.app, name="ask")
    cli.add_typer(platform_cli.app, name="platform")
    cli.command("chat")(chat)
    return cli


def _catalog_exists(platform: Platform, who: Principal) -> bool:
    return any(a.name == "catalog" for a in platform.applications(who, "acme-staging", "shop"))


def test_an_owner_approves_a_developers_delete_and_the_session_reports_it(
    hexaops: Run, platform: Platform, owner: Principal
) -> None:
    ask = "delete the application catalog in acme-staging"
    code, out, err = hexaops("ask", ask, "--as", "dev@acme.example", "--json")
    assert code == 0, err
    turn: dict[str, Any] = json.loads(out)
    assert set(turn) >= {"session_id", "answer", "tool_calls", "pending", "citations", "usage"}
    assert turn["answer"] is None
    assert turn["tool_calls"][-1]["name"] == "platform_application_delete"
    assert turn["tool_calls"][-1]["status"] == "pending"
    (pending,) = turn["pending"]
    action_id, session = pending["action_id"], turn["session_id"]
    assert pending["action"] == "application.delete"
    assert pending["plan"]["risk"] == "high"
    assert pending["approvers"] == ["owner@acme.example"]
    assert platform.action(owner, action_id).status == "pending"  # a real platform action

    # Someone without the role: a clear message, nothing runs, the session keeps waiting.
    code, _, err = hexaops(
        "platform", "actions", "approve", str(action_id), "--as", "dev@acme.example"
    )
    assert code == 1
    assert "action.approve needs admin or owner" in err
    code, _, err = hexaops("ask", "--session", session, "--approve", "--as", "dev@acme.example")
    assert code == 1
    assert f"cannot decide action #{action_id}" in err
    assert platform.action(owner, action_id).status == "pending"
    assert _catalog_exists(platform, owner)

    code, out, err = hexaops(
        "platform", "actions", "approve", str(action_id), "--as", "owner@acme.example", "--json"
    )
    assert code == 0, err
    approved = json.loads(out)
    assert (approved["status"], approved["approved_by"]) == ("succeeded", "owner@acme.example")
    assert approved["session"]["session_id"] == session
    assert f"action #{action_id} succeeded" in approved["session"]["answer"]
    assert not _catalog_exists(platform, owner)

    # Twice: already decided, nothing runs again; the session has nothing left to decide.
    code, _, err = hexaops(
        "platform", "actions", "approve", str(action_id), "--as", "owner@acme.example"
    )
    assert code == 1
    assert f"action {action_id} is already succeeded" in err
    code, _, err = hexaops("ask", "--session", session, "--approve", "--as", "owner@acme.example")
    assert code == 1
    assert "has no pending approval" in err
    deletes = [
        a for a in platform.list_actions(owner, "acme") if a.operation == "application.delete"
    ]
    assert [a.id for a in deletes] == [action_id]
    audit = [e for e in platform.audit(owner, "acme") if e.action_id == action_id]
    assert sum(e.event == "action.succeeded" for e in audit) == 1


def test_bad_input_gets_a_clear_message_and_runs_nothing(hexaops: Run) -> None:
    code, _, err = hexaops("ask", "   ", "--as", "dev@acme.example")
    assert (code, err.strip()) == (
        1,
        "error: the message is empty: ask a question or describe a change",
    )
    code, _, err = hexaops("ask", "x" * 8001, "--as", "dev@acme.example")
    assert code == 1
    assert "the message has 8,001 characters; the limit is 8,000" in err
    code, _, err = hexaops("ask", "hello", "--session", "no-such", "--as", "dev@acme.example")
    assert (code, err.strip()) == (1, "error: session no-such not found")
    code, _, err = hexaops("ask", "--session", "no-such", "--approve", "--as", "owner@acme.example")
    assert (code, err.strip()) == (1, "error: session no-such not found")

    # Another organization's objects do not exist for you: no data of theirs comes back.
    code, out, err = hexaops(
        "ask", "delete the application api in globex-prod", "--as", "dev@acme.example", "--json"
    )
    assert code == 0, err
    turn = json.loads(out)
    assert "not found" in turn["answer"]
    assert turn["pending"] == []
    assert all(call["status"] == "error" for call in turn["tool_calls"])
    assert "ghcr.io/globex" not in out
    assert "worker" not in out


def test_chat_shows_the_wait_to_a_developer_and_asks_the_owner(
    hexaops: Run, platform: Platform, owner: Principal
) -> None:
    code, out, err = hexaops(
        "chat", "--as", "dev@acme.example",
        input="delete the application catalog in acme-staging\n/session\n/quit\n",
    )  # fmt: skip
    assert code == 0, err
    out = " ".join(out.split())  # rich wraps lines at the terminal width
    assert "waits for an owner or admin of acme" in out
    (pending,) = platform.list_actions(owner, "acme", status="pending")
    assert f"action #{pending.id}" in out
    session = out.split("session: ", 1)[1].split()[0]

    code, out, err = hexaops(
        "chat", "--as", "owner@acme.example", "--session", session, input="approve\nfine\n"
    )  # Ctrl-D after deciding
    assert code == 0, err
    out = " ".join(out.split())
    assert "approved by owner@acme.example, done" in out
    assert platform.action(owner, pending.id or 0).status == "succeeded"
    assert "Traceback" not in out + err

    code, _, err = hexaops("chat", "--as", "dev@acme.example", "--session", "no-such", input="")
    assert (code, err.strip()) == (1, "error: session no-such not found")


def test_an_action_decided_outside_the_session_is_the_truth_when_it_resumes(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal, owner: Principal
) -> None:
    delete = (
        "platform_application_delete",
        {"workspace": "acme-staging", "project": "shop", "name": "catalog"},
    )
    service = service_for(ScriptedModel(plans={"delete": [delete]}))
    waiting = list(service.ask(dev, "delete catalog"))[-1]
    assert isinstance(waiting, ApprovalRequested)
    action = platform.reject(owner, waiting.request["action_id"], "not this week")
    assert service.waiting_on(owner, action) == waiting.session_id

    # Whatever the resume says, the platform's decision stands.
    done = list(service.resume(owner, waiting.session_id, {"decision": "approve"}))[-1]
    assert isinstance(done, Answer)
    assert "was rejected: not this week" in done.text
    assert platform.action(owner, action.id or 0).status == "rejected"
    assert _catalog_exists(platform, owner)
    assert service.waiting_on(owner, action) is None


def test_an_owner_edits_a_pending_action_into_a_new_one(
    service_for: Callable[..., AgentService], platform: Platform, dev: Principal, owner: Principal
) -> None:
    delete = (
        "platform_application_delete",
        {"workspace": "acme-staging", "project": "shop", "name": "catalog"},
    )
    service = service_for(ScriptedModel(plans={"delete": [delete]}))
    waiting = list(service.ask(dev, "delete catalog"))[-1]
    assert isinstance(waiting, ApprovalRequested)
    decision = {"decision": "edit", "args": {"name": "payments"}}
    done = list(service.resume(owner, waiting.session_id, decision))[-1]
    assert isinstance(done, Answer)
    assert "approved by owner@acme.example, done" in done.text
    deletes = {
        a.target.rsplit("/", 1)[1]: a.status
        for a in platform.list_actions(owner, "acme")
        if a.operation == "application.delete"
    }
    assert deletes == {"catalog": "rejected", "payments": "succeeded"}
    assert _catalog_exists(platform, owner)
