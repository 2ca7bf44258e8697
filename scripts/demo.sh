#!/usr/bin/env bash
# The main job: the embedded demo platform (embedded PostgreSQL + sandbox driver, seeded).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
sync_env --no-dev
exec .venv/bin/hexaops demo "$@"
