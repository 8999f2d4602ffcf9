#!/usr/bin/env bash
# README command 1: set up, start berthd (default paths) if none answers,
# make the busybox image offline, and run a real container.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH="$PWD/bin:$PATH"
if ! berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  echo "starting berthd (log: /var/log/berthd.log)" >&2
  nohup berthd >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do berth version >/dev/null 2>&1 && break; sleep 0.1; done
fi
berth image inspect busybox >/dev/null 2>&1 || ./scripts/make-busybox-image.sh >/dev/null
berth run --rm busybox echo hello from berth
