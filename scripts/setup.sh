#!/usr/bin/env bash
# setup.sh — shared by run.sh and test.sh: install what is missing on a fresh
# Debian machine (apt-get), then configure and build one build directory.
#   source scripts/setup.sh; csvi_install_deps; csvi_build DIR [cmake args...]
set -euo pipefail

CSVI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CSVI_DEPS=(build-essential cmake pkg-config liburing-dev libxxhash-dev libcriterion-dev libjansson-dev zlib1g-dev libzstd-dev)

csvi_install_deps() {
    local missing=()
    for p in "${CSVI_DEPS[@]}"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# csvi_build DIR [extra cmake args]: configure (once) and build DIR under the repo.
csvi_build() {
    local dir="$CSVI_ROOT/$1"
    shift
    cmake -S "$CSVI_ROOT" -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)" >/dev/null
}
