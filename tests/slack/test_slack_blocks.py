"""What the Slack bot's messages look like: long answers summed up with a link to the web
chat, Markdown turned into Slack's mrkdwn, approval buttons carrying the session."""

from __future__ import annotations

import json

from hexaops.agents.events import ApprovalRequested
from hexaops.ui.slack.blocks import (
    LONG_ANSWER,
    answer_blocks,
    approval_blocks,
    decided_blocks,
    mrkdwn,
)

LINK = "https://ops.example/chat?session=abc123"


def test_a_long_answer_is_summed_up_with_a_link_to_the_web_chat() -> None:
    paragraph = "The checkout pods were OOMKilled after the 12:00 deploy. " * 20
    text = "\n\n".join([paragraph] * 5)  # about 5,800 characters
    first, link, steps = answer_blocks(text, LINK, ["`metrics_workload` ✓"])
    assert len(first["text"]["text"]) < LONG_ANSWER
    assert first["text"]["text"].endswith(" …")
    assert text.startswith(first["text"]["text"].removesuffix(" …"))
    assert f"<{LINK}|read it in the web chat>" in link["text"]["text"]
    assert f"{len(text):,} characters" in link["text"]["text"]
    assert steps["elements"][0]["text"] == "Steps: `metrics_workload` ✓"


def test_a_short_answer_is_shown_whole_in_mrkdwn() -> None:
    (only,) = answer_blocks("## Cause\n**OOMKilled**, see [runbook](https://d.example/r)", LINK, [])
    assert only["text"]["text"] == "*Cause*\n*OOMKilled*, see <https://d.example/r|runbook>"
    assert mrkdwn("") == ""


def test_approval_buttons_carry_the_session_and_say_who_decides() -> None:
    event = ApprovalRequested(
        session_id="s1",
        interrupt_id="i1",
        request={
            "action_id": 7,
            "action": "application.delete",
            "target": "acme-staging/shop/catalog",
            "risk": "high",
            "summary": "delete application catalog",
            "requested_by": "dev@acme.example",
            "org": "acme",
            "approvers": ["owner@acme.example"],
            "changes": [{"op": "delete"}],
        },
    )
    blocks = approval_blocks(event, [])
    buttons = blocks[-1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Reject"]
    assert {json.dumps(json.loads(b["value"])) for b in buttons} == {
        json.dumps({"session": "s1", "interrupt": "i1"})
    }
    assert "Only an owner or admin of acme may decide: owner@acme.example" in json.dumps(blocks)
    decided = decided_blocks(event, "reject", "owner@acme.example")
    assert all(b["type"] != "actions" for b in decided)
    assert decided[-1]["elements"][0]["text"] == "Rejected by owner@acme.example"
