import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import type { LabState } from "./lab.ts";

/** A packet capture under way: pcap bytes on `pcap`, tcpdump's own lines on `messages`. */
export interface Capture {
  readonly pcap: NodeJS.ReadableStream;
  readonly messages: NodeJS.ReadableStream;
  /** Resolves with tcpdump's exit code once it has stopped (by `count`, or by `stop`). */
  readonly done: Promise<number>;
  /** Stops the capture and removes its container. */
  stop(): Promise<void>;
}

/**
 * Captures a lab network (`access`, a segment's or a VRF's name) as pcap, from the relay's network namespace,
 * where the relay is on every lab network. `filter` is a BPF expression's words; `count` stops
 * after that many packets.
 */
export async function startCapture(
  docker: Docker,
  lab: LabState,
  image: string,
  o: { network: string; filter?: string[]; count?: number },
): Promise<Capture> {
  if (!lab.relay) throw new Error(`lab ${lab.name} has no relay to capture from`);
  const wanted = o.network.toLowerCase();
  const network =
    wanted === "access"
      ? lab.accessNetwork
      : lab.networks.find((n) => (n.vrf ?? n.segment)?.toLowerCase() === wanted)?.name;
  if (!network) {
    const names = ["access", ...lab.networks.map((n) => (n.vrf ?? n.segment)?.toLowerCase())].filter(
      (n, i, all) => n && all.indexOf(n) === i,
    );
    throw new Error(`lab ${lab.name} has no network ${o.network}: it has ${names.join(", ")}`);
  }
  const relay = await docker.getContainer(lab.relay.id).inspect();
  const address = relay.NetworkSettings.Networks[network]?.IPAddress;
  if (!address) throw new Error(`the relay of lab ${lab.name} is not on ${network}`);
  const args = [...(o.count ? ["-c", String(o.count)] : []), ...(o.filter ?? [])];
  const container = await docker.createContainer({
    Image: image,
    // docker/client/capture.sh: tcpdump on the interface that holds the relay's address there.
    Cmd: ["dhcplab-capture", address, ...args],
    Labels: { [LABEL.managed]: "true", [LABEL.lab]: lab.name, [LABEL.role]: "capture" },
    HostConfig: { NetworkMode: `container:${lab.relay.id}`, CapAdd: ["NET_ADMIN", "NET_RAW"] },
  });
  const pcap = new PassThrough();
  const messages = new PassThrough();
  const attached = await container.attach({ stream: true, stdout: true, stderr: true });
  docker.modem.demuxStream(attached, pcap, messages);
  attached.on("end", () => {
    pcap.end();
    messages.end();
  });
  await container.start();
  const done = container.wait().then(async (r: { StatusCode: number }) => {
    await container.remove({ force: true }).catch(() => {});
    return r.StatusCode;
  });
  return {
    pcap,
    messages,
    done,
    stop: async () => {
      await container.kill({ signal: "SIGINT" }).catch(() => {});
      await done;
    },
  };
}
