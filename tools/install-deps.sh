#!/usr/bin/env bash
# Installs the Debian packages shmrec needs, only those missing; quiet when all are present.
# Usage: tools/install-deps.sh [extra-package ...]
set -euo pipefail

packages=(
    build-essential cmake ninja-build pkg-config
    libflatbuffers-dev flatbuffers-compiler
    libboost-dev
    libgtest-dev libgmock-dev libbenchmark-dev
    libcli11-dev libfmt-dev nlohmann-json3-dev
    clang libclang-rt-14-dev
    cyclonedds-dev cyclonedds-tools iproute2 nftables
    "$@"
)

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "shmrec: installing missing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
