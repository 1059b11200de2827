#!/usr/bin/env bash
# The main job: install what is missing, build, run the default demo realm.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh release
exec ./build/rmmemu run "$@"
