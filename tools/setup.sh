#!/usr/bin/env bash
# Set up qpvgeo on a fresh machine: a virtual environment (.venv) with qpvgeo, its notebooks
# (JupyterLab) and its test tools. Python packages only: no root, no apt. Safe to run again.
#
#   bash tools/setup.sh            # what the main job and the notebooks need
#   bash tools/setup.sh --browser  # the same, plus Debian's chromium for the map tests (root + apt)
#
# A browser that cannot be installed (no root, no apt, the dpkg lock held by another process)
# is reported in one line; it never stops the Python set-up.
set -euo pipefail
cd "$(dirname "$0")/.."
browser=0
for arg in "$@"; do
  case "$arg" in
    --browser) browser=1 ;;
    *) echo "setup: unknown option '$arg' (use --browser for the map tests' chromium)" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
[ "$browser" = 1 ] || exit 0
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: chromium is missing and cannot be installed here (needs root and apt-get); run 'sudo apt-get install chromium' for the map tests" >&2
  exit 0
fi
echo "setup: installing Debian's chromium for the map tests"
if ! { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } 2>/tmp/qpvgeo-setup-apt.log; then
  echo "setup: could not install chromium ($(tail -n 1 /tmp/qpvgeo-setup-apt.log)); the map tests need it: 'apt-get install chromium'" >&2
fi
