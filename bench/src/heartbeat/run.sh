#!/bin/sh
# Runs the connection benchmark from the built output. 5,000 connections need about 10,000 file
# descriptors across the two processes; raise the soft limit for this shell if the hard limit allows.
set -e
cd "$(dirname "$0")/../../.."
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
npx tsc -b bench
exec node bench/dist/src/heartbeat/connections.js "$@"
