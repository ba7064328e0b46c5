#!/usr/bin/env bash
# Install everything SCRIBE needs on a Debian machine; idempotent and quick when done.
#   - Debian packages: PostgreSQL 15 + PostGIS 3, Chromium (browser tests, PDFs), poppler-utils, nodejs/npm
#   - PostgreSQL running at 127.0.0.1:5432
#   - configurable-http-proxy from npm (the JupyterHub proxy)
#   - the Python virtual environment .venv with scribe_lib and its test tools
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

need_pkgs=()
command -v psql >/dev/null 2>&1 || need_pkgs+=(postgresql postgresql-client)
[ -f /usr/share/postgresql/15/extension/postgis.control ] || need_pkgs+=(postgresql-15-postgis-3)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
command -v pdftotext >/dev/null 2>&1 || need_pkgs+=(poppler-utils)
command -v npm >/dev/null 2>&1 || need_pkgs+=(nodejs npm)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_pkgs[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need_pkgs[@]}"
fi

# PostgreSQL: start the cluster if it is not answering.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "==> starting PostgreSQL"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# The JupyterHub proxy.
if ! command -v configurable-http-proxy >/dev/null 2>&1; then
  echo "==> npm install -g configurable-http-proxy"
  $SUDO npm install -g --no-fund --no-audit configurable-http-proxy >/dev/null
fi

# Python environment.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$PY" -m venv .venv
fi
stamp=.venv/.scribe-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "==> pip install -e .[test]"
  log=.venv/pip-install.log
  if ! { .venv/bin/pip install -q --upgrade pip && .venv/bin/pip install -q -e ".[test]"; } >"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" | tail -40
    echo "pip install failed; the whole log is in $log" >&2
    exit 1
  fi
  touch "$stamp"
fi
echo "==> SCRIBE is installed in $ROOT/.venv"
