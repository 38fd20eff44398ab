#!/bin/sh
# dockerd in a container (not privileged: these machines refuse --privileged; the capabilities it
# needs are given one by one, see test/support/engines.ts): its API on the Unix socket (the lab's
# reaper binds it) and on TCP port 2375 for the dhcplab under test. Its cgroups go under a parent
# named after the container, in the host's hierarchy (--cgroupns host).
set -eu
exec dockerd \
  --host unix:///var/run/docker.sock \
  --host tcp://0.0.0.0:2375 \
  --tls=false \
  --bridge none \
  --storage-driver "${ENGINE_STORAGE:-overlay2}" \
  --cgroup-parent "/${ENGINE_NAME:-engine}" \
  "$@"
