#!/bin/sh
# Builds a Debian 12 (bookworm) base image for qemu.vm without downloading a cloud image:
# a minimal root file system made with mmdebstrap (from a Debian mirror or a local one)
# with systemd, udev, Debian's cloud kernel, OpenSSH and cloud-init, turned into an ext4
# disk with `mkfs.ext4 -d` (no loop mount, no root needed beyond mmdebstrap's own) and
# converted to qcow2. The cloud kernel has ext4 and NVMe built in, so the VM boots it
# directly: `kernel = "OUT/vmlinuz"`, `cmdline = "root=/dev/nvme0n1 rw console=ttyS0"`.
#
#   build-base-image.sh OUT_DIR
#
# writes OUT_DIR/debian-12-base.qcow2 (4 GiB virtual, about 500 MiB) and OUT_DIR/vmlinuz.
# Needs mmdebstrap, e2fsprogs and qemu-utils. The test suite builds its cached copy with
# this script (cli/tests/support/qemu_debian.rs).
set -eu

out=${1:?usage: build-base-image.sh OUT_DIR}
mkdir -p "$out"
work=$(mktemp -d "${TMPDIR:-/tmp}/infra-base-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"

mmdebstrap --quiet --variant=minbase \
    --include=systemd,systemd-sysv,udev,dbus,iproute2,sudo,openssh-server,linux-image-cloud-amd64,cloud-init \
    bookworm "$rootfs"

# The root file system is the NVMe disk's first namespace; the seed is the second.
printf '/dev/nvme0n1 / ext4 defaults 0 1\n' > "$rootfs/etc/fstab"
# Two data sources: with one, cloud-init would run its first-boot steps on every boot.
# A minimal image has no locales, and its hostname comes from the seed.
cat > "$rootfs/etc/cloud/cloud.cfg.d/90-infra.cfg" <<'CFG'
datasource_list: [NoCloud, ConfigDrive]
locale: false
manage_etc_hosts: true
CFG
# Networking: systemd-networkd brings up every Ethernet card with DHCP, which QEMU's
# user mode answers (cloud-init writes its own configuration when the seed has one).
cat > "$rootfs/etc/systemd/network/80-dhcp.network" <<'NET'
[Match]
Name=en* eth*

[Network]
DHCP=yes
NET
ln -sf /lib/systemd/system/systemd-networkd.service "$rootfs/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
# No apt timers holding the dpkg lock while the VM is being configured; a machine id
# made on first boot. (cloud-init replaces the SSH host keys on each VM's first boot.)
for timer in apt-daily.timer apt-daily-upgrade.timer; do
    ln -sf /dev/null "$rootfs/etc/systemd/system/$timer"
done
: > "$rootfs/etc/machine-id"

cp "$rootfs"/boot/vmlinuz-* "$work/vmlinuz"
mkfs.ext4 -q -L root -d "$rootfs" "$work/root.img" 4G
qemu-img convert -O qcow2 "$work/root.img" "$work/base.qcow2"
mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/base.qcow2" "$out/debian-12-base.qcow2"
