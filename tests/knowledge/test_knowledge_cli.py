"""`hexaops knowledge …` in-process (typer's runner) against the test's database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from knowledge_support import embedder, public_docs
from typer.testing import CliRunner

from hexaops.knowledge.incidents import record_incident
from hexaops.platform.core import Platform
from hexaops.ui.cli.knowledge import app

DEV = "dev@acme.example"


@pytest.fixture
def cli(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", platform.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HEXAOPS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("HEXAOPS_EMBEDDINGS", raising=False)
    return CliRunner()


def _json(cli: CliRunner, *args: str) -> Any:
    result = cli.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def test_ingest_then_search_with_citations(cli: CliRunner, tmp_path: Path) -> None:
    root = public_docs(tmp_path / "docs")
    (root / "blank.md").write_text("\n")
    report = _json(cli, "ingest", str(root))
    assert len(report["added"]) == 3
    assert report["skipped"] == {"blank.md": "empty document"}
    assert _json(cli, "ingest", str(root))["chunks_written"] == 0

    found = _json(cli, "search", "renew an expired certificate", "--as", DEV, "--topic", "security")
    top = found["hits"][0]
    assert (top["document"], top["topic"]) == ("security/certs.md", "security")
    assert top["line_start"] <= top["line_end"]
    assert top["chunk_id"].startswith("security/certs.md#")
    assert (
        top["citation"]
        == f"security/certs.md:{top['line_start']}-{top['line_end']} § {top['section']}"
    )

    refused = cli.invoke(app, ["ingest", str(root), "--org", "acme", "--as", DEV])
    assert refused.exit_code == 1
    assert "knowledge.ingest needs admin or owner" in refused.stderr
    human = cli.invoke(app, ["ingest", str(root), "--org", "acme", "--as", "owner@acme.example"])
    assert human.exit_code == 0
    assert "private to acme" in human.stdout
    text = cli.invoke(app, ["search", "x509 handshake", "--as", DEV])
    assert text.exit_code == 0
    assert "security/certs.md:" in text.stdout


def test_errors_exit_1_with_one_line_and_usage_errors_exit_2(
    cli: CliRunner, tmp_path: Path
) -> None:
    missing = cli.invoke(app, ["ingest", str(tmp_path / "nope")])
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error:")
    assert "does not exist" in missing.stderr
    anonymous = cli.invoke(app, ["ingest", str(public_docs(tmp_path / "d")), "--org", "acme"])
    assert anonymous.exit_code == 2
    assert "--as" in anonymous.stderr
    org = cli.invoke(
        app,
        [
            "ingest",
            str(public_docs(tmp_path / "d")),
            "--org",
            "initech",
            "--as",
            "owner@acme.example",
        ],
    )
    assert org.exit_code == 1
    assert "organization 'initech' not found" in org.stderr
    assert cli.invoke(app, ["search", "  ", "--as", DEV]).exit_code == 1
    assert cli.invoke(app, ["search", "pods", "--as", "nobody@example.com"]).exit_code == 1
    assert cli.invoke(app, ["incidents", "feedback", "1", "great", "--as", DEV]).exit_code == 2


def test_incidents_similar_and_feedback(cli: CliRunner, platform: Platform) -> None:
    symptoms = "checkout returns HTTP 503; upstream connection refused"
    old = record_incident(
        platform.engine,
        embedder(),
        org="acme",
        title="Checkout 503",
        symptoms=symptoms,
        mitigation="rolled back to revision 41",
        outcome="resolved",
    )
    new = record_incident(
        platform.engine, embedder(), org="acme", title="Checkout 503 again", symptoms=symptoms
    )
    listed = _json(cli, "incidents", "list", "--as", DEV)
    assert [i["id"] for i in listed] == [new.id, old.id]
    assert _json(cli, "incidents", "list", "--as", "owner@globex.example") == []
    similar = _json(cli, "incidents", "similar", str(new.id), "--as", DEV)
    assert similar[0]["incident"]["id"] == old.id
    updated = _json(cli, "incidents", "feedback", str(old.id), "helpful", "--as", DEV)
    assert updated["feedback_score"] == 1
    hidden = cli.invoke(app, ["incidents", "similar", str(new.id), "--as", "owner@globex.example"])
    assert hidden.exit_code == 1
    assert f"incident {new.id} not found" in hidden.stderr
