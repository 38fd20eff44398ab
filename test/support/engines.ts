import Docker from "dockerode";
import { exec } from "../../orchestrator/docker/engine.ts";
import { ensureImages } from "../../orchestrator/docker/images.ts";

// A second container engine for the remote-Engine tests: Debian's Docker Engine (docker/engine/)
// or Podman (docker/podman/), in a container of the outer Engine, with its own storage and
// networks, its API on TCP port 2375 of a network of its own. These machines refuse --privileged,
// so it gets the capabilities and options that work one by one (the shared environment notes):
// SYS_ADMIN, NET_ADMIN, NET_RAW, no seccomp or AppArmor profile, unmasked /proc and /sys, IPv6
// on; dockerd also the host's cgroup hierarchy (Podman runs its containers without cgroups of
// their own). Its storage is a volume of the outer Engine (removed with it), so that it stores
// images with overlay rather than copying every layer (vfs).

/** The engines the tests run in a container. */
export type EngineKind = "docker" | "podman";

/** Each engine's image, and where it keeps its storage. */
const ENGINES: Record<EngineKind, { image: "engine" | "podman"; storage: string }> = {
  docker: { image: "engine", storage: "/var/lib/docker" },
  podman: { image: "podman", storage: "/var/lib/containers" },
};

/** The port the inner Engine serves its API on, in the clear (a test network, nothing else on it). */
const API_PORT = 2375;

/** A container engine in a container, and how to reach it. */
export interface InnerEngine {
  /** DOCKER_HOST for it: tcp://ADDRESS:2375. */
  host: string;
  /** A client of it. */
  docker: Docker;
  /** Removes it, its storage and its network from the outer Engine. */
  remove(): Promise<void>;
}

/**
 * Starts a Docker Engine in a container of `outer` (its image built there first, once), waits for
 * its API, and loads `images` from the outer Engine into it.
 */
export async function startInnerEngine(
  outer: Docker,
  o: { kind: EngineKind; name: string; labels: Record<string, string>; images: readonly string[] },
): Promise<InnerEngine> {
  const engine = ENGINES[o.kind];
  const [built] = await ensureImages(outer, { only: [engine.image] });
  if (!built) throw new Error("the engine image was not built");
  // An internal network from Docker's own pools: the lab inside allocates from 10.213.0.0/16, which
  // must not be the network its API is reached on.
  const network = await outer.createNetwork({ Name: o.name, Internal: true, Labels: o.labels });
  const container = await outer.createContainer({
    name: o.name,
    Image: built.tag,
    Env: [`ENGINE_NAME=${o.name}`],
    Labels: o.labels,
    Volumes: { [engine.storage]: {} },
    HostConfig: {
      NetworkMode: o.name,
      CapAdd: ["SYS_ADMIN", "NET_ADMIN", "NET_RAW"],
      SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"],
      MaskedPaths: [],
      ReadonlyPaths: [],
      Sysctls: { "net.ipv6.conf.all.disable_ipv6": "0" },
      ...(o.kind === "docker"
        ? {
            Binds: ["/sys/fs/cgroup:/sys/fs/cgroup:rw"],
            // The host's cgroup namespace (dockerd makes its containers' cgroups there); not in dockerode's types.
            ...({ CgroupnsMode: "host" } as object),
          }
        : {}),
    },
  });
  let inner: Docker | undefined;
  const remove = async () => {
    // Whatever a failed test left inside goes first, with its processes; then the cgroups the
    // engine made in the host's hierarchy, which outlive it.
    for (const c of (await inner?.listContainers({ all: true }).catch(() => [])) ?? [])
      await inner
        ?.getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined);
    if (o.kind === "docker")
      await exec(outer, container.id, [
        "sh",
        "-c",
        'find /sys/fs/cgroup/*/"$ENGINE_NAME" /sys/fs/cgroup/"$ENGINE_NAME" -depth -type d -exec rmdir {} + 2>/dev/null; true',
      ]).catch(() => undefined);
    await container.remove({ force: true, v: true }).catch(() => undefined);
    await network.remove().catch(() => undefined);
  };
  try {
    await container.start();
    const address = Object.values((await container.inspect()).NetworkSettings.Networks)[0]?.IPAddress;
    if (!address) throw new Error("the engine container has no address");
    const docker = new Docker({ host: address, port: API_PORT, protocol: "http" });
    inner = docker;
    await answering(docker, 30_000);
    // GET /images/get (docker save of several images): not in dockerode's types.
    const saved = await (outer as unknown as ImageExport).getImages({ names: [...o.images] });
    const load = await docker.loadImage(saved);
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(load, (err: Error | null) => (err ? reject(err) : resolve())),
    );
    return { host: `tcp://${address}:${API_PORT}`, docker, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}

/** dockerode's getImages, which its types lack. */
interface ImageExport {
  getImages(o: { names: string[] }): Promise<NodeJS.ReadableStream>;
}

/** Waits until the Engine answers, or `ms` have passed. */
async function answering(docker: Docker, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      await docker.version();
      return;
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`the inner Engine did not answer: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
