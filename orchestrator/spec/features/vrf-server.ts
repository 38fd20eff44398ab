import { join } from "node:path";
import type { ImageTags } from "../../docker/images.ts";
import { LABEL } from "../../model/labels.ts";
import type { ServicePlan, VrfPlan } from "../../model/plan.ts";
import type { LabInputs } from "../inputs.ts";
import type { ServerFiles } from "../server-files.ts";
import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";

// A server of a VRF's besides Kea (its boot, DNS or RADIUS server): one container on the VRF's
// backend network at its planned host, holding its service address (NET_ADMIN), its folder's
// files copied in before it starts. The kinds differ in image, environment and where the files go.

/** What a kind of VRF server adds to the common node: which server of the VRF, its files, image and environment. */
export interface VrfServerKind {
  kind: "boot" | "dns" | "radius";
  /** The VRF's server of this kind, if it has one. */
  server(v: VrfPlan): ServicePlan | undefined;
  /** The servers' files of this kind, by VRF name. */
  files(inputs: LabInputs): ReadonlyMap<string, ServerFiles>;
  image(images: ImageTags): string | undefined;
  env(v: VrfPlan, server: ServicePlan): Record<string, string>;
  /** Where its folder's files go. */
  dir: string;
  /** Binary files (base64 in the spec) rather than text. */
  binary?: boolean;
}

/** The feature of one kind of VRF server: each VRF's server of that kind, as a node. */
export function vrfServerNodes(kind: VrfServerKind): (ctx: FeatureContext) => NodeSpec[] {
  return (ctx) =>
    ctx.plan.vrfs.flatMap((v) => {
      const server = kind.server(v);
      return server ? [vrfServerNode(ctx, v, server, kind)] : [];
    });
}

/** A VRF server's node. */
function vrfServerNode(ctx: FeatureContext, v: VrfPlan, server: ServicePlan, o: VrfServerKind): NodeSpec {
  const image = o.image(ctx.inputs.images);
  if (!image) throw new Error(`VRF ${v.spec.name} has a ${o.kind} server but no ${o.kind} image was built`);
  const files = o.files(ctx.inputs).get(v.spec.name) ?? [];
  return {
    service: `${o.kind}-${v.spec.name.toLowerCase()}`,
    container: server.container,
    role: { kind: o.kind, vrf: v.spec.name, address: server.address },
    image,
    env: o.env(v, server),
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
