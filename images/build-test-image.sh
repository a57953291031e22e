#!/usr/bin/env bash
# Builds the Stratus test guest image: one small self-booting qcow2 disk
# (MBR + syslinux on a FAT partition holding a Debian cloud kernel and a
# busybox initramfs that is the whole root filesystem), from Debian packages
# only, without loop mounts or nbd. See images/README.md.
#
#   images/build-test-image.sh [OUTDIR]
#
# OUTDIR defaults to ${STRATUS_IMAGE_CACHE:-/var/cache/stratus/images}.
# Writes OUTDIR/stratus-test-<hash>.qcow2 (<hash>: this script, images/guest/*,
# the kernel and busybox package versions) and points the symlink
# OUTDIR/stratus-test.qcow2 at it (atomically). When the file for the current
# hash exists nothing is built. The last line of stdout is the image's path.
# Runs as root; installs the Debian packages it needs when missing.
set -euo pipefail

# Exact kernel package (FACTS.md). If apt no longer has it, the newest
# linux-image-*-cloud-amd64 is used instead.
KERNEL_PKG=linux-image-6.1.0-56-cloud-amd64
IMAGE_VERSION=1.0
DISK_MB=48                      # virtual disk size; partition 1 starts at 1 MiB
PACKAGES=(busybox-static syslinux syslinux-common mtools dosfstools fdisk cpio qemu-utils)
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
GUEST="$HERE/guest"
OUTDIR=${1:-${STRATUS_IMAGE_CACHE:-/var/cache/stratus/images}}
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

T0=$(date +%s.%N)
step() { printf '==> [%5.1fs] %s\n' "$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$*"; }
die() { echo "build-test-image: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root"
[ -d "$GUEST" ] || die "missing $GUEST"

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    step "apt-get update"
    apt-get update >&2
    APT_UPDATED=1
  fi
}
candidate_version() {
  apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }' || true
}
installed_version() {
  dpkg-query -W -f '${Status} ${Version}\n' "$1" 2>/dev/null | awk '$3 == "installed" { print $4 }' || true
}

# ---------------------------------------------------------------- inputs ----
# apt-cache takes ~0.5 s here (no pkgcache.bin), so the resolved versions are
# remembered in OUTDIR, keyed by the apt lists and dpkg status they came from.
mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd -P)
APT_STATE=$( { echo "$KERNEL_PKG"; stat -c '%n %Y %s' /var/lib/apt/lists/*_Packages* /var/lib/dpkg/status 2>/dev/null || true; } | md5sum | cut -c1-16)
RESOLVED=$OUTDIR/.resolved-versions
KVER= BBVER=
if [ -f "$RESOLVED" ] && [ "$(sed -n 1p "$RESOLVED")" = "$APT_STATE" ]; then
  { read -r _; read -r KERNEL_PKG KVER; read -r BBVER; } < "$RESOLVED"
fi
if [ -z "$KVER" ] || [ -z "$BBVER" ]; then
  step "resolving kernel package $KERNEL_PKG"
  KVER=$(candidate_version "$KERNEL_PKG")
  if [ -z "$KVER" ]; then
    apt_update_once
    KVER=$(candidate_version "$KERNEL_PKG")
  fi
  if [ -z "$KVER" ]; then
    alt=$(apt-cache search --names-only '^linux-image-[0-9.]+-[0-9]+-cloud-amd64$' 2>/dev/null \
          | awk '{ print $1 }' | sort -V | tail -n 1 || true)
    [ -n "$alt" ] || die "no linux-image-*-cloud-amd64 package in apt"
    step "$KERNEL_PKG is not available; using $alt"
    KERNEL_PKG=$alt
    KVER=$(candidate_version "$KERNEL_PKG")
    [ -n "$KVER" ] || die "no version for $KERNEL_PKG"
  fi
  BBVER=$(installed_version busybox-static)
  [ -n "$BBVER" ] || BBVER=$(candidate_version busybox-static)
  [ -n "$BBVER" ] || BBVER=unknown
  printf '%s\n%s %s\n%s\n' "$APT_STATE" "$KERNEL_PKG" "$KVER" "$BBVER" > "$RESOLVED.$$"
  mv -f "$RESOLVED.$$" "$RESOLVED"
fi

HASH=$(
  {
    echo "stratus-test-image $IMAGE_VERSION"
    cat "$SELF"
    (cd "$GUEST" && find . -type f | sort | while read -r f; do echo "== $f"; cat "$f"; done)
    echo "kernel $KERNEL_PKG $KVER"
    echo "busybox-static $BBVER"
  } | sha256sum | cut -c1-12
)
NAME=stratus-test-$HASH.qcow2
OUT=$OUTDIR/$NAME
LINK=$OUTDIR/stratus-test.qcow2
step "inputs: $KERNEL_PKG $KVER, busybox-static ${BBVER:-?}, hash $HASH"

update_link() {
  if [ "$(readlink "$LINK" 2>/dev/null || true)" != "$NAME" ]; then
    ln -sfn "$NAME" "$OUTDIR/.stratus-test.qcow2.$$"
    mv -Tf "$OUTDIR/.stratus-test.qcow2.$$" "$LINK"
    step "symlink $LINK -> $NAME"
  fi
}

if [ -f "$OUT" ]; then
  step "cached: $OUT"
  update_link
  echo "$OUT"
  exit 0
fi

# One build at a time per OUTDIR; a concurrent run may have just built it.
exec 9>"$OUTDIR/.build.lock"
flock 9
if [ -f "$OUT" ]; then
  step "built meanwhile by another run: $OUT"
  update_link
  echo "$OUT"
  exit 0
fi

# -------------------------------------------------------------- packages ----
missing=()
for p in "${PACKAGES[@]}"; do
  [ -n "$(installed_version "$p")" ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  step "installing ${missing[*]}"
  if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    apt_update_once
    apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
fi
[ -f "$MBR_BIN" ] || die "missing $MBR_BIN (package syslinux-common)"
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "missing $BUSYBOX (package busybox-static)"

TMP=$(mktemp -d /tmp/stratus-image.XXXXXX)
PARTIAL=$OUTDIR/.$NAME.partial.$$
trap 'rm -rf "$TMP"; rm -f "$PARTIAL"' EXIT

# ---------------------------------------------------------------- kernel ----
step "downloading $KERNEL_PKG=$KVER"
cd "$TMP"
if ! apt-get -o APT::Sandbox::User=root download "$KERNEL_PKG=$KVER" >&2; then
  apt_update_once
  apt-get -o APT::Sandbox::User=root download "$KERNEL_PKG=$KVER" >&2
fi
step "extracting the kernel package"
dpkg-deb -x "$TMP"/"$KERNEL_PKG"_*.deb "$TMP/kpkg"
KREL=$(ls "$TMP/kpkg/lib/modules")
[ "$(echo "$KREL" | wc -l)" = 1 ] || die "expected one module directory, got: $KREL"
VMLINUZ=$TMP/kpkg/boot/vmlinuz-$KREL
[ -f "$VMLINUZ" ] || die "no $VMLINUZ in $KERNEL_PKG"
KMOD=$TMP/kpkg/lib/modules/$KREL

# ------------------------------------------------------------- initramfs ----
R=$TMP/root
step "assembling the root filesystem"
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc/init.d,proc,sys,dev,run,tmp,root,mnt,var/log,lib/modules,usr/share/udhcpc}
chmod 700 "$R/root"
chmod 1777 "$R/tmp"
install -m 755 "$BUSYBOX" "$R/bin/busybox"
n=0
for applet in $("$BUSYBOX" --list-full); do
  case "$applet" in bin/busybox|linuxrc) continue ;; esac
  [ -e "$R/$applet" ] || { ln -s /bin/busybox "$R/$applet"; n=$((n + 1)); }
done
# Names busybox does not answer to itself.
printf '#!/bin/sh\nexec mke2fs "$@"\n' > "$R/sbin/mkfs.ext2"
printf '#!/bin/sh\nexec mkdosfs "$@"\n' > "$R/sbin/mkfs.vfat"
printf '#!/bin/sh\n# busybox ash stands in for bash (user-data scripts with #!/bin/bash)\nexec /bin/sh "$@"\n' > "$R/bin/bash"
chmod 755 "$R/sbin/mkfs.ext2" "$R/sbin/mkfs.vfat" "$R/bin/bash"
step "linked $n busybox applets"

# guest files: source name -> path in the image, mode
while read -r src dst mode; do
  install -m "$mode" "$GUEST/$src" "$R/$dst"
done <<'EOF'
init            init                              755
inittab         etc/inittab                       644
rcS             etc/init.d/rcS                    755
rcK             etc/init.d/rcK                    755
cloud-init      sbin/stratus-cloud-init           755
power-button    sbin/stratus-power-button         755
udhcpc.script   usr/share/udhcpc/default.script   755
profile         etc/profile                       644
modules         etc/modules                       644
EOF
echo "root:x:0:0:root:/root:/bin/sh" > "$R/etc/passwd"
printf 'root:x:0:\ntty:x:5:\n' > "$R/etc/group"
echo "root::0:0:99999:7:::" > "$R/etc/shadow"
chmod 600 "$R/etc/shadow"
echo "stratus-test" > "$R/etc/hostname"
printf '127.0.0.1 localhost\n::1 localhost ip6-localhost\n' > "$R/etc/hosts"
: > "$R/etc/resolv.conf"
ln -s /proc/mounts "$R/etc/mtab"
echo "$IMAGE_VERSION-$HASH" > "$R/etc/stratus-release"
printf 'image=%s\nhash=%s\nkernel=%s\nkernel_package=%s %s\nbusybox=%s\n' \
  "$IMAGE_VERSION" "$HASH" "$KREL" "$KERNEL_PKG" "$KVER" "$BBVER" > "$R/etc/stratus-build"
mknod -m 600 "$R/dev/console" c 5 1
mknod -m 666 "$R/dev/null" c 1 3

step "kernel modules for $KREL"
"$BUSYBOX" depmod -b "$TMP/kpkg" "$KREL"
wanted=$(grep -v '^#' "$GUEST/modules" | awk 'NF { print $1 }')
needed=$(awk -v want="$(echo "$wanted" | tr '-' '_' | tr '\n' ' ')" '
  BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) W[w[i]] = 1 }
  {
    path = $1; sub(/:$/, "", path)
    name = path; sub(/.*\//, "", name); sub(/\.ko.*$/, "", name); gsub(/-/, "_", name)
    if (name in W) { found[name] = 1; print path; for (i = 2; i <= NF; i++) print $i }
  }
  END { for (m in W) if (!(m in found)) print "MISSING " m }' "$KMOD/modules.dep" | sort -u)
if echo "$needed" | grep -q '^MISSING '; then
  die "modules not in $KERNEL_PKG: $(echo "$needed" | sed -n 's/^MISSING //p' | tr '\n' ' ')"
fi
for m in $needed; do
  case "$m" in *.ko) ;; *) die "module $m is not an uncompressed .ko" ;; esac
  mkdir -p "$R/lib/modules/$KREL/$(dirname "$m")"
  cp "$KMOD/$m" "$R/lib/modules/$KREL/$m"
done
cp "$KMOD/modules.builtin" "$KMOD/modules.order" "$R/lib/modules/$KREL/" 2>/dev/null || true
"$BUSYBOX" depmod -b "$R" "$KREL"
step "$(echo "$needed" | wc -l) modules (with dependencies)"

step "packing the initramfs"
(cd "$R" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) | gzip -9n > "$TMP/initrd.img"

# ------------------------------------------------------------------ disk ----
step "making the FAT boot partition (syslinux)"
PART_KB=$(( (DISK_MB - 1) * 1024 ))
cat > "$TMP/syslinux.cfg" <<EOF
SERIAL 0 115200
DEFAULT stratus
PROMPT 0
TIMEOUT 1
LABEL stratus
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND console=tty0 console=ttyS0,115200 panic=10
EOF
mkfs.fat -F 16 -n STRATUSBOOT -h 2048 -C "$TMP/part.img" "$PART_KB" >&2
cp "$VMLINUZ" "$TMP/vmlinuz"
mcopy -i "$TMP/part.img" "$TMP/vmlinuz" "$TMP/initrd.img" "$TMP/syslinux.cfg" ::/
syslinux --install "$TMP/part.img"
mdir -i "$TMP/part.img" ::/ >&2

step "assembling the disk (MBR, partition table, partition at 1 MiB)"
truncate -s "${DISK_MB}M" "$TMP/disk.raw"
printf 'label: dos\nstart=2048, size=%d, type=e, bootable\n' $((PART_KB * 2)) \
  | sfdisk --no-reread --no-tell-kernel -q "$TMP/disk.raw" >&2
dd if="$TMP/part.img" of="$TMP/disk.raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$MBR_BIN" of="$TMP/disk.raw" bs=440 count=1 conv=notrunc status=none

step "converting to qcow2"
qemu-img convert -f raw -O qcow2 "$TMP/disk.raw" "$PARTIAL"
chmod 644 "$PARTIAL"
mv -f "$PARTIAL" "$OUT"
update_link
step "done: $(du -h "$OUT" | cut -f1) on disk, ${DISK_MB} MiB virtual (kernel $(du -h "$VMLINUZ" | cut -f1), initramfs $(du -h "$TMP/initrd.img" | cut -f1))"
echo "$OUT"
