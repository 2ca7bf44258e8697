"""Secrets never reach the model; ordinary identifiers do, and the history keeps the originals."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from guardrails_support import ScriptedModel, run_agent
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

from hexaops.agents.context import AgentContext
from hexaops.agents.guardrails.redaction import SecretRedactionMiddleware, redact, redact_message

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw"
    "\n7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh"
    "\n-----END RSA PRIVATE KEY-----"
)
GCP_KEY = (
    '{"type": "service_account", "project_id": "acme-prod", "private_key": "-----BEGIN PRIVATE '
    'KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END PRIVATE KEY-----\\n", '
    '"client_email": "ci@acme-prod.iam.gserviceaccount.com"}'
)
SECRET_YAML = """apiVersion: v1
kind: Secret
metadata:
  name: checkout-db
  namespace: shop
type: Opaque
data:
  username: Y2hlY2tvdXQ=
  password: aHVudGVyMg==
"""
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkFjbWUifQ."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)

SECRETS = [
    # (text, the secret that must disappear, the kind it becomes)
    ("key sk-ant-api03-AbCdEf0123456789_xyzXYZ-abcdefghijkl", "sk-ant-api03", "anthropic_key"),
    ("OPENAI_API_KEY=sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34", "sk-proj-Ab12", "openai_key"),
    ("token ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_16C7e4", "github_token"),
    ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuv", "github_pat_11", "github_token"),
    ("SLACK_BOT=xoxb-1234567890-0987654321-AbCdEfGhIjKl", "xoxb-1234", "slack_token"),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "aws_access_key"),
    (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
        "aws_secret_key",
    ),
    ("Authorization: Bearer 9f8e7d6c5b4a3210fedcba9876543210", "9f8e7d6c5b4a", "bearer_token"),
    ("Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ=", "dXNlcjpwYXNz", "bearer_token"),
    (f"cookie session={JWT}", "eyJhbGciOiJIUzI1NiIs", "jwt"),
    ("connect password=hunter2 sslmode=require", "hunter2", "password"),
    ('{"user": "app", "password": "correct horse battery"}', "correct horse", "password"),
    ("PGPASSWORD='s3cr3t!' psql -h db", "s3cr3t!", "password"),
    ("DB_PASSWORD: Sup3rS3cret", "Sup3rS3cret", "password"),
    ("DATABASE_URL=postgresql://shop:pa55word@db.acme.internal:5432/shop", "pa55word", "password"),
    (PEM, "MIIEowIBAAKCAQEA", "private_key"),
    (GCP_KEY, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw", "private_key"),
    (SECRET_YAML, "aHVudGVyMg==", "kubernetes_secret"),
    (
        '{"kind": "Secret", "data": {"token": "ZXlKaGJHY2lPaUpJVXpJMU5pSjk="}}',
        "ZXlKaGJHY2lPaUpJVXpJMU5pSjk=",
        "kubernetes_secret",
    ),
    ("webhook_secret: 7fG2kL9pQ4xZ8wB1nV6m", "7fG2kL9pQ4xZ8wB1nV6m", "secret"),
    ('"api_key": "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"', "a1b2c3d4e5f6a7b8c9d0", "secret"),
    ("REFRESH_TOKEN=Zx81Kq03Lp55Mn27Yt91", "Zx81Kq03Lp55Mn27Yt91", "secret"),
]

LOOK_ALIKES = [
    "pod checkout-7d9f8b6c5-x2x9z restarted 4 times (OOMKilled)",
    "image ghcr.io/acme/checkout@sha256:9b2f4c6e8a0d1f3b5c7e9a1d3f5b7c9e1a3d5f7b9c1e3a5d7f9b1c3e5a7d9f1b",
    "request 3f2b8c1e-7a4d-4e9b-9c2f-1a2b3c4d5e6f failed",
    "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
    "secretName: checkout-db-credentials-v2",
    "token_ttl_seconds: 3600",
    "max_tokens: 4096, input_tokens: 81234",
    "the task-runner-0123456789abcdefghij job finished",
    "node ip-10-0-12-34.eu-west-1.compute.internal is NotReady",
    "GET https://api.acme.example/v1/orders?page=2 returned 503",
    "password reset emails are sent by the notifications service",
    "kubectl get secret checkout-db -o name",
    "the Bearer scheme needs a token",
    "the token expired-for-user-admin-acme at 03:00",
    "forgot-password-7d9f8b6c5-x2x9z is Running",
    "resourceVersion: 1234567890123456789",
]


@pytest.mark.parametrize(("text", "secret", "kind"), SECRETS, ids=[s[2] for s in SECRETS])
def test_secrets_are_redacted(text: str, secret: str, kind: str) -> None:
    redacted = redact(text)
    assert secret not in redacted
    assert f"[REDACTED:{kind}]" in redacted
    assert redact(redacted) == redacted  # a second pass changes nothing


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_ordinary_identifiers_are_kept(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize(
    "text",
    ["a." * 50_000, "x-" * 50_000, "http://" * 15_000, "-----BEGIN PRIVATE KEY-----" * 4_000],
    ids=["dots", "dashes", "schemes", "unterminated-keys"],
)
def test_redaction_stays_fast_on_hostile_input(text: str) -> None:
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 1.0  # ~0.05 s: matching is linear, not quadratic


def test_what_tells_the_user_where_the_secret_was_is_kept() -> None:
    url = redact("postgresql://shop:pa55word@db.acme.internal:5432/shop")
    assert url == "postgresql://shop:[REDACTED:password]@db.acme.internal:5432/shop"
    manifest = redact(SECRET_YAML)
    assert "name: checkout-db" in manifest
    assert "  password: [REDACTED:kubernetes_secret]" in manifest
    assert "type: Opaque" in manifest
    gcp = redact(GCP_KEY)
    assert '"client_email": "ci@acme-prod.iam.gserviceaccount.com"' in gcp


def test_content_blocks_are_redacted_and_clean_messages_are_not_copied() -> None:
    message = HumanMessage(content=[{"type": "text", "text": "password=hunter2"}])
    redacted = redact_message(message)
    assert redacted.content == [{"type": "text", "text": "password=[REDACTED:password]"}]
    assert message.content == [{"type": "text", "text": "password=hunter2"}]
    clean = HumanMessage(content="why is checkout slow?")
    assert redact_message(clean) is clean


def test_tool_call_arguments_are_redacted_for_the_model() -> None:
    call = {
        "name": "platform_application_deploy",
        "args": {
            "env": {"DB_PASSWORD": "hunter2", "LOG_LEVEL": "debug"},
            "command": ["run", "--url", "postgresql://shop:pa55word@db:5432/shop"],
            "api_key": "k",
            "replicas": 3,
        },
        "id": "c1",
    }
    message = AIMessage(content="", tool_calls=[call])
    args = redact_message(message).tool_calls[0]["args"]
    assert args["env"] == {"DB_PASSWORD": "[REDACTED:db_password]", "LOG_LEVEL": "debug"}
    assert args["command"][2] == "postgresql://shop:[REDACTED:password]@db:5432/shop"
    assert args["api_key"] == "[REDACTED:api_key]"
    assert args["replicas"] == 3
    assert message.tool_calls[0]["args"]["env"]["DB_PASSWORD"] == "hunter2"  # state keeps it
    clean = AIMessage(content="", tool_calls=[{"name": "diagnose", "args": {"a": 1}, "id": "c"}])
    assert redact_message(clean) is clean


def test_the_model_sees_redacted_messages_and_the_history_keeps_the_originals(
    agent_context: Callable[..., AgentContext],
) -> None:
    token = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"

    def script(messages: list[BaseMessage]) -> AIMessage:
        if isinstance(messages[-1], ToolMessage):
            return AIMessage(content="done")
        call = {"name": "echo", "args": {"text": f"echo {token}"}, "id": "c1"}
        return AIMessage(content="", tool_calls=[call])

    model = ScriptedModel(script=script)
    history = run_agent(
        model,
        [SecretRedactionMiddleware()],
        agent_context(),
        f"my DATABASE_URL is postgresql://shop:pa55word@db:5432/shop and token {token}",
    )
    sent = [str(m.content) for request in model.seen for m in request]
    assert not any("pa55word" in s or token in s for s in sent)
    assert any("[REDACTED:github_token]" in s for s in sent)
    # The tool result (which echoes the token) was redacted on its way to the model too.
    assert any(s.startswith("echo: echo [REDACTED:github_token]") for s in sent)
    # The graph state keeps what the user and the tool said.
    assert "pa55word" in str(history[0].content)
    assert any(isinstance(m, ToolMessage) and token in str(m.content) for m in history)
