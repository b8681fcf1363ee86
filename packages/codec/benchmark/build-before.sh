#!/bin/sh
# Builds @proto/codec as it was at a git revision (default: the branch's merge base with main) into
# dist/before, so a benchmark run can measure it beside the current code:
#   sh benchmark/build-before.sh <rev> && node dist/benchmark/codec.js --before=dist/before/js/index.js
# Run from packages/codec after `tsc -b`; dist/ is not tracked.
set -e
cd "$(dirname "$0")/.."
rev=${1:-$(git merge-base HEAD main)}
rm -rf dist/before
mkdir -p dist/before
git archive "$rev" src | tar -x -C dist/before
npx tsc --ignoreConfig --target ES2022 --module NodeNext --moduleResolution NodeNext --skipLibCheck \
  --types node --outDir dist/before/js dist/before/src/*.ts
echo "built @proto/codec at $(git rev-parse --short "$rev") into dist/before/js"
