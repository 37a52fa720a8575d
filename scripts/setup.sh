#!/usr/bin/env bash
# Installs everything migscope and its test suite need on Debian 12 (as root), then
# builds the native addon and the TypeScript. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get update -qq
  # libpcap-dev: capture addon and `cap`; tshark + libvirt-wireshark: independent
  # decoders the tests compare against; qemu/nasm: real QEMU migrations in tests;
  # libvirt-*: real libvirt p2p migrations; tcpdump/tcpreplay/iproute2/ethtool: capture,
  # replay and network namespaces; chromium: report screenshots; time: GNU time, the
  # bench's wall-clock and peak-RSS meter (npm run bench); openssl: the certificates of
  # the QEMU native TLS migration test; tmux: the watch test reads the terminal view
  # from a real terminal; prometheus: scrapes `migscope serve` in its test.
  apt-get install -y -qq --no-install-recommends \
    libpcap-dev tcpdump tcpreplay tshark libvirt-wireshark iproute2 ethtool \
    nasm qemu-system-x86 qemu-utils openssl \
    libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients \
    rabbitmq-server python3-oslo.messaging \
    chromium prometheus time tmux nats-server >/dev/null
fi

# node-gyp builds against the headers of the Node.js that runs it.
if [ -d /usr/include/node ] && [ -z "${npm_config_nodedir:-}" ]; then
  export npm_config_nodedir=/usr
fi
npm ci --no-audit --no-fund
npm run build
