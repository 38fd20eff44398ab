import { LABEL } from "../../model/labels.ts";
import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";

// Engines before 26 isolate an internal network with rules on its subnet: a DHCP client's
// DISCOVER (from 0.0.0.0 to 255.255.255.255), a bound client's renewal and Kea's answers to a
// giaddr are outside it, and are dropped on the bridge when br_netfilter is on. Engines before
// 27 manage no ip6tables, so the host routes IPv6 between internal bridges. A one-shot node in
// the host's network namespace adds the lab's rules for both (docker/client/host-rules.sh),
// naming each bridge, whose name the spec fixes.

/** The node that adds the lab's rules to the host's firewall, before the relay starts. */
export function hostRulesNodes(ctx: FeatureContext): NodeSpec[] {
  const allow = ctx.networks.filter((n) => n.offSubnet).flatMap((n) => ["--allow", n.bridge]);
  const isolate = ctx.networks.filter((n) => n.isolate6).flatMap((n) => ["--isolate6", n.bridge]);
  if (allow.length + isolate.length === 0) return [];
  return [
    {
      service: "host-rules",
      container: `${ctx.plan.name}-host-rules`,
      role: { kind: "host-rules" },
      image: ctx.inputs.images.client,
      command: ["dhcplab-host-rules", "add", ctx.plan.name, ...allow, ...isolate],
      env: {},
      labels: { [LABEL.role]: "firewall" },
      capAdd: ["NET_ADMIN", "NET_RAW"],
      sysctls: {},
      endpoints: [],
      hostNetwork: true,
      files: [],
      waitHealthy: false,
      stage: "host",
    },
  ];
}
