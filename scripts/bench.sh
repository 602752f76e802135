#!/usr/bin/env bash
# npm run bench [-- --quick | --runs N | --phases LIST | --out DIR]: the package against doing the
# steps directly, on the lab (bench/README.md). Builds the package (the engine's dynamic providers
# load it from dist/), type-checks the benchmark, then runs it with ts-node.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
npm run --silent build
node scripts/link-self.js
npx tsc -p bench/tsconfig.json
export TS_NODE_PROJECT=bench/tsconfig.json TS_NODE_TRANSPILE_ONLY=1
exec node -r ts-node/register bench/main.ts "$@"
