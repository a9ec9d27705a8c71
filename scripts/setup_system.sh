#!/usr/bin/env bash
# Installs the system pieces the full test matrix needs (Debian 12, root):
#   - Mesa 25 lavapipe from bookworm-backports: Dawn's Vulkan core backend on the CPU
#     (stock Mesa 22 lavapipe is rejected by Dawn);
#   - Debian's chromium: headless browser test through navigator.gpu (SwiftShader).
# The README's fresh-machine path needs none of this: OpenGL compat on stock Mesa runs as is.
# Idempotent: skips what is already installed.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"

need=()
mesa_major=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | cut -d. -f1 | sed 's/.*://' || true)
[ "${mesa_major:-0}" -ge 24 ] 2>/dev/null || need+=(vulkan)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -eq 0 ]; then echo "setup_system: lavapipe and chromium already present"; exit 0; fi

if [ ! -f /etc/apt/sources.list.d/bookworm-backports.sources ]; then
  $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
$SUDO apt-get update -qq
for n in "${need[@]}"; do
  case $n in
    vulkan) $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null ;;
    chromium) $SUDO apt-get install -y -qq chromium >/dev/null ;;
  esac
done
echo "setup_system: installed ${need[*]}"
