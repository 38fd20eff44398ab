import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import { runToCompletion } from "./engine.ts";

// Docker Engines before 26 isolate an internal network with rules on its subnet
// ("! -s 10.213.5.0/24 -o br-... -j DROP"). A DHCP client's DISCOVER comes from 0.0.0.0 and
// goes to 255.255.255.255, and a bound client renews from its leased address: both are
// outside the subnet, and those engines drop them on the bridge when br_netfilter is on. The
// lab therefore accepts traffic that stays on its access bridge (in and out of the same
// bridge) in the DOCKER-USER chain, which the engine evaluates first. Nothing may leave the
// bridge this way: the network stays internal. Each rule names its lab in a comment. IPv6 is
// kept inside each bridge as well (isolateIpv6).

const COMMENT = "dhcplab:";

/** Runs a shell script in the host's network namespace from the client image (which has iptables). */
async function onHost(
  docker: Docker,
  image: string,
  script: string,
): Promise<{ exitCode: number; output: string }> {
  return runToCompletion(docker, {
    Image: image,
    Cmd: ["sh", "-c", script],
    Labels: { [LABEL.managed]: "true", [LABEL.role]: "firewall" },
    HostConfig: { NetworkMode: "host", CapAdd: ["NET_ADMIN", "NET_RAW"] },
  });
}

/** The Linux bridge of a Docker bridge network. */
export function bridgeName(networkId: string, options?: Record<string, string>): string {
  return options?.["com.docker.network.bridge.name"] ?? `br-${networkId.slice(0, 12)}`;
}

/** Accepts traffic that enters and leaves `bridge` (the lab's access network) before Docker's isolation rules. */
export async function allowOnBridge(
  docker: Docker,
  image: string,
  lab: string,
  bridge: string,
): Promise<string | undefined> {
  const rule = `DOCKER-USER -i ${bridge} -o ${bridge} -m comment --comment ${COMMENT}${lab} -j ACCEPT`;
  const script = [
    "set -e",
    // No DOCKER-USER chain: the engine manages no iptables here, so it drops nothing either.
    "iptables -S DOCKER-USER >/dev/null 2>&1 || exit 0",
    `iptables -C ${rule} 2>/dev/null || iptables -I ${rule}`,
    `if ip6tables -S DOCKER-USER >/dev/null 2>&1; then ip6tables -C ${rule} 2>/dev/null || ip6tables -I ${rule}; fi`,
  ].join("\n");
  const r = await onHost(docker, image, script);
  return r.exitCode === 0
    ? undefined
    : `could not add the access-bridge rule (clients' broadcasts may be dropped): ${r.output.trim()}`;
}

/**
 * Keeps IPv6 inside the lab's bridges. Engines before 27 manage no ip6tables: an internal
 * network still has an IPv6 default route via its bridge, and the host forwards IPv6 between
 * bridges, so a host on one VRF's network could reach another's through the host. The lab drops,
 * in the host's ip6tables FORWARD chain, whatever enters or leaves each of its bridges other than
 * within it; only the relay then connects them, behind its own forward chain.
 */
export async function isolateIpv6(
  docker: Docker,
  image: string,
  lab: string,
  bridges: readonly string[],
): Promise<string | undefined> {
  const rules = bridges.flatMap((b) => [
    `FORWARD -i ${b} ! -o ${b} -m comment --comment ${COMMENT}${lab} -j DROP`,
    `FORWARD ! -i ${b} -o ${b} -m comment --comment ${COMMENT}${lab} -j DROP`,
  ]);
  const script = ["set -e", ...rules.map((r) => `ip6tables -C ${r} 2>/dev/null || ip6tables -I ${r}`)].join(
    "\n",
  );
  const r = await onHost(docker, image, script);
  return r.exitCode === 0
    ? undefined
    : `could not isolate the lab's bridges for IPv6 (the host may route between VRFs): ${r.output.trim()}`;
}

/** Which rules `pruneRules` removes besides those whose bridge no longer exists. */
export type RuleSelection = { lab: string } | "all" | "stale-only";

/** Removes a lab's rules (or every dhcplab rule), and any whose bridge no longer exists. */
export async function pruneRules(docker: Docker, image: string, which: RuleSelection): Promise<void> {
  // iptables -S prints the comment quoted: --comment "dhcplab:NAME".
  const mine = which === "all" ? COMMENT : which === "stale-only" ? "^$" : `${COMMENT}${which.lab}"?( |$)`;
  const script = `
for t in iptables ip6tables; do
  for c in DOCKER-USER FORWARD; do
  $t -S $c 2>/dev/null | grep -E -- '--comment "?${COMMENT}' | while read -r line; do
    br=$(echo "$line" | sed -n 's/.* -[io] \\([^ ]*\\) .*/\\1/p')
    if echo "$line" | grep -q -E -- '--comment "?${mine}' || [ ! -e "/sys/class/net/$br" ]; then
      eval "$t $(echo "$line" | sed 's/^-A /-D /')" || true
    fi
  done
  done
done
exit 0`;
  await onHost(docker, image, script);
}
