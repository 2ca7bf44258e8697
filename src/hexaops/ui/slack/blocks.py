"""Block Kit messages of the Slack bot: answers (long ones summed up with a link to the web
chat), tool steps, approvals with buttons, decisions."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from hexaops.agents.events import ApprovalRequested

LONG_ANSWER: Final = 3000  # a section holds 3,000 characters; past that, a summary and a link
SUMMARY_CHARS: Final = 1200
APPROVE: Final = "hexaops_approve"
REJECT: Final = "hexaops_reject"

Block = dict[str, Any]


def mrkdwn(markdown: str) -> str:
    """The agents write Markdown; Slack's mrkdwn marks bold with one star and has no headings."""
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", markdown)
    text = re.sub(r"^#{1,6}\s+(.+)$", r"*\1*", text, flags=re.MULTILINE)
    return re.sub(r"\[([^\]]+)\]\((https?://[^)\s]+)\)", r"<\2|\1>", text)


def summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    """The start of a long answer, cut at a paragraph or sentence end when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    for mark in ("\n\n", "\n", ". "):
        cut = head.rfind(mark)
        if cut > limit // 2:
            return head[: cut + (1 if mark == ". " else 0)].rstrip() + " …"
    return head.rstrip() + " …"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:LONG_ANSWER]}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:LONG_ANSWER]}]}


def answer_blocks(text: str, link: str, steps: list[str]) -> list[Block]:
    """The answer (or its summary and a link to the whole of it), then the tool steps."""
    body = mrkdwn(text) or "(no answer)"
    blocks = []
    if len(body) > LONG_ANSWER:
        blocks.append(section(summary(body)))
        blocks.append(
            section(
                f"The full answer has {len(body):,} characters: <{link}|read it in the web chat>"
            )
        )
    else:
        blocks.append(section(body))
    if steps:
        blocks.append(context("Steps: " + " · ".join(steps)))
    return blocks


def approval_blocks(event: ApprovalRequested, steps: list[str]) -> list[Block]:
    """The plan, who may decide, and approve/reject buttons (the click is checked against
    the clicking person's role, not against who sees the buttons)."""
    r = event.request
    action_id = r.get("action_id")
    ident = f" (action #{action_id})" if action_id is not None else ""
    lines = [
        f"*Approval needed{ident}*: `{r.get('action')}` on `{r.get('target')}` "
        f"(risk {r.get('risk')}), requested by {r.get('requested_by')}",
        f"Plan: {r.get('summary', '')}",
    ]
    lines += [f"• `{json.dumps(c, ensure_ascii=False)}`" for c in r.get("changes", []) or []]
    if action_id is None:
        who = f"{r.get('requested_by')} confirms it (a low-risk change)"
    else:
        approvers = ", ".join(r.get("approvers", []) or []) or "an owner or admin"
        who = f"Only an owner or admin of {r.get('org')} may decide: {approvers}"
    value = json.dumps({"session": event.session_id, "interrupt": event.interrupt_id})
    blocks = [section("\n".join(lines)), context(who)]
    if steps:
        blocks.append(context("Steps: " + " · ".join(steps)))
    blocks.append(
        {
            "type": "actions",
            "block_id": "hexaops_decision",
            "elements": [
                _button("Approve", APPROVE, value, "primary"),
                _button("Reject", REJECT, value, "danger"),
            ],
        }
    )
    return blocks


def _button(label: str, action_id: str, value: str, style: str) -> Block:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": value,
        "style": style,
    }


def decided_blocks(event: ApprovalRequested, decision: str, by: str) -> list[Block]:
    """The approval message once decided: the plan stays, the buttons go."""
    plan = approval_blocks(event, [])[0]
    verb = "Approved" if decision == "approve" else "Rejected"
    return [plan, context(f"{verb} by {by}")]
