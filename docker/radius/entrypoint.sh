#!/bin/bash
# FreeRADIUS on the VRF's RADIUS service address (DHCPLAB_RADIUS_ADDRESS, the server Kea's radius
# hook sends to), held on lo besides the container's Docker addresses.
set -u

if [ -n "${DHCPLAB_RADIUS_ADDRESS:-}" ]; then
  ip address replace "$DHCPLAB_RADIUS_ADDRESS/32" dev lo || exit 65
fi

# The scenario's folder, as the lab copied (or Compose mounted, read-only) it: clients.conf (who
# may ask, with which secret) and authorize (the files module's users: who is accepted, with what).
src=/etc/dhcplab/radius
raddb=/etc/freeradius/3.0
cp "$src/clients.conf" "$raddb/clients.conf" || exit 65
cp "$src/authorize" "$raddb/mods-config/files/authorize" || exit 65
chown freerad:freerad "$raddb/clients.conf" "$raddb/mods-config/files/authorize"

# Every accept and reject in the log (docker logs): "Login OK" / "Login incorrect", with the
# client's Calling-Station-Id.
sed -i 's/^\(\s*auth\) = no/\1 = yes/' "$raddb/radiusd.conf"

# Refuse a configuration FreeRADIUS refuses, with its words, before it starts.
freeradius -C -l stdout || exit 65

# -f: in the foreground; -l stdout: its log to docker logs.
exec freeradius -f -l stdout
