#!/usr/bin/env bash
# Installs everything tcpsleuth needs on a fresh Debian 12 machine (idempotent), then builds it.
#   Debian packages: capture and network tools the tests, the lab and the benchmarks drive.
#   npm packages:    from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(
  tcpdump    # live capture, and the tests' recordings
  tshark     # editcap and mergecap (wireshark-common) for test files; the benchmark's peer
  tcptrace   # the benchmark's second peer
  iproute2   # ip netns / veth for the lab and the tests
  nftables   # the lab's firewall scenarios
  ncat       # the chat benchmark's peer and a test client
  procps     # sysctl, ps
  time       # GNU time: peak RSS in the benchmarks
)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# tracefs: `tcpsleuth trace` mounts it itself when it can; mounting here too saves a surprise.
if [ -d /sys/kernel/tracing ] && [ ! -e /sys/kernel/tracing/instances ] && [ "$(id -u)" -eq 0 ]; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null || true
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
npm run --silent build
echo "setup: done (node $(node --version), $(tcpdump --version 2>&1 | head -n1))"
