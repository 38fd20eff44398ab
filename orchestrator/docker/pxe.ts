import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import { CLIENT_SYSCTLS } from "../model/plan.ts";
import { BOOT_FAILED, type PxeBoot, parsePxeConsole } from "../model/pxe-console.ts";
import { containerLogs } from "./engine.ts";
import { type LabState, segmentNetwork } from "./lab.ts";

// The PXE firmware client: Debian's iPXE ROM in QEMU under software emulation (docker/pxe/), its
// virtual NIC bridged onto an access segment. It boots as a diskless machine does: DHCP through
// the relay, then TFTP from the next-server it was given. It ends when what it booted powers the
// machine off, when the firmware says the boot failed, or at the deadline.

/** One network boot. */
export interface PxeOptions {
  mac: string;
  /** The access segment it sits on (default: the first). */
  segment?: string;
  /** Stop the machine after this long (default 90 s: iPXE reaches its script in about 10 s here). */
  timeoutMs?: number;
  labels?: Record<string, string>;
}

/** What the boot obtained and ran, QEMU's exit code, its whole console, and whether the deadline stopped it. */
export interface PxeResult extends PxeBoot {
  exitCode: number;
  output: string;
  timedOut: boolean;
}

/** Boots one virtual machine from the network through the lab's relay. */
export async function runPxeClient(
  docker: Docker,
  lab: LabState,
  image: string,
  o: PxeOptions,
): Promise<PxeResult> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: [o.mac],
    Labels: { [LABEL.managed]: "true", [LABEL.lab]: lab.name, [LABEL.role]: "client", ...o.labels },
    HostConfig: {
      NetworkMode: segmentNetwork(lab, o.segment),
      // The bridge and tap device in the container's namespace; QEMU opens the tap through /dev/net/tun.
      CapAdd: ["NET_ADMIN"],
      Sysctls: { ...CLIENT_SYSCTLS },
      Devices: [{ PathOnHost: "/dev/net/tun", PathInContainer: "/dev/net/tun", CgroupPermissions: "rwm" }],
    },
  });
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    // The console's last characters: a serial console may come a character at a time.
    let tail = "";
    const stop = () => container.kill().catch(() => {});
    const out = new PassThrough();
    out.on("data", (b: Buffer) => {
      tail = (tail + b.toString("utf8")).slice(-256);
      // The firmware has given up: SeaBIOS would only retry after a minute.
      if (BOOT_FAILED.test(tail)) void stop();
    });
    docker.modem.demuxStream(stream, out, out);
    await container.start();
    timer = setTimeout(() => {
      timedOut = true;
      void stop();
    }, o.timeoutMs ?? 90_000);
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const output = await containerLogs(docker, container.id);
    return { ...parsePxeConsole(output), exitCode: StatusCode, output, timedOut };
  } finally {
    clearTimeout(timer);
    await container.remove({ force: true }).catch(() => {});
  }
}
