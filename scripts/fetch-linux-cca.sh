#!/usr/bin/env bash
# Debian's CCA-aware arm64 kernel and a busybox initramfs for configs/linux-cca.yaml (docs/linux-cca.md).
#
#   .cache/linux-cca/Image           the raw arm64 Image of linux-binary-<abi> (trixie-backports)
#   .cache/linux-cca/initramfs.cpio  newc cpio: busybox-static:arm64 (bookworm), /init, the modules
#   .cache/linux-cca/modules/        the modules put in it, decompressed, and their load order
#
# The packages come with `apt-get download` under a private apt configuration in .cache/linux-cca-apt
# (the system's apt sources are never changed) and are unpacked with dpkg-deb -x; only the Image,
# the few modules and busybox are kept. The kernel is the one Debian's linux-image-arm64 metapackage
# names in trixie-backports (7.3.4+deb13-arm64 when this was written); LINUX_CCA_ABI=<abi> picks
# another one that the archive still has.
#
# The initramfs is written by a small builder below (python3, in rmmemu's dependencies), not by
# cpio(1): it needs no root yet holds a /dev/console character device, root-owned files and fixed
# timestamps, so the same packages always give the same bytes (and the realm the same RIM).
#
# Idempotent: nothing is fetched when .cache/linux-cca is complete. Exit status: 0 done (the paths
# are printed), 3 the Debian archive cannot be reached or no longer offers a package (tests skip),
# 1 anything else.
set -euo pipefail
cd "$(dirname "$0")/.."
out=.cache/linux-cca
aptdir=.cache/linux-cca-apt
# What the initramfs loads (busybox insmod: no dependency resolution, so the dependencies are found
# here from each module's modinfo and loaded first): the CCA attestation guest driver (configfs-tsm
# reports), virtio-mmio transport, virtio block disks, 9p file sharing over virtio.
want_modules=(arm-cca-guest tsm_report virtio_mmio virtio_blk 9pnet_virtio 9p)
builder_version=3   # bump when the initramfs contents change, so that caches are rebuilt

done_paths() {
    echo "kernel:    $PWD/$out/Image ($(cat "$out/abi"))"
    echo "initramfs: $PWD/$out/initramfs.cpio"
    echo "modules:   $(paste -sd" " "$out/modules/order")"
}

if [ -s "$out/Image" ] && [ -s "$out/initramfs.cpio" ] && [ -s "$out/modules/order" ] &&
   [ "$(cat "$out/stamp" 2>/dev/null)" = "$builder_version" ] &&
   { [ -z "${LINUX_CCA_ABI:-}" ] || [ "$(cat "$out/abi")" = "$LINUX_CCA_ABI" ]; }; then
    done_paths
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb python3; do
    command -v "$tool" >/dev/null || { echo "fetch-linux-cca: '$tool' is needed (bash scripts/deps.sh)" >&2; exit 1; }
done

# The Debian archive: $LINUX_CCA_MIRROR, else the one the system already uses (deb822 or one-line
# sources), else deb.debian.org.
uri=${LINUX_CCA_MIRROR:-}
[ -n "$uri" ] || uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -1 || true)
[ -n "$uri" ] || uri=http://deb.debian.org/debian

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial"
key=/usr/share/keyrings/debian-archive-keyring.gpg
{
    echo "deb [signed-by=$key] $uri trixie-backports main"
    echo "deb [signed-by=$key] $uri bookworm main"
} > "$aptdir/sources.list"
aptopt=(-o "Dir::Etc::sourcelist=$PWD/$aptdir/sources.list" -o Dir::Etc::sourceparts=-
        -o "Dir::State::Lists=$PWD/$aptdir/lists" -o "Dir::Cache=$PWD/$aptdir/cache"
        -o Dir::State::status=/dev/null -o APT::Architectures::=amd64 -o APT::Architectures::=arm64)
unreachable() {
    echo "fetch-linux-cca: $1" >&2
    [ -s "$aptdir/log" ] && grep -v 'Download is performed unsandboxed' "$aptdir/log" | tail -3 >&2
    exit 3
}
if ! apt-get -q "${aptopt[@]}" update >"$aptdir/log" 2>&1 || grep -q '^[WE]: Failed to fetch' "$aptdir/log"; then
    unreachable "cannot reach the Debian archive at $uri (trixie-backports and bookworm are needed)"
fi

# The kernel ABI: linux-image-arm64 (trixie-backports) -> linux-image-<abi> -> linux-binary-<abi>.
abi=${LINUX_CCA_ABI:-}
if [ -z "$abi" ]; then
    ver=$(apt-cache "${aptopt[@]}" madison linux-image-arm64:arm64 | awk -F'|' '/trixie-backports/ {gsub(/ /, "", $2); print $2; exit}')
    [ -n "$ver" ] || unreachable "trixie-backports offers no linux-image-arm64:arm64"
    abi=$(apt-cache "${aptopt[@]}" show "linux-image-arm64:arm64=$ver" |
          sed -n 's/^Depends:.*linux-image-\([0-9][^ ,]*-arm64\).*/\1/p' | head -1)
    [ -n "$abi" ] || unreachable "cannot resolve linux-image-arm64:arm64 $ver to a kernel package"
fi

tmp=$(mktemp -d "$PWD/.cache/linux-cca.XXXXXX"); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/deb" "$tmp/x"
echo "fetch-linux-cca: downloading linux-binary-$abi, linux-modules-$abi (~100 MB), busybox-static" >&2
if ! (cd "$tmp/deb" && apt-get -q "${aptopt[@]}" download "linux-binary-$abi:arm64" "linux-modules-$abi:arm64" \
        busybox-static:arm64) >"$aptdir/log" 2>&1; then
    unreachable "the Debian archive does not offer linux-binary-$abi, linux-modules-$abi or busybox-static for arm64"
fi
for d in "$tmp"/deb/*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
moddir="$tmp/x/usr/lib/modules/$abi"
[ -s "$moddir/vmlinuz" ] || { echo "fetch-linux-cca: no usr/lib/modules/$abi/vmlinuz in linux-binary-$abi" >&2; exit 1; }
[ -x "$tmp/x/bin/busybox" ] || { echo "fetch-linux-cca: no bin/busybox in busybox-static" >&2; exit 1; }

# Modules: dependencies from modinfo (Debian ships no modules.dep: depmod runs at install), each
# decompressed; the order file lists them so that every module comes after what it depends on.
mkdir -p "$tmp/out/modules"
python3 - "$moddir/kernel" "$tmp/out/modules" "${want_modules[@]}" <<'EOF'
import lzma, os, sys
tree, dst, wanted = sys.argv[1], sys.argv[2], sys.argv[3:]
norm = lambda n: n.replace('-', '_')
paths = {}
for d, _, files in os.walk(tree):
    for f in files:
        if f.endswith('.ko.xz'):
            paths[norm(f[:-6])] = os.path.join(d, f)
order, seen = [], set()
def add(name, chain):
    n = norm(name)
    if n in seen:
        return
    if n not in paths:
        sys.exit('fetch-linux-cca: module %s (needed by %s) is not in linux-modules' % (name, ' <- '.join(chain) or 'the list'))
    data = lzma.decompress(open(paths[n], 'rb').read())
    deps = []
    for field in data.split(b'\0'):
        if field.startswith(b'depends='):
            deps = [x for x in field[8:].decode().split(',') if x]
    for dep in deps:
        add(dep, [name] + chain)
    seen.add(n)
    with open(os.path.join(dst, n + '.ko'), 'wb') as f:
        f.write(data)
    order.append(n)
for w in wanted:
    add(w, [])
with open(os.path.join(dst, 'order'), 'w') as f:
    f.write('\n'.join(order) + '\n')
EOF

# The initramfs tree.
root="$tmp/root"
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,mnt,lib/modules}
cp "$tmp/x/bin/busybox" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
cp "$tmp"/out/modules/*.ko "$tmp/out/modules/order" "$root/lib/modules/"
cat > "$root/init" <<'EOF'
#!/bin/busybox sh
# rmmemu realm initramfs (scripts/fetch-linux-cca.sh): the kernel runs this as PID 1 (rdinit=/init).
/bin/busybox mount -t proc proc /proc
/bin/busybox --install -s /bin            # busybox's applets as /bin/<name> (needs /proc/self/exe)
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev           # device nodes (CONFIG_DEVTMPFS_MOUNT covers only a root fs)
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
# Modules in dependency order (lib/modules/order); a failure is reported and the boot goes on.
for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" || echo "init: insmod $m failed"
done
mount -t configfs configfs /sys/kernel/config || echo "init: no configfs"
export PATH=/bin HOME=/root
echo "rmmemu realm: Linux $(uname -r), $(nproc) CPUs"
# busybox init (same PID 1) takes over: a shell on the console (/etc/inittab, /etc/console); `poweroff`
# in it, or the shell's end, ends in the kernel's power-off, PSCI SYSTEM_OFF (`poweroff -f` at once).
exec /bin/busybox init
EOF
chmod 755 "$root/init"
cat > "$root/etc/inittab" <<'EOF'
# busybox init: the console shell runs once (/etc/console); init itself stays in its main loop, where
# it acts on `poweroff`/`reboot` (during a ::wait action it would only note them).
::once:/etc/console
::ctrlaltdel:/bin/poweroff
::shutdown:/bin/sync
EOF
cat > "$root/etc/console" <<'EOF'
#!/bin/sh
# One shell on the console; cttyhack gives it the console's real tty (ttyAMA0), so job control works.
# When it ends (exit, Ctrl-D) the realm powers off.
/bin/cttyhack /bin/sh -l
/bin/poweroff -f
EOF
chmod 755 "$root/etc/console"
cat > "$root/etc/profile" <<'EOF'
export PATH=/bin HOME=/root PS1='realm:\w# '
cd /root
EOF
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

# newc cpio writer: every entry owned by root, mtime 0, inode numbers in order; /dev/console (c 5:1)
# added as an entry, so the kernel can open the initial console before /init runs.
python3 - "$root" "$tmp/out/initramfs.cpio" <<'EOF'
import os, stat, sys
src, dst = sys.argv[1], sys.argv[2]
out = open(dst, 'wb')
ino = [1]
def entry(name, mode, data=b'', rdev=(0, 0)):
    nb = name.encode() + b'\0'
    fields = [ino[0], mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
              rdev[0], rdev[1], len(nb), 0]
    ino[0] += 1
    out.write(b'070701' + b''.join(b'%08X' % f for f in fields) + nb)
    out.write(b'\0' * (-(110 + len(nb)) % 4) + data + b'\0' * (-len(data) % 4))
paths = []
for d, dirs, files in os.walk(src):
    for n in dirs + files:
        paths.append(os.path.relpath(os.path.join(d, n), src))
for rel in sorted(paths):
    full = os.path.join(src, rel)
    st = os.lstat(full)
    if stat.S_ISLNK(st.st_mode):
        entry(rel, stat.S_IFLNK | 0o777, os.readlink(full).encode())
    elif stat.S_ISDIR(st.st_mode):
        entry(rel, stat.S_IFDIR | 0o755)
    else:
        entry(rel, stat.S_IFREG | (0o755 if st.st_mode & 0o100 else 0o644), open(full, 'rb').read())
    if rel == 'dev':
        entry('dev/console', stat.S_IFCHR | 0o600, rdev=(5, 1))
entry('TRAILER!!!', 0)
out.write(b'\0' * (-out.tell() % 512))
out.close()
EOF

cp "$moddir/vmlinuz" "$tmp/out/Image"
echo "$abi" > "$tmp/out/abi"
echo "$builder_version" > "$tmp/out/stamp"
rm -rf "$out"; mv "$tmp/out" "$out"
done_paths
