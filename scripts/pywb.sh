#!/usr/bin/env bash
# pywb in a virtual environment of its own (.venv-pywb): it pins redis==2.10.6 and
# werkzeug==3.1.7, which newsvault's own environment must not be held to. The replay test
# (tests/test_pywb_replay.py) runs its `wb-manager` and `wayback` commands.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-pywb
if [ ! -x "$venv/bin/wayback" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet "pywb>=2.8"
fi
"$venv/bin/python" -c "import pywb; print('pywb', pywb.__version__)"
