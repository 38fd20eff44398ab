import { join } from "node:path";
import type { BootFiles } from "../../docker/boot.ts";
import { LABEL } from "../../model/labels.ts";
import type { ServicePlan, VrfPlan } from "../../model/plan.ts";
import type { NodeSpec } from "../spec.ts";

// A server of a VRF's besides Kea (its boot server, its DNS server): one container on the VRF's
// backend network at its planned host, holding its service address (NET_ADMIN), its folder's
// files copied in before it starts. The kinds differ in image, environment and where the files go.

/** What a kind of VRF server adds to the common node. */
export interface VrfServerKind {
  kind: "boot" | "dns" | "radius";
  image: string | undefined;
  env: Record<string, string>;
  /** Where its folder's files go. */
  dir: string;
  /** Binary files (base64 in the spec) rather than text. */
  binary?: boolean;
}

/** A VRF server's node. */
export function vrfServerNode(v: VrfPlan, server: ServicePlan, files: BootFiles, o: VrfServerKind): NodeSpec {
  if (!o.image) throw new Error(`VRF ${v.spec.name} has a ${o.kind} server but no ${o.kind} image was built`);
  return {
    service: `${o.kind}-${v.spec.name.toLowerCase()}`,
    container: server.container,
    role: { kind: o.kind, vrf: v.spec.name, address: server.address },
    image: o.image,
    env: o.env,
    labels: { [LABEL.role]: o.kind, [LABEL.vrf]: v.spec.name },
    // It holds its service address (and installs the routes it is given).
    capAdd: ["NET_ADMIN"],
    sysctls: {},
    endpoints: [{ network: v.network, ipv4: server.ipv4, ipv6: server.ipv6 }],
    files: files.map(([name, bytes]) => ({
      dir: o.dir,
      name,
      content: o.binary ? bytes.toString("base64") : bytes.toString(),
      ...(o.binary ? { binary: true } : {}),
      source: join(server.files, name),
    })),
    waitHealthy: true,
    stage: "main",
  };
}
