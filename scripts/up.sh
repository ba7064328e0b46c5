#!/usr/bin/env bash
# Install everything, then run the main job: build the demo store and show what is in it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SCRIBE_STORE=${SCRIBE_STORE:-$(pwd)/scribe.duckdb}
.venv/bin/scribe demo
.venv/bin/scribe status
