"""The evaluation tests' template: the seeded database without the knowledge corpus (fast),
built once per test session on the session's embedded PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from hexaops.evals.sandbox import build_template
from hexaops.settings import Settings


@pytest.fixture(scope="session")
def eval_template(pg_server: str, chdb_home: Path) -> str:
    return build_template(pg_server, Settings(home=chdb_home), corpus=False, name="tpl_evals")
