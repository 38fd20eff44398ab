import { lookup } from "node:dns/promises";
import type { RelayConfig } from "./config.ts";
import { interfaceWith } from "./sockets.ts";

/** Resolves a server name through Docker's DNS, retrying while the servers' containers start. */
async function resolve(name: string, family: 4 | 6): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await lookup(name, { family, verbatim: true })).address;
    } catch (err) {
      if (attempt >= 60) throw new Error(`cannot resolve ${name} (IPv${family}): ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** A VRF of the configuration with its servers as addresses. */
export type ResolvedVrf = RelayConfig["vrfs"][number] & { servers4: string[]; servers6: string[] };

/** Every VRF's servers as addresses; link-local and link-scoped multicast ones scoped to the VRF's interface. */
export function resolveServers(config: RelayConfig): Promise<ResolvedVrf[]> {
  return Promise.all(
    config.vrfs.map(async (v) => ({
      ...v,
      servers4: await Promise.all(v.servers4.map((s) => resolve(s, 4))),
      servers6: await Promise.all(
        v.servers6.map((s) =>
          /^(fe80|ff02):/i.test(s) ? `${s}%${interfaceWith(v.ipv6 ?? "")}` : resolve(s, 6),
        ),
      ),
    })),
  );
}
