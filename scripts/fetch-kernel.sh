#!/usr/bin/env bash
# Fetch Debian's stock arm64 kernel (linux-image-*-arm64, not CCA-aware) for configs/linux-debian.yaml:
# apt-get download of the arm64 package, cached in .cache/linux/ (idempotent: nothing to do when
# the cache is filled). Prints the path of the kernel image.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=.cache/linux
if [ -s "$cache/vmlinuz" ]; then
    echo "$cache/vmlinuz"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
fi
if ! apt-cache show linux-image-arm64:arm64 >/dev/null 2>&1; then
    $SUDO apt-get update -qq
fi
pkg=$(apt-cache depends linux-image-arm64:arm64 | sed -n 's/^ *Depends: \(linux-image-[0-9].*-arm64\).*/\1/p' | head -1)
[ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-arm64:arm64" >&2; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && apt-get download -qq "$pkg:arm64" 2>/dev/null)
dpkg-deb -x "$tmp"/*.deb "$tmp/x"
mkdir -p "$cache"
cp "$tmp"/x/boot/vmlinuz-* "$cache/vmlinuz.tmp"
echo "${pkg#linux-image-}" > "$cache/version"
mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
echo "$cache/vmlinuz"
