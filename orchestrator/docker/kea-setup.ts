import { join } from "node:path";
import type Docker from "dockerode";
import { KeaConfigRefused } from "../model/kea-config.ts";
import { LABEL } from "../model/labels.ts";
import type { KeaSetup } from "../spec/inputs.ts";
import { containerLogs, tarOf } from "./engine.ts";

// Kea's config-test mode for each server configuration in /etc/kea; Kea's own words on failure.
// The container has no network (nothing can leave it); Kea checks that the interfaces it is
// told to listen on exist, so it gets an eth0 as the lab's Kea has, one end of an unplugged veth.
const CONFIG_TEST = `ip link add eth0 type veth peer name eth0-peer && ip link set eth0 up
mkdir -p /run/kea /var/lib/kea && chmod 0750 /run/kea
status=0
for d in 4 6; do
  f=/etc/kea/kea-dhcp$d.conf
  [ -f "$f" ] || continue
  if ! kea-dhcp$d -t "$f" > /tmp/out 2>&1; then
    echo "REFUSED kea-dhcp$d.conf"
    grep -E "ERROR|FATAL|rror" /tmp/out | sed -E 's/^[0-9-]+ [0-9:.]+ +//' | tail -n 5
    status=1
  fi
done
exit $status`;

/**
 * Runs every VRF's Kea in config-test mode (`kea-dhcp4 -t`, `kea-dhcp6 -t`) in its image, before
 * anything of the lab exists. Throws KeaConfigRefused naming the VRF, the file and Kea's reason.
 */
export async function testKeaConfigs(
  docker: Docker,
  setups: readonly KeaSetup[],
  labels: Record<string, string>,
): Promise<void> {
  // Every test runs to its end (and its container is removed) before a refusal is reported.
  const results = await Promise.allSettled(
    setups.map(async (k) => {
      const c = await docker.createContainer({
        Image: k.image,
        Entrypoint: ["bash", "-c", CONFIG_TEST],
        Labels: { ...labels, [LABEL.role]: "config-test" },
        HostConfig: { NetworkMode: "none", CapAdd: ["NET_ADMIN"] },
      });
      try {
        await c.putArchive(tarOf(Object.entries(k.files)), { path: "/etc/kea" });
        await c.start();
        const { StatusCode } = (await c.wait()) as { StatusCode: number };
        if (StatusCode === 0) return;
        const out = (await containerLogs(docker, c.id)).replaceAll("/etc/kea/", `${k.dir}/`);
        const file = /^REFUSED (\S+)/m.exec(out)?.[1] ?? "its configuration";
        const reason = out
          .split("\n")
          .filter((l) => l.trim() && !l.startsWith("REFUSED"))
          .join("\n  ");
        throw new KeaConfigRefused(
          `VRF ${k.vrf}: Kea ${k.version} refused ${join(k.dir, file)}:\n  ${reason || out.trim()}`,
        );
      } finally {
        await c.remove({ force: true }).catch(() => {});
      }
    }),
  );
  const refused = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (refused) throw refused.reason;
}
