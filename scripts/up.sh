#!/usr/bin/env bash
# Install everything, then run the main job: the SCRIBE hub with the demo data,
# at http://127.0.0.1:8000/ (sign in as `manager`; see README.md).
# The hub runs as root (each user's server runs as that user's own Unix account).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo --preserve-env=SCRIBE_ADMIN_PASSWORD,SCRIBE_HUB_STATE"; fi
exec $SUDO .venv/bin/scribe hub "$@"
