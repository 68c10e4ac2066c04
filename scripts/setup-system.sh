#!/usr/bin/env bash
# System packages the browser and WebGPU tests need, installed only when missing (safe to rerun):
#   chromium   - headless Chromium for tests/browser (driven by playwright-core; never
#                `npx playwright install`), and its SwiftShader Vulkan driver
#                (/usr/lib/chromium/vk_swiftshader_icd.json), the one Dawn accepts on a machine
#                without a GPU (docs/testing-in-browsers.md)
#   libvulkan1 - the Vulkan loader that the `webgpu` package (Dawn for Node) opens
# Installing needs root; without it, missing packages are reported and the script exits 0, so the
# caller decides (CI exports SYMTENSOR_REQUIRE_BROWSER=1 and the tests then fail with the reason).
set -euo pipefail

PACKAGES=(chromium libvulkan1)

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup-system: no dpkg here (not Debian/Ubuntu); install ${PACKAGES[*]} yourself. Nothing done."
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if installed "$p"; then
    echo "setup-system: $p already installed ($(dpkg-query -W -f='${Version}' "$p"))"
  else
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-system: nothing to install"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-system: SKIPPED installing ${missing[*]}: not root (rerun as root: sudo $0)"
  exit 0
fi

echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (an image's own setup) instead of failing on its lock.
apt_get() { apt-get -o DPkg::Lock::Timeout=600 "$@"; }
apt_get update -q
apt_get install -y -q "${missing[@]}"
for p in "${missing[@]}"; do
  installed "$p" || { echo "setup-system: $p failed to install" >&2; exit 1; }
  echo "setup-system: installed $p ($(dpkg-query -W -f='${Version}' "$p"))"
done
