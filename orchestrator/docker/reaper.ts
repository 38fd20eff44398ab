import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import { ignoreGone, isPodman } from "./engine.ts";

// The lab's reaper (orchestrator/reaper/main.ts): a container in the relay's image, with the
// Engine's socket, whose standard input this process holds open through an attach. When this
// process dies, however it dies, the Engine closes that input and the reaper removes the lab.
// Taking the lab down, or keeping it on purpose, disarms it first: the reaper is removed.

/** Where the reaper finds the Engine's socket inside its container. */
const REAPER_SOCKET = "/var/run/docker.sock";

/**
 * Where the Engine's socket is on the Engine's host, bound into the reaper: DHCPLAB_ENGINE_SOCKET
 * if set, else rootful Podman's (/run/podman/podman.sock) or Docker's (/var/run/docker.sock).
 */
export async function engineSocket(docker: Docker): Promise<string> {
  return (
    process.env.DHCPLAB_ENGINE_SOCKET ??
    ((await isPodman(docker)) ? "/run/podman/podman.sock" : REAPER_SOCKET)
  );
}

/** An armed reaper: `disarm` removes it, leaving the lab as it is. */
export interface Reaper {
  readonly container: string;
  disarm(): Promise<void>;
}

/**
 * Starts a lab's reaper and holds its input. The attach does not keep this process alive: an
 * owner that is done exits as it would without one (and its lab goes with it, unless it took
 * the lab down or disarmed the reaper first).
 */
export async function startReaper(
  docker: Docker,
  o: { lab: string; labels: Record<string, string>; image: string },
): Promise<Reaper> {
  const name = `${o.lab}-reaper`;
  await docker.getContainer(name).remove({ force: true }).catch(ignoreGone);
  const c = await docker.createContainer({
    name,
    Image: o.image,
    Entrypoint: ["node", "/opt/dhcplab/reaper.mjs"],
    Env: [`DHCPLAB_REAP_LABEL=${LABEL.lab}=${o.lab}`],
    Labels: { ...o.labels, [LABEL.managed]: "true", [LABEL.lab]: o.lab, [LABEL.role]: "reaper" },
    OpenStdin: true,
    StdinOnce: true,
    AttachStdin: true,
    HostConfig: {
      Binds: [`${await engineSocket(docker)}:${REAPER_SOCKET}`],
      NetworkMode: "none",
      AutoRemove: true,
    },
  });
  const stream = (await c.attach({ stream: true, stdin: true, hijack: true })) as Duplex & {
    unref?: () => void;
    setKeepAlive?: (on: boolean, delayMs: number) => void;
    socket?: { unref?: () => void; setKeepAlive?: (on: boolean, delayMs: number) => void };
  };
  await c.start();
  // The attach's socket must not hold this process open.
  (stream.unref ?? stream.socket?.unref)?.call(stream.unref ? stream : stream.socket);
  // Over TCP (a remote Engine), keepalives make a silently dead owner's connection end too.
  (stream.setKeepAlive ?? stream.socket?.setKeepAlive)?.call(
    stream.setKeepAlive ? stream : stream.socket,
    true,
    10_000,
  );
  stream.on("error", () => {});
  let disarmed = false;
  return {
    container: name,
    async disarm() {
      if (disarmed) return;
      disarmed = true;
      // Removed first, then let go of: it must not see its input close while it can still act.
      await c.remove({ force: true }).catch(ignoreGone);
      stream.destroy();
    },
  };
}
