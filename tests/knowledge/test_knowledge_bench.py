"""The knowledge benchmarks at a tiny scale: they run end to end and report what they promise."""

from __future__ import annotations

from pathlib import Path

import pytest
from knowledge_support import embedder, public_docs
from sqlalchemy import inspect

from hexaops.knowledge import ingest as ingest_module
from hexaops.knowledge.bench import bench_quality, bench_speed
from hexaops.platform.core import Platform

QUESTIONS = """
- question: the container exits with code 137, what happened?
  doc: kubernetes/crashloop.md
  section: Diagnose
- question: how to renew a certificate with cert-manager
  doc: security/certs.md
  section: Renew
- question: app keeps dying right after launch
  doc: kubernetes/crashloop.md
  section: Pods in CrashLoopBackOff
"""


def test_quality_bench_scores_each_mode(
    platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ingest_module, "CORPUS_DIR", public_docs(tmp_path / "corpus"))
    questions = tmp_path / "questions.yaml"
    questions.write_text(QUESTIONS)
    result = bench_quality(platform.engine, embedder(), questions)
    assert result["questions"] == 3
    assert set(result["modes"]) == {"hybrid", "text", "vector"}
    hybrid = result["modes"]["hybrid"]
    assert hybrid["recall_at_5"] == 1.0
    assert hybrid["missed"] == []
    assert 0 < hybrid["mrr"] <= 1
    assert result["modes"]["text"]["mrr"] <= hybrid["mrr"]


def test_speed_bench_reports_build_latency_and_recall(platform: Platform) -> None:
    result = bench_speed(platform.engine, 2000, queries=20, ef_search=(40, 200))
    assert result["build_seconds"] >= 0
    assert [(r["ef_search"], r["filtered"]) for r in result["runs"]] == [
        (40, False),
        (40, True),
        (200, False),
        (200, True),
    ]
    assert all(0 <= r["recall"] <= 1 and r["p50_ms"] <= r["p95_ms"] for r in result["runs"])
    assert max(r["recall"] for r in result["runs"]) >= 0.9
    assert result["recommended_ef_search"] in (None, 40, 200)
    assert "knowledge_bench_vectors" not in inspect(platform.engine).get_table_names()
