#!/usr/bin/env bash
# Runs N generated component trees (default 1000), each snapshotted and compared with the
# original after init, results and state. A failing case's component is written to the temp
# directory and named in the output; the run ends with the count of failures.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPSNAP_TREE_CASES="${1:-1000}" cargo test --test generated_trees -- --nocapture
