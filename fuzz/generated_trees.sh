#!/usr/bin/env bash
# Runs N generated component trees (default 1000), seeds FIRST.. (default 0), each snapshotted
# and compared with the original after init, results and state. A failing case's component is written to the temp
# directory and named in the output; the run ends with the count of failures.
#
#   fuzz/generated_trees.sh [N [FIRST]]
set -euo pipefail
cd "$(dirname "$0")/.."
COMPSNAP_TREE_CASES="${1:-1000}" COMPSNAP_TREE_FIRST="${2:-0}" cargo test --test generated_trees -- --nocapture
