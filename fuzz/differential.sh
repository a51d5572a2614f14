#!/usr/bin/env bash
# Runs the differential corpus: N generated init programs (default 500), each snapshotted and
# compared with the original after init, results and state. A failing case's component is
# written to the temp directory and named in the output.
set -euo pipefail
cd "$(dirname "$0")/.."
COMPSNAP_DIFF_CASES="${1:-500}" cargo test --test differential -- --nocapture
