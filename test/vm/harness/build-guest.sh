#!/bin/sh
# Builds the test guest from Debian packages on this machine, cached between runs:
#   vmlinuz    the distribution kernel (linux-image-amd64), uncompressed to an ELF where it can be
#   initrd.gz  a busybox-static initramfs whose /init loads the virtio, virtio-serial and 9p
#              modules of that kernel, mounts the host's root read-only over 9p (tag hostroot),
#              names the virtio-serial ports under /dev/virtio-ports/ (what udev does), and runs
#              the command given on the kernel command line inside the host root (so the guest
#              runs node and this repo's programs), or idles.
# Usage: build-guest.sh [CACHE_DIR]; prints the directory holding vmlinuz and initrd.gz.
set -eu
cache=${1:-${AMFD_TEST_GUEST_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/amfd-test-guest}}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "build-guest: $busybox missing (apt-get install busybox-static)" >&2; exit 3; }
kver=
for k in $(ls -1 /boot 2>/dev/null | sed -n 's/^vmlinuz-//p' | sort -V); do
  [ -r "/boot/vmlinuz-$k" ] && [ -d "/lib/modules/$k" ] && kver=$k
done
[ -n "$kver" ] || { echo "build-guest: no readable /boot/vmlinuz-* with /lib/modules (apt-get install linux-image-amd64)" >&2; exit 3; }
self=$(cat "$0" | sha256sum | cut -c1-12)
bbsum=$(sha256sum "$busybox" | cut -c1-12)
out="$cache/$kver-$bbsum-$self"
if [ -s "$out/initrd.gz" ] && [ -s "$out/vmlinuz" ]; then echo "$out"; exit 0; fi

mods="virtio_pci virtio_console 9pnet_virtio 9p evdev button"
work=$(mktemp -d "${TMPDIR:-/tmp}/amfd-guest-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/bin" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" "$root/host" "$root/etc/acpi/PWRF"
cp "$busybox" "$root/bin/busybox"
# Modules with their dependencies, in load order (dependencies first).
order=
add() {
  case " $order " in *" $1 "*) return ;; esac
  for d in $(modinfo -k "$kver" -F depends "$1" | tr ',' ' '); do add "$d"; done
  f=$(modinfo -k "$kver" -n "$1")
  case "$f" in /*) ;; *) return ;; esac  # built in
  case "$f" in
    *.ko) cp "$f" "$root/lib/modules/$1.ko" ;;
    *.ko.xz) xz -dc "$f" >"$root/lib/modules/$1.ko" ;;
    *.ko.zst) zstd -qdc "$f" >"$root/lib/modules/$1.ko" ;;
    *) echo "build-guest: unknown module file $f" >&2; exit 3 ;;
  esac
  order="$order $1"
}
for m in $mods; do add "$m"; done
echo "$order" >"$root/lib/modules/order"
printf '#!/bin/sh\nexec poweroff -f\n' >"$root/etc/acpi/PWRF/00000080"
chmod +x "$root/etc/acpi/PWRF/00000080"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
arg() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" /proc/cmdline | head -1; }
# A guest that ignores the ACPI power button exercises the shutdown timeout (destroy) path.
if [ "$(arg amfd.acpi)" != 0 ]; then
  # acpid opens the event devices present when it starts: wait for the power button's.
  pwr() { for e in /sys/class/input/event*; do grep -qs 'Power Button' $e/device/name && [ -e /dev/input/${e##*/} ] && return 0; done; return 1; }
  i=0; while ! pwr && [ $i -lt 250 ]; do i=$((i+1)); usleep 20000; done
  # In the foreground: daemonised, busybox acpid leaves /etc/acpi and cannot find its handlers.
  acpid -f -l /dev/null -c /etc/acpi &
fi
# amfd.host=0: no host root (a guest QEMU can migrate: a mounted 9p export blocks migration).
if [ "$(arg amfd.host)" = 0 ]; then
  mkdir -p /host/run
else
  mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /host || { echo "AMFD-GUEST-FAILED mount"; poweroff -f; }
  for d in proc sys dev; do mount --bind /$d /host/$d; done
  mount -t tmpfs -o mode=1777 tmp /host/run
fi
i=0
while [ $i -lt 50 ]; do
  n=0
  for p in /sys/class/virtio-ports/*; do [ -e "$p/name" ] && n=$((n+1)); done
  [ "$n" -ge "$(arg amfd.ports)" ] 2>/dev/null && break
  i=$((i+1)); usleep 20000
done
mkdir -p /host/run/virtio-ports
for p in /sys/class/virtio-ports/*; do
  [ -e "$p/name" ] && ln -sf /dev/${p##*/} /host/run/virtio-ports/$(cat $p/name)
done
up=$(cut -d' ' -f1 /proc/uptime)
echo "AMFD-GUEST-READY uptime=$up"
run=$(arg amfd.run)
if [ -n "$run" ] && [ -x /host/bin/sh ]; then
  chroot /host /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/run TMPDIR=/run VIRTIO_PORTS=/run/virtio-ports /bin/sh "$run"
  echo "AMFD-GUEST-EXIT $?"
fi
while :; do sleep 3600; done
INIT
chmod +x "$root/init"
mkdir -p "$cache"
tmp="$cache/.tmp.$$"
mkdir -p "$tmp"
# QEMU boots the uncompressed ELF directly (PVH entry), skipping the firmware's load and the XZ
# decompression: about 8 s less per boot under TCG. Kept as vmlinuz when it cannot be extracted.
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "/boot/vmlinuz-$kver" 2>/dev/null | head -1 | cut -d: -f1)
{ [ -n "$off" ] && command -v xz >/dev/null && tail -c +$((off + 1)) "/boot/vmlinuz-$kver" | xz -dcq >"$tmp/vmlinuz" 2>/dev/null; } || true
if [ "$(head -c 4 "$tmp/vmlinuz" 2>/dev/null | od -An -c | tr -d ' ')" != '177ELF' ]; then cp "/boot/vmlinuz-$kver" "$tmp/vmlinuz"; fi
(cd "$root" && find . | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -1 >"$tmp/initrd.gz"
echo "$kver" >"$tmp/kernel-version"
# Another build may have finished first: keep its result. Older builds of this kernel go.
mv -T "$tmp" "$out" 2>/dev/null || rm -rf "$tmp"
for old in "$cache/$kver"-*; do [ "$old" = "$out" ] || rm -rf "$old"; done
echo "$out"
