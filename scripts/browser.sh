#!/usr/bin/env bash
# Install what the browser tests need, then run them: Debian's chromium, driven by the
# playwright Python package (`playwright install` downloads a browser and fails offline).
#
#   scripts/browser.sh            install chromium if missing, run the browser tests
#   scripts/browser.sh --install  only install
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
    echo "browser.sh: installing Debian's chromium" >&2
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update
    # fonts-noto-core has Noto Naskh Arabic, the first face of the UI's Arabic font stack.
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y --no-install-recommends \
        chromium fonts-noto-core
fi
chromium --version

if [ "${1:-}" = "--install" ]; then
    exit 0
fi
exec .venv/bin/pytest -m browser tests/test_browser.py tests/test_browser_capture.py "$@"
