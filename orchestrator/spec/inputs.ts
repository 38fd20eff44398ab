import { readFile } from "node:fs/promises";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { parsePolicy } from "../../lib/policy/policy.ts";
import type { ImageTags } from "../docker/images.ts";
import { type KeaConfig, readKeaConfigs } from "../model/kea-config.ts";
import { DEFAULT_TOWER_POLICY, TOWER_UPSTREAM } from "../model/plan.ts";
import type { Topology } from "../model/topology.ts";
import { readBootFiles, readDnsFiles, readRadiusFiles, type ServerFiles } from "./server-files.ts";

/** A VRF's Kea as the lab runs it: its configuration, and the image of its version. */
export interface KeaSetup extends KeaConfig {
  image: string;
}

/**
 * Everything a lab is built from besides its topology: the files it names, read and checked
 * once, and the images that run it. A spec is a pure function of these, the topology and the
 * subnets the lab got.
 */
export interface LabInputs {
  images: ImageTags;
  /** Each VRF's Kea configuration, in the topology's order. */
  keas: KeaSetup[];
  /** The relay's policy file's text, when the topology names one (the embedded default otherwise). */
  policy?: string;
  /** Each dhcplab tower's policy text, by tower name. */
  towerPolicies: Record<string, string>;
  /** Each VRF's boot files, by VRF name. */
  bootFiles: Map<string, ServerFiles>;
  /** Each VRF's DNS server's files (named.conf.local and zone files), by VRF name. */
  dnsFiles: Map<string, ServerFiles>;
  /** Each VRF's RADIUS server's files (clients.conf, authorize), by VRF name. */
  radiusFiles: Map<string, ServerFiles>;
}

/**
 * Reads and checks what the topology names, before anything is created: the relay's and every
 * dhcplab tower's policy (refused with file, line and field), each VRF's Kea configuration (the
 * lab's own reading; Kea's config test follows in the deployer), boot, DNS and RADIUS folders.
 */
export async function readLabInputs(topology: Topology, images: ImageTags): Promise<LabInputs> {
  const vrfNames = topology.vrfs.map((v) => v.name);
  const policy = topology.relay.policy ? await readFile(topology.relay.policy, "utf8") : undefined;
  parsePolicy(policy ?? DEFAULT_POLICY, topology.relay.policy ?? "(embedded default policy)", vrfNames);
  // A dhcplab tower's one VRF is the central relay.
  const towerPolicies: Record<string, string> = {};
  for (const w of topology.towers.filter((w) => w.kind === "dhcplab")) {
    const text = w.policy ? await readFile(w.policy, "utf8") : DEFAULT_TOWER_POLICY;
    parsePolicy(text, w.policy ?? `(tower ${w.name}'s default policy)`, [TOWER_UPSTREAM]);
    towerPolicies[w.name] = text;
  }
  const bootFiles = await readBootFiles(topology);
  const dnsFiles = await readDnsFiles(topology);
  const radiusFiles = await readRadiusFiles(topology);
  const keas = (await readKeaConfigs(topology)).map((k) => {
    const image = images[`kea-${k.version}`];
    if (!image) throw new Error(`the kea-${k.version} image was not built`);
    return { ...k, image };
  });
  return { images, keas, policy, towerPolicies, bootFiles, dnsFiles, radiusFiles };
}
