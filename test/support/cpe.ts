import { exec, withMac } from "../../orchestrator/docker/engine.ts";
import { WAIT_FOR_LINK } from "../../orchestrator/index.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import type { TestLab } from "./lab.ts";

/** A CPE router on the lab's access network that stays up across steps: a client container with a shell. */
export interface Cpe {
  id: string;
  /** Runs a shell script in it. */
  sh(script: string): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** Its link-local address on eth0: the next hop of its delegated prefixes. */
  linkLocal(): Promise<string>;
}

/**
 * Starts a CPE with `mac` on the access network, or on an access segment (labelled with the lab, so that the lab's
 * removal removes it). It may run DHCP clients and servers of its own; /proc is writable for dhcpcd.
 */
export async function startCpe(lab: TestLab, mac: string, segment?: string): Promise<Cpe> {
  const network = segment === undefined ? lab.networks.access : (lab.networks.segments[segment] as string);
  const c = await lab.docker.createContainer({
    Image: lab.clientImage,
    Cmd: ["sleep", "infinity"],
    ...withMac(network, mac),
    Labels: { [LABEL.managed]: "true", [LABEL.lab]: lab.name, [LABEL.role]: "client" },
    HostConfig: {
      NetworkMode: network,
      CapAdd: ["NET_ADMIN", "NET_RAW"],
      MaskedPaths: [],
      ReadonlyPaths: [],
    },
  });
  await c.start();
  const sh = (script: string) => exec(lab.docker, c.id, ["sh", "-c", script]);
  await sh(WAIT_FOR_LINK);
  return {
    id: c.id,
    sh,
    linkLocal: async () => {
      const r = await sh("ip -6 -o addr show dev eth0 scope link | awk '{print $4}'");
      return r.stdout.trim().replace(/\/64$/, "");
    },
  };
}
