import { join } from "node:path";
import type Docker from "dockerode";
import { KeaConfigRefused } from "../model/kea-config.ts";
import { LABEL } from "../model/labels.ts";
import type { KeaSetup } from "../spec/inputs.ts";
import { containerLogs, tarOf } from "./engine.ts";

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
        // docker/kea/config-test.sh: Kea's own words on a refusal.
        Entrypoint: ["kea-config-test"],
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
