import { PassThrough } from "node:stream";
import { finished } from "node:stream/promises";
import Docker from "dockerode";
import { extract, pack } from "tar-stream";

/** A dockerode client for DOCKER_HOST (or the local socket when unset). */
export function dockerClient(): Docker {
  return new Docker();
}

/**
 * A container's MAC address on the network it is created on, as every Engine takes it: in the
 * container's config (Engine API 1.41, deprecated since 1.44) and in its endpoint's (1.44 on, and
 * Podman's compatible API, which reads only that one).
 */
export function withMac(
  network: string,
  mac: string | undefined,
  endpoint: Docker.EndpointSettings = {},
): { MacAddress?: string; NetworkingConfig: Docker.ContainerCreateOptions["NetworkingConfig"] } {
  return {
    ...(mac ? { MacAddress: mac } : {}),
    NetworkingConfig: {
      EndpointsConfig: { [network]: { ...endpoint, ...(mac ? { MacAddress: mac } : {}) } },
    },
  };
}

const podmanEngines = new WeakMap<Docker, Promise<boolean>>();

/**
 * Whether the Engine is Podman (its Docker-compatible API service): it runs health checks from
 * systemd timers only, so without systemd (in a container, on many servers) never by itself.
 */
export function isPodman(docker: Docker): Promise<boolean> {
  let podman = podmanEngines.get(docker);
  if (!podman) {
    podman = docker.version().then((v) => (v.Components ?? []).some((c) => c.Name === "Podman Engine"));
    podmanEngines.set(docker, podman);
    // An Engine that did not answer is asked again next time.
    podman.catch(() => podmanEngines.delete(docker));
  }
  return podman;
}

/**
 * Runs a container's health check now, on Podman, and returns its status (healthy, unhealthy,
 * starting): Podman's own API (GET /libpod/containers/ID/healthcheck) runs it and records the
 * result as its timer would.
 */
export function runPodmanHealthCheck(docker: Docker, id: string): Promise<string | undefined> {
  return new Promise((resolve) =>
    docker.modem.dial(
      {
        path: `/v4.0.0/libpod/containers/${encodeURIComponent(id)}/healthcheck`,
        method: "GET",
        statusCodes: { 200: true, 404: "no such container", 409: "no health check", 500: "server error" },
      },
      (err: unknown, data: unknown) =>
        resolve(err ? undefined : ((data as { Status?: string } | undefined)?.Status ?? undefined)),
    ),
  );
}

/** The oldest Engine API dhcplab uses (Docker Engine 20.10). */
export const MIN_API_VERSION = "1.41";

/** Checks that an Engine answers and is new enough; the error says what to do when not. */
export async function checkEngine(docker: Docker): Promise<void> {
  let version: { ApiVersion?: string; Version?: string };
  try {
    version = await docker.version();
  } catch (err) {
    const where = process.env.DOCKER_HOST ?? "/var/run/docker.sock";
    throw new Error(
      `no Docker Engine answers at ${where} (${(err as Error).message}): start Docker, or set DOCKER_HOST to one that runs`,
    );
  }
  const [major = 0, minor = 0] = (version.ApiVersion ?? "0.0").split(".").map(Number);
  const [wantMajor = 1, wantMinor = 41] = MIN_API_VERSION.split(".").map(Number);
  if (major < wantMajor || (major === wantMajor && minor < wantMinor)) {
    throw new Error(
      `the Docker Engine at hand (${version.Version}, API ${version.ApiVersion}) is too old: dhcplab needs API ${MIN_API_VERSION} (Engine 20.10) or later`,
    );
  }
}

/** Whether the Engine has an image by that name or tag. */
export async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/** Removes every container and network carrying `label` (e.g. `dev.dhcplab.lab=red`), containers first. */
export async function removeLabelled(
  docker: Docker,
  label: string,
): Promise<{ containers: number; networks: number }> {
  const filters = JSON.stringify({ label: [label] });
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreGone)),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(networks.map((n) => removeNetwork(docker, n.Id)));
  return { containers: containers.length, networks: networks.length };
}

/**
 * Removes a network. Engine 20.10 may still list an endpoint of a container it has just
 * removed ("has active endpoints"): such endpoints are disconnected by force, and the removal
 * tried again, for up to 10 s.
 */
export async function removeNetwork(docker: Docker, id: string): Promise<void> {
  const network = docker.getNetwork(id);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await network.remove();
      return;
    } catch (err) {
      const busy =
        (err as { statusCode?: number }).statusCode === 403 && /active endpoints/.test(String(err));
      if (!busy || Date.now() > deadline) return ignoreGone(err);
      const info = (await network.inspect().catch(() => undefined)) as
        | { Containers?: Record<string, unknown> }
        | undefined;
      for (const container of Object.keys(info?.Containers ?? {}))
        await network.disconnect({ Container: container, Force: true }).catch(() => {});
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Swallows "no such object" and "removal already in progress": removal is idempotent. */
export function ignoreGone(err: unknown): void {
  const status = (err as { statusCode?: number }).statusCode;
  if (status === 404 || status === 409) return;
  throw err;
}

/** Runs `cmd` in a running container and returns its exit code and output. */
export async function exec(
  docker: Docker,
  containerId: string,
  cmd: string[],
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const container = docker.getContainer(containerId);
  const ex = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on("data", (b: Buffer) => out.push(b));
  stderr.on("data", (b: Buffer) => err.push(b));
  docker.modem.demuxStream(stream, stdout, stderr);
  await finished(stream);
  const info = await ex.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(out).toString("utf8"),
    stderr: Buffer.concat(err).toString("utf8"),
  };
}

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
export function demux(buf: Buffer): string {
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length && (buf[at] === 1 || buf[at] === 2) && buf[at + 1] === 0) {
    const len = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + len));
    at += 8 + len;
  }
  return (at === 0 ? buf : Buffer.concat(parts)).toString("utf8").trimEnd();
}

/** A container's log (stdout and stderr) as text; `tail` limits it to the last lines. */
export async function containerLogs(docker: Docker, id: string, tail?: number): Promise<string> {
  const buf = await docker
    .getContainer(id)
    .logs({ stdout: true, stderr: true, follow: false, ...(tail ? { tail } : {}) });
  return demux(buf as unknown as Buffer);
}

/** Runs a container to its end (create, start, wait), returns its exit code and output, and removes it. */
export async function runToCompletion(
  docker: Docker,
  options: Docker.ContainerCreateOptions,
): Promise<{ exitCode: number; output: string }> {
  const container = await docker.createContainer(options);
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    return { exitCode: StatusCode, output: await containerLogs(docker, container.id) };
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Every entry of a container path's archive (the Engine's archive API, running or stopped): name, type, bytes. */
async function archiveEntries(
  docker: Docker,
  id: string,
  path: string,
): Promise<{ name: string; type: string; bytes: Buffer }[]> {
  const tar = await docker.getContainer(id).getArchive({ path });
  const entries: { name: string; type: string; bytes: Buffer }[] = [];
  const ex = extract();
  await new Promise<void>((resolve, reject) => {
    ex.on("entry", (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: unknown) => chunks.push(c as Buffer));
      stream.on("end", () => {
        entries.push({ name: header.name, type: header.type ?? "file", bytes: Buffer.concat(chunks) });
        next();
      });
    });
    ex.on("finish", resolve);
    ex.on("error", reject);
    tar.pipe(ex as unknown as NodeJS.WritableStream);
  });
  return entries;
}

/** The bytes of one file in a container (running or stopped), read through the Engine's archive API. */
export async function containerFile(docker: Docker, id: string, path: string): Promise<Buffer> {
  return Buffer.concat((await archiveEntries(docker, id, path)).map((e) => e.bytes));
}

/**
 * The regular files of a folder in a container (running or stopped), by name below the folder,
 * read through the Engine's archive API.
 */
export async function containerFolder(
  docker: Docker,
  id: string,
  path: string,
): Promise<Map<string, Buffer>> {
  // The archive's names start with the folder's own name: "kea/kea-legal4.20261206.txt".
  return new Map(
    (await archiveEntries(docker, id, path))
      .filter((e) => e.type === "file")
      .map((e) => [e.name.split("/").slice(1).join("/"), e.bytes]),
  );
}

/**
 * A tar stream of files for a build context or `putArchive`. Scripts (*.sh) are executable; the
 * mtime is fixed, so the same files always give the same bytes.
 */
export function tarOf(files: Iterable<readonly [string, string | Uint8Array]>): NodeJS.ReadableStream {
  const tar = pack();
  for (const [name, body] of files) {
    tar.entry({ name, mode: name.endsWith(".sh") ? 0o755 : 0o644, mtime: new Date(0) }, Buffer.from(body));
  }
  tar.finalize();
  // tar-stream's Pack is a streamx Readable, which Node's stream typings do not describe.
  return tar as unknown as NodeJS.ReadableStream;
}
