#!/usr/bin/env bash
# Install what the tests need (idempotent), then run the whole test suite.
# A skipped test fails the run (tests/conftest.py), as in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest "$@"
