#!/usr/bin/env bash
# Run lianxi: install what it needs, then `lianxi up` (upgrade the database, load the
# bundled plan if there is none, start the sandbox or the bot and the worker).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/lianxi up "$@"
