#!/usr/bin/env bash
# The main job: reproduce every classic TCP failure for real in throw-away network namespaces
# (tcpsleuth lab), then let tcpsleuth explain one of the recorded captures from the wire alone.
# Needs root (network namespaces, tracefs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/src/cli/main.js ] || npm run --silent build

out="${TCPSLEUTH_DEMO_DIR:-$(mktemp -d /tmp/tcpsleuth-demo-XXXXXX)}"
echo "== tcpsleuth lab run --all --out $out"
# The lab exits 1 when a scenario does not behave as expected; show the rest of the demo anyway.
node dist/src/cli/main.js lab run --all --out "$out" || echo "(some scenarios did not behave as expected: see the table above)"

cap="$out/close-unread-data/capture.pcap"
echo
echo "== tcpsleuth analyze $cap"
node dist/src/cli/main.js analyze "$cap"
echo
echo "== the same connection, packet by packet: tcpsleuth analyze --connection 1 $cap"
node dist/src/cli/main.js analyze --connection 1 "$cap"
echo
echo "Recordings (captures, kernel events, application errnos, truth.json) are in $out"
