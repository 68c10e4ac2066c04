#!/usr/bin/env bash
# Runs on the lent GPU machine, from the repository root, after scripts/gpu-bench-prepare.sh ran
# here and .devrun (and .gl, the Vulkan loader packages) travelled with the tree. Writes the bench
# report and logs under $OUT (or ./gpu-out).
set -uo pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$nvidia_icd" ] && export VK_DRIVER_FILES="$nvidia_icd"
cd .devrun
[ -x node ] || { xz -dc node.xz > node && chmod +x node; }
mkdir -p node_modules/webgpu/dist/linux-x64
[ -f node_modules/webgpu/dist/linux-x64/dawn.node ] || xz -dc dawn.node.xz > node_modules/webgpu/dist/linux-x64/dawn.node
cp webgpu-index.js node_modules/webgpu/index.js
cp webgpu-package.json node_modules/webgpu/package.json
cd ..
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv > "$out/gpu.txt" 2>&1
./.devrun/node --version >> "$out/gpu.txt"
# SWEEP=0 skips the matmul tile sweep (the bench alone, when device time is short).
if [ "${SWEEP:-1}" = 1 ]; then
  timeout 240 ./.devrun/node .devrun/bench-matmul.mjs 1024 2048 4096 8192 2>&1 | tee "$out/matmul-tiles.log"
fi
timeout 300 ./.devrun/node .devrun/webgpu.mjs "$@" 2>&1 | tee "$out/bench.log"
cp .devrun/results/webgpu.json "$out/webgpu.json" 2>/dev/null || true
