import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import {
  DEFAULT_TOWER_POLICY,
  type LabPlan,
  RELAY_CONFIG_PATH,
  RELAY_SYSCTLS,
  renderTowerConfig,
  type TowerPlan,
} from "../model/plan.ts";
import { exec, tarOf } from "./engine.ts";
import type { ImageTags } from "./images.ts";

// A tower is a downstream relay in front of its own subscriber segment, on the transport
// network to the central relay: Debian's isc-dhcp-relay as users run it in the field, or
// dhcplab's relay as an edge relay with its own policy. Each sets giaddr to its subscriber-side
// address and adds its Option 82.

/**
 * isc-dhcp-relay's start: its subscriber-side address made the interface's only IPv4 address
 * (dhcrelay takes giaddr from the interface's first), then dhcrelay in the foreground with
 * Option 82 (-a: Circuit-ID = the interface's name), downstream and upstream interfaces named.
 * With an IPv6 address, a second dhcrelay -6 (-I: Interface-ID) whose RELAY-FORW link-address
 * is that address. Arguments: the Docker address on the subscriber segment, the tower's
 * address/prefix, its transport address, the central relay's transport address, the tower's
 * IPv6 address/64 or "-", the central relay's transport IPv6 address.
 */
const ISC_TOWER_SCRIPT = `set -e
sub=$(ip -o -4 addr show | awk -v a="$1" 'index($4, a "/") == 1 {print $2}')
up=$(ip -o -4 addr show | awk -v a="$3" 'index($4, a "/") == 1 {print $2}')
ip -4 addr flush dev "$sub"
ip addr add "$2" dev "$sub"
if [ "$5" != "-" ]; then
  ip -6 addr flush dev "$sub" scope global
  ip addr add "$5" dev "$sub" nodad
  for i in $(seq 50); do ip -6 addr show tentative | grep -q . || break; sleep 0.1; done
  dhcrelay -6 -d -I -l "$sub" -u "$6%$up" &
fi
exec dhcrelay -4 -d -a -m replace -id "$sub" -iu "$up" "$4"`;

/** Creates each tower's container (not started), on its subscriber segment and the transport network. */
export async function createTowers(
  docker: Docker,
  plan: LabPlan,
  images: ImageTags,
  labels: Record<string, string>,
  policies: Readonly<Record<string, string>>,
): Promise<Map<string, string>> {
  const created = new Map<string, string>();
  const transport = plan.transport;
  if (!transport) return created;
  for (const w of plan.towers) {
    const isc = w.spec.kind === "isc-dhcp-relay";
    const image = isc ? images.dhcrelay : images.relay;
    if (!image) throw new Error(`tower ${w.spec.name}: no ${isc ? "dhcrelay" : "relay"} image`);
    const c = await docker.createContainer({
      name: w.container,
      Hostname: w.spec.name,
      Image: image,
      Labels: {
        ...labels,
        [LABEL.role]: "tower",
        [LABEL.tower]: w.spec.name,
        [LABEL.towerKind]: w.spec.kind,
      },
      ...(isc
        ? {
            Entrypoint: ["sh", "-c", ISC_TOWER_SCRIPT, "sh"],
            Cmd: [
              w.subscriber.ipv4,
              w.spec.address,
              w.transport.ipv4,
              transport.relay.ipv4,
              w.spec.address6 ?? "-",
              transport.relay.ipv6,
            ],
          }
        : { Env: [`DHCPLAB_RELAY_CONFIG=${RELAY_CONFIG_PATH}`] }),
      HostConfig: { NetworkMode: w.network, CapAdd: ["NET_ADMIN", "NET_RAW"], Sysctls: { ...RELAY_SYSCTLS } },
      NetworkingConfig: {
        EndpointsConfig: {
          [w.network]: { IPAMConfig: { IPv4Address: w.subscriber.ipv4, IPv6Address: w.subscriber.ipv6 } },
        },
      },
    });
    await docker.getNetwork(transport.network).connect({
      Container: c.id,
      EndpointConfig: { IPAMConfig: { IPv4Address: w.transport.ipv4, IPv6Address: w.transport.ipv6 } },
    });
    if (!isc) {
      const files = {
        "relay.yaml": renderTowerConfig(plan, w),
        "policy.yaml": policies[w.spec.name] ?? DEFAULT_TOWER_POLICY,
      };
      await c.putArchive(tarOf(Object.entries(files)), { path: "/etc/dhcplab" });
    }
    created.set(w.container, c.id);
  }
  return created;
}

/** Waits until an isc-dhcp-relay tower's dhcrelays run, one per family (the image has no health check of its own). */
export async function waitIscTower(
  docker: Docker,
  tower: TowerPlan,
  id: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = await docker.getContainer(id).inspect();
    if (!info.State.Running)
      throw new Error(`tower ${tower.spec.name} (isc-dhcp-relay) exited with ${info.State.ExitCode}`);
    const running = (await exec(docker, id, ["pgrep", "-c", "-x", "dhcrelay"])).stdout.trim();
    if (Number(running) >= (tower.spec.address6 ? 2 : 1)) return;
    if (Date.now() > deadline) throw new Error(`tower ${tower.spec.name}: dhcrelay not running`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
