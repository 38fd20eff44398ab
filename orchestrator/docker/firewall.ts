import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import { runToCompletion } from "./engine.ts";

// The lab's rules in the host's firewall are the client image's dhcplab-host-rules
// (docker/client/host-rules.sh), run in the host's network namespace: the access bridges'
// off-subnet traffic accepted before the Engine's isolation rules, IPv6 kept inside each
// bridge. Adding them is a node of the lab's spec (spec/features/host-rules.ts); removing them
// is part of removing the lab.

/** Runs dhcplab-host-rules in the host's network namespace from the client image. */
export function runHostRules(
  docker: Docker,
  image: string,
  args: readonly string[],
): Promise<{ exitCode: number; output: string }> {
  return runToCompletion(docker, {
    Image: image,
    Cmd: ["dhcplab-host-rules", ...args],
    Labels: { [LABEL.managed]: "true", [LABEL.role]: "firewall" },
    HostConfig: { NetworkMode: "host", CapAdd: ["NET_ADMIN", "NET_RAW"] },
  });
}

/** Which rules `pruneRules` removes besides those whose bridge no longer exists. */
export type RuleSelection = { lab: string } | "all" | "stale-only";

/** Removes a lab's rules (or every dhcplab rule), and any whose bridge no longer exists. */
export async function pruneRules(docker: Docker, image: string, which: RuleSelection): Promise<void> {
  const selection = which === "all" ? ["--all"] : which === "stale-only" ? ["--stale"] : ["--lab", which.lab];
  await runHostRules(docker, image, ["prune", ...selection]);
}
