# Sourced by the Kea and boot server entrypoints (copied into both images' build contexts):
# installs the routes through the relay that the lab gives the container, one
# "prefix via address" per line in DHCPLAB_ROUTES; the container exits 65 on a bad one.
while read -r prefix via gateway; do
  [ -n "$prefix" ] || continue
  if [ "$via" != via ] || ! ip route replace "$prefix" via "$gateway"; then
    echo "$0: cannot install the route \"$prefix $via $gateway\" (DHCPLAB_ROUTES)" >&2
    exit 65
  fi
done <<< "${DHCPLAB_ROUTES:-}"
