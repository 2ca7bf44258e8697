#!/usr/bin/env bash
# The whole test suite: lint, format, types, then pytest on real embedded PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
# Real components the tests start themselves.
ensure_apt prometheus prometheus promtool
ensure_apt nats-server nats-server   # the event bus's JetStream tests
ensure_apt chromium chromium         # the browser chat's end-to-end test (Playwright)
sync_env
echo "==> ruff" >&2
.venv/bin/ruff check src tests
.venv/bin/ruff format --check src tests
echo "==> mypy" >&2
.venv/bin/mypy
echo "==> pytest" >&2
exec .venv/bin/pytest -n 2 "$@"
