#!/usr/bin/env bash
# Install the Debian packages rmmemu needs and fetch its engine (scripts/fetch-unicorn.sh).
# Idempotent: does nothing when all are present.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libssl-dev libyaml-dev libcunit1-dev libfdt-dev libcbor-dev zlib1g-dev
      gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
      python3 python3-cbor2 python3-cryptography)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    bash scripts/fetch-unicorn.sh >/dev/null
    exit 0
fi
echo "rmmemu: installing missing Debian packages: ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "rmmemu: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The CPU engine, Unicorn 2.1.1 (not bookworm's 2.0.1): Debian trixie's build into .cache/unicorn/.
bash scripts/fetch-unicorn.sh >/dev/null
