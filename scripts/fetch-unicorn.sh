#!/usr/bin/env bash
# Unicorn 2.1.1, rmmemu's CPU engine (docs/vcpu.md: why exactly this release), into .cache/unicorn/.
# Debian trixie's libunicorn2t64 + libunicorn-dev 2.1.1-2+b2 run unchanged on bookworm (glibc >= 2.34).
# They are fetched with a private apt configuration (the system's apt sources are never changed)
# and unpacked with dpkg-deb -x. On a system whose own libunicorn-dev is already 2.1.1 (trixie),
# that one is used. Idempotent; prints the prefix to build against (…/usr).
set -euo pipefail
cd "$(dirname "$0")/.."
want=2.1.1-2+b2
cache=.cache/unicorn
if [ -f "$cache/stamp" ] && [ "$(cat "$cache/stamp")" = "$want" ]; then
    echo "$PWD/$cache/usr"
    exit 0
fi
sysver=$(dpkg-query -W -f='${Version} ${Status}' libunicorn-dev 2>/dev/null || true)
case "$sysver" in
    2.1.1-*" install ok installed")
        # the system's own 2.1.1 (trixie): link it where it is
        rm -rf "$cache"; mkdir -p "$cache"; ln -s /usr "$cache/usr"; echo "$want" > "$cache/stamp"
        echo "$PWD/$cache/usr"; exit 0 ;;
esac
# The Debian archive the system already uses (deb822 or one-line sources), else deb.debian.org.
uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1)
[ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
apt=$(mktemp -d); trap 'rm -rf "$apt"' EXIT
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/deb"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" > "$apt/sources.list"
aptopt=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o Dir::Etc::sourceparts=- \
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o APT::Architectures::=amd64)
if ! apt-get -qq "${aptopt[@]}" update >"$apt/log" 2>&1; then
    echo "fetch-unicorn: cannot reach Debian trixie at $uri (needed for Unicorn $want):" >&2
    tail -3 "$apt/log" >&2; exit 1
fi
if ! (cd "$apt/deb" && apt-get -qq "${aptopt[@]}" download "libunicorn2t64=$want" "libunicorn-dev=$want") \
        >"$apt/log" 2>&1; then
    echo "fetch-unicorn: Debian trixie no longer offers Unicorn $want:" >&2
    grep -v '^W: Download is performed unsandboxed' "$apt/log" | tail -3 >&2; exit 1
fi
rm -rf "$cache.tmp"; mkdir -p "$cache.tmp"
for d in "$apt"/deb/*.deb; do dpkg-deb -x "$d" "$cache.tmp"; done
echo "$want" > "$cache.tmp/stamp"
rm -rf "$cache"; mv "$cache.tmp" "$cache"
echo "$PWD/$cache/usr"
