#!/bin/bash
# Installs dynlab's Debian 12 packages (run as root). Skips apt when all are
# present, unless DYNLAB_FORCE_APT=1 (CI always runs apt-get update first).
set -euo pipefail
PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libopenblas-dev liblapacke-dev libcjson-dev zlib1g-dev libpng-dev libjpeg-dev
      libcurl4-openssl-dev libcmocka-dev libopenmpi-dev openmpi-bin
      gnuplot-nox python3 python3-numpy python3-torch
      fortunes dataset-fashion-mnist python3-vega-datasets python3-sklearn chromium chromium-driver)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ] && [ "${DYNLAB_FORCE_APT:-0}" != 1 ]; then
  echo "install-deps: all ${#PKGS[@]} Debian packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${PKGS[@]}"
