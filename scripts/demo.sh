#!/usr/bin/env bash
# Install, crawl the embedded sample portal into data/demo, and serve the result with Datasette.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --run
exec .venv/bin/nianbao demo --data data/demo "$@"
