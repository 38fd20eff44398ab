#!/bin/bash
# Serves /srv/tftp over TFTP from the VRF's boot service address (DHCPLAB_BOOT_ADDRESS, the
# next-server its Kea hands out), held on lo besides the container's Docker addresses.
set -u

# Routes through the relay (DHCPLAB_ROUTES): the VRF's client subnets, the only hosts this
# server answers.
source /usr/local/lib/dhcplab/install-routes.sh

if [ -n "${DHCPLAB_BOOT_ADDRESS:-}" ]; then
  ip address replace "$DHCPLAB_BOOT_ADDRESS/32" dev lo || exit 65
fi

# Debian's iPXE builds, for chain-loading, unless the scenario brings files of those names
# (copies: the server is chrooted to its root).
for f in /usr/lib/ipxe/undionly.kpxe /usr/lib/ipxe/ipxe.efi /usr/lib/ipxe/snponly.efi; do
  [ -e "/srv/tftp/${f##*/}" ] || cp "$f" /srv/tftp/
done

# -L: in the foreground; -v -v: each request logged (docker logs); -s: chroot to the root;
# -a: one address for every reply, the service address when there is one.
exec in.tftpd -L -v -v -s /srv/tftp -a "${DHCPLAB_BOOT_ADDRESS:-0.0.0.0}:69"
