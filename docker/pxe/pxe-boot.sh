#!/bin/bash
# Network-boots one virtual machine: iPXE's virtio-net ROM in QEMU, its NIC (MAC $1) a tap device
# bridged with this container's interface on the lab's access network, which the bridge takes
# over (the container's own address goes). The serial console is this program's output; QEMU
# ends when the booted script powers the machine off, or SeaBIOS finds nothing to boot.
set -eu
mac=${1:?usage: pxe-boot MAC [MEMORY_MB]}
memory=${2:-64}

dev=$(ip -o link show | awk -F': ' '$2 !~ /^lo/ { sub(/@.*/, "", $2); print $2; exit }')
ip link add br0 type bridge
ip link set "$dev" master br0
ip tuntap add tap0 mode tap
ip link set tap0 master br0
ip link set tap0 up
ip link set br0 up
ip address flush dev "$dev"

exec qemu-system-x86_64 -nographic -nodefaults -serial stdio -no-reboot -m "$memory" -boot n \
  -netdev tap,id=n0,ifname=tap0,script=no,downscript=no \
  -device "virtio-net-pci,netdev=n0,mac=$mac"
