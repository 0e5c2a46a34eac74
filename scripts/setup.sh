#!/usr/bin/env bash
# Install what nianbao needs on a fresh Debian machine (root, Python 3.11, package registries only):
# Debian packages the readers and browser tests use, a virtualenv in .venv, pinned Python deps.
#   scripts/setup.sh          everything (tests included)
#   scripts/setup.sh --run    only what running the demo needs (the [samples] extra)
set -euo pipefail
cd "$(dirname "$0")/.."

RUN_PACKAGES=(libreoffice-writer-nogui python3-uno)
TEST_PACKAGES=(chromium fonts-noto-cjk tesseract-ocr tesseract-ocr-chi-sim poppler-utils poppler-data)
packages=("${RUN_PACKAGES[@]}")
[ "${1:-}" = "--run" ] || packages+=("${TEST_PACKAGES[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# --run: the demo needs the sample portal's extra (reportlab); the tests need [test] (samples and Scrapyd too)
extras="[samples]"
[ "${1:-}" = "--run" ] || extras="[test]"
.venv/bin/python -m pip install -q -c requirements.lock -e ".${extras}"
