#!/bin/bash
# Build the lab guest image: kernel, busybox initramfs and an ext4 root image.
# Usage: build.sh OUTDIR MIRROR
# Writes OUTDIR/{vmlinuz,initrd.img,base.img,kernel-version}. Runs as root on a
# Debian 12 host. Called by lab/run, which caches OUTDIR by a hash of the inputs.
set -euo pipefail
OUT=$(realpath -m "$1"); MIRROR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"; cd "$OUT"
W=$OUT/work; mkdir -p "$W"
t0=$(date +%s)
step() { echo "[build $(( $(date +%s) - t0 ))s] $*"; }

cleanup() {
    for m in sys dev/pts dev proc; do
        mountpoint -q "$W/rootfs/$m" 2>/dev/null && umount -l "$W/rootfs/$m" || true
    done
}
trap cleanup EXIT

step "kernel"
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { echo "cannot find the kernel package linux-image-amd64 depends on" >&2; exit 1; }
K=${KPKG#linux-image-}
rm -rf "$W/kernel"; mkdir -p "$W/kernel"
(cd "$W/kernel" && apt-get -o APT::Sandbox::User=root download -q "$KPKG")
dpkg-deb -x "$W"/kernel/"$KPKG"_*.deb "$W/kernel/x"
depmod -b "$W/kernel/x" "$K"
cp "$W/kernel/x/boot/vmlinuz-$K" vmlinuz
echo "$K" > kernel-version

step "initramfs"
I=$W/initrd; rm -rf "$I"; mkdir -p "$I"/{bin,dev,proc,sys,newroot,mods}
cp /bin/busybox "$I/bin/busybox"
n=0
for m in $(for mod in virtio_pci virtio_blk ext4; do modprobe -d "$W/kernel/x" -S "$K" --show-depends $mod; done | awk '/^insmod/{print $2}'); do
    b=$(basename "$m")
    ls "$I/mods" | grep -q -- "-$b\$" && continue
    n=$((n+1)); cp "$m" "$I/mods/$(printf %02d $n)-$b"
done
cp "$HERE/initramfs-init" "$I/init"; chmod 755 "$I/init"
(cd "$I" && find . | cpio -o -H newc --quiet | gzip -1 > "$OUT/initrd.img")

step "debootstrap"
R=$W/rootfs; rm -rf "$R"
debootstrap --variant=minbase --include=systemd-sysv,udev,kmod,iproute2,procps,netbase bookworm "$R" "$MIRROR" > "$W/debootstrap.log" 2>&1 \
    || { tail -30 "$W/debootstrap.log"; exit 1; }
# same apt sources as the host (bookworm, -updates, -security), so versions match
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$R/etc/apt/sources.list"; cp /etc/apt/sources.list.d/debian.sources "$R/etc/apt/sources.list.d/"
fi
printf '#!/bin/sh\nexit 101\n' > "$R/usr/sbin/policy-rc.d"; chmod +x "$R/usr/sbin/policy-rc.d"
mount -t proc proc "$R/proc"; mount --bind /dev "$R/dev"; mount --bind /dev/pts "$R/dev/pts"; mount -t sysfs sys "$R/sys"

step "packages"
PKGS=$(grep -v '^\s*#' "$HERE/packages.txt" | xargs)
chroot "$R" apt-get update -q > "$W/apt.log" 2>&1 || { tail -30 "$W/apt.log"; exit 1; }
DEBIAN_FRONTEND=noninteractive chroot "$R" apt-get install -y -q --no-install-recommends $PKGS >> "$W/apt.log" 2>&1 \
    || { tail -30 "$W/apt.log"; exit 1; }
chroot "$R" apt-get clean
cleanup
rm -f "$R/usr/sbin/policy-rc.d"
rm -rf "$R"/var/lib/apt/lists/* "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/locale/*

step "modules"
MD=$R/lib/modules/$K; mkdir -p "$MD"
(cd "$W/kernel/x/lib/modules/$K" && tar --exclude='kernel/drivers/gpu' --exclude='kernel/drivers/media' --exclude='kernel/sound' \
    --exclude='kernel/drivers/net/wireless' --exclude='kernel/drivers/usb' --exclude='kernel/drivers/infiniband' \
    --exclude='kernel/drivers/bluetooth' --exclude='kernel/net/bluetooth' --exclude='kernel/drivers/staging' \
    --exclude='kernel/drivers/iio' --exclude='kernel/drivers/hid' --exclude='kernel/drivers/input' \
    --exclude='kernel/drivers/isdn' --exclude='kernel/drivers/net/ethernet' --exclude='kernel/net/wireless' \
    --exclude='kernel/net/mac80211' --exclude='kernel/drivers/scsi' --exclude='kernel/drivers/platform' \
    -cf - .) | (cd "$MD" && tar -xf -)
depmod -b "$R" "$K"

step "guest configuration"
install -m 755 "$HERE/lab-boot" "$R/usr/local/sbin/lab-boot"
install -m 644 "$HERE/lab-systemd.service" "$R/etc/systemd/system/lab-systemd.service"
ln -sf /etc/systemd/system/lab-systemd.service "$R/etc/systemd/system/multi-user.target.wants/lab-systemd.service"
for u in corosync pacemaker pcsd pcsd-ruby nfs-server nfs-kernel-server rpcbind rpcbind.socket nfs-client.target drbd \
         systemd-timesyncd apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
    chroot "$R" systemctl disable "$u" >/dev/null 2>&1 || true
done
chroot "$R" systemctl mask getty@tty1.service serial-getty@ttyS0.service systemd-networkd-wait-online.service >/dev/null 2>&1 || true
sed -i 's/^root:[^:]*:/root::/' "$R/etc/shadow"
echo lab > "$R/etc/hostname"
mkdir -p "$R/mnt/lab" "$R/srv/nfs" "$R/srv/nfsstate" "$R/mnt/nfs"
cat > "$R/etc/fstab" <<'FSTAB'
/dev/vda / ext4 rw 0 1
FSTAB
# NFSv4 only on the servers' nfsd (v3 stays available for the agents that want it)
cat > "$R/etc/hosts" <<'HOSTS'
127.0.0.1 localhost
10.77.0.11 srv1
10.77.0.12 srv2
10.77.0.21 cli1
10.77.0.100 nfs-vip
HOSTS

step "image"
rm -f base.img; truncate -s 2G base.img
mkfs.ext4 -q -F -L labroot -d "$R" base.img
rm -rf "$W"
step "done: $(du -sh base.img | cut -f1) allocated"
