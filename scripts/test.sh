#!/usr/bin/env bash
# README command 2 (and CI): set up, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
npm test
