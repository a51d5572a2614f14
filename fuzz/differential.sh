#!/usr/bin/env bash
# Runs the differential corpus: N generated init programs (default 500), seeds FIRST.. (default
# 0), each snapshotted and compared with the original after init, results and state. A failing
# case's component is written to the temp directory and named in the output.
#
#   fuzz/differential.sh [N [FIRST]]
set -euo pipefail
cd "$(dirname "$0")/.."
COMPSNAP_DIFF_CASES="${1:-500}" COMPSNAP_DIFF_FIRST="${2:-0}" cargo test --test differential -- --nocapture
