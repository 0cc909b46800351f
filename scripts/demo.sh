#!/usr/bin/env bash
# The main job: record real failing TCP connections in a private network namespace with
# tcpdump, then let tcpsleuth explain the capture. Needs root (network namespaces).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f dist/src/cli/main.js ] || npm run --silent build

ns="tsl-demo-$$"
out="${TCPSLEUTH_DEMO_DIR:-$(mktemp -d)}"
cap="$out/demo.pcap"
cleanup() {
  [ -n "${tcpdump_pid:-}" ] && kill "$tcpdump_pid" 2>/dev/null || true
  ip netns delete "$ns" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" tcpdump -U --immediate-mode -B 32768 -n -i lo -w "$cap" tcp 2>"$out/tcpdump.log" &
tcpdump_pid=$!
# Start the traffic only once tcpdump is really listening.
for _ in $(seq 100); do grep -q 'listening on' "$out/tcpdump.log" && break; sleep 0.05; done
echo "== traffic in namespace $ns (recorded by tcpdump to $cap)"
ip netns exec "$ns" node dist/src/lab/demo-traffic.js
sleep 0.5
kill -INT "$tcpdump_pid"; wait "$tcpdump_pid" 2>/dev/null || true; tcpdump_pid=""

echo
echo "== tcpsleuth analyze $cap"
node dist/src/cli/main.js analyze "$cap"
echo
id=$(node dist/src/cli/main.js analyze --json --port 8081 "$cap" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const c=s.split("\n").filter(Boolean).map(JSON.parse).find(r=>r.type==="connection");console.log(c?c.id:"")})')
if [ -n "$id" ]; then
  echo "== the server that closed with unread data, packet by packet: tcpsleuth analyze --connection $id"
  node dist/src/cli/main.js analyze --connection "$id" "$cap"
fi
