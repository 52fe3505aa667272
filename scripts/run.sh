#!/usr/bin/env bash
# run.sh [PATH...] — set up (apt-get what is missing, build Release) and run
# csvinfer on PATH, by default on the bundled examples/ directory.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
csvi_install_deps
csvi_build build -DCMAKE_BUILD_TYPE=Release
if [ $# -eq 0 ]; then
    set -- "$CSVI_ROOT/examples"
fi
exec "$CSVI_ROOT/build/csvinfer" "$@"
