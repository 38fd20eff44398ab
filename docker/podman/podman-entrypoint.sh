#!/bin/sh
# Podman's API service, twice: on its rootful Unix socket (/run/podman/podman.sock, which a lab's
# reaper binds) and on TCP port 2375 for the dhcplab under test. Both serve the same storage.
set -eu
mkdir -p /run/podman
podman --storage-driver overlay system service --time=0 unix:///run/podman/podman.sock &
exec podman --storage-driver overlay system service --time=0 tcp:0.0.0.0:2375
