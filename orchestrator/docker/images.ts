import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type Docker from "dockerode";
import { build as esbuild } from "esbuild";
import { LABEL } from "../model/labels.ts";
import { type KeaVersion, keaVersionOf, type Topology } from "../model/topology.ts";
import { ROOT } from "../paths.ts";
import { imageExists, tarOf } from "./engine.ts";

/**
 * Every image dhcplab builds: Kea per version, the relay, the clients, isc-dhcp-relay (towers
 * and the benchmark), the VRFs' boot (TFTP), DNS (BIND 9) and RADIUS (FreeRADIUS) servers, the PXE firmware client (QEMU, built
 * only when a PXE client runs), Prometheus (for a lab with monitoring), headless Chromium
 * (the report test's), and a Docker Engine and Podman to run in a container (the remote-Engine
 * tests').
 */
export const IMAGE_NAMES = [
  "kea-2.6",
  "kea-3.0",
  "relay",
  "client",
  "dhcrelay",
  "boot",
  "dns",
  "radius",
  "pxe",
  "prometheus",
  "browser",
  "engine",
  "podman",
] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];

/**
 * Where each image is built from: its folder under docker/, the Dockerfile there, and files of
 * docker/lib/ it shares with other images (at the root of its context).
 */
const SOURCES: Record<ImageName, { folder: string; dockerfile: string; lib?: string[] }> = {
  "kea-2.6": { folder: "kea", dockerfile: "Dockerfile.2.6", lib: ["install-routes.sh"] },
  "kea-3.0": { folder: "kea", dockerfile: "Dockerfile.3.0", lib: ["install-routes.sh"] },
  relay: { folder: "relay", dockerfile: "Dockerfile" },
  client: { folder: "client", dockerfile: "Dockerfile" },
  dhcrelay: { folder: "dhcrelay", dockerfile: "Dockerfile" },
  boot: { folder: "boot", dockerfile: "Dockerfile", lib: ["install-routes.sh"] },
  dns: { folder: "dns", dockerfile: "Dockerfile" },
  radius: { folder: "radius", dockerfile: "Dockerfile" },
  pxe: { folder: "pxe", dockerfile: "Dockerfile" },
  prometheus: { folder: "prometheus", dockerfile: "Dockerfile" },
  browser: { folder: "browser", dockerfile: "Dockerfile" },
  engine: { folder: "engine", dockerfile: "Dockerfile" },
  podman: { folder: "podman", dockerfile: "Dockerfile" },
};

/** The images a lab needs: the relay, the clients, and a Kea for each version its VRFs run. */
export function labImages(
  keaVersions: Iterable<KeaVersion>,
  o: { dhcrelay?: boolean; boot?: boolean; dns?: boolean; radius?: boolean } = {},
): ImageName[] {
  return [
    ...[...new Set(keaVersions)].sort().map((v) => `kea-${v}` as const),
    "relay",
    "client",
    ...(o.dhcrelay ? (["dhcrelay"] as const) : []),
    ...(o.boot ? (["boot"] as const) : []),
    ...(o.dns ? (["dns"] as const) : []),
    ...(o.radius ? (["radius"] as const) : []),
  ];
}

/**
 * The images a topology's lab runs: its Kea versions, the relay, the clients, isc-dhcp-relay
 * for its towers, the boot server for its VRFs' boot servers, BIND and FreeRADIUS for their DNS
 * and RADIUS servers.
 */
export function topologyImages(t: Topology): ImageName[] {
  return labImages(
    t.vrfs.map((v) => keaVersionOf(t, v)),
    {
      dhcrelay: t.towers.some((w) => w.kind === "isc-dhcp-relay"),
      boot: t.vrfs.some((v) => v.bootServer),
      dns: t.vrfs.some((v) => v.dnsServer),
      radius: t.vrfs.some((v) => v.radiusServer),
    },
  );
}

/** What `dhcplab images` and the test suite build by default: the default lab's images. */
export const DEFAULT_IMAGES: readonly ImageName[] = labImages(["3.0"]);

/** A build context: the path of each file inside the context and its bytes. */
type Context = Map<string, Buffer>;

/** What `ensureImages` did for one image. */
export interface ImageResult {
  name: ImageName;
  /** The tag the lab uses: dhcplab-NAME:HASH. */
  tag: string;
  /** Built now (true) or reused (false). */
  built: boolean;
  seconds: number;
}

/** The tags of the images `ensureImages` made sure of: always the relay's and the clients'. */
export type ImageTags = Partial<Record<ImageName, string>> & { relay: string; client: string };

/** Reads docker/FOLDER/ into a context. */
async function folderContext(folder: string): Promise<Context> {
  const dir = join(ROOT, "docker", folder);
  const files: Context = new Map();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(full.slice(dir.length + 1), await readFile(full));
  }
  return files;
}

/** The programs the relay image runs: the relay, the DHCPv4 load generator, the Kea exporter, the reaper. */
type Program = "relay/main" | "loadgen/main" | "kea-exporter/main" | "orchestrator/reaper/main";

/** A program's entry point: its sources in a clone, the built JavaScript in the installed package. */
function programEntry(program: Program): string {
  const sources = join(ROOT, `${program}.ts`);
  return existsSync(sources) ? sources : join(ROOT, "dist", `${program}.js`);
}

/** One program bundled into a single ES module for Debian's Node.js. */
async function bundle(program: Program): Promise<Buffer> {
  const out = await esbuild({
    entryPoints: [programEntry(program)],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    // No comments or indentation, names kept (stack traces stay readable), and ASCII only: one
    // non-ASCII character makes V8 hold a module's whole source as a two-byte string. The relay's
    // bundle in memory: 2 MiB less, measured in process.
    minifyWhitespace: true,
    charset: "ascii",
    legalComments: "none",
    // pino and its dependencies use require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "warning",
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error(`esbuild produced no output for ${program}.ts`);
  return Buffer.from(file.contents);
}

/** The relay's context: its Dockerfile plus the relay bundled into one ES module. */
async function relayContext(): Promise<Context> {
  const files = await folderContext("relay");
  files.set("relay.mjs", await bundle("relay/main"));
  // The DHCPv4 load generator (dhcplab load --engine clients) runs from the same image.
  files.set("loadgen.mjs", await bundle("loadgen/main"));
  // Kea's statistics as Prometheus metrics (dhcplab up --monitoring), beside each Kea.
  files.set("kea-exporter.mjs", await bundle("kea-exporter/main"));
  // The lab's reaper: it removes a lab whose owning process died (docker/reaper.ts).
  files.set("reaper.mjs", await bundle("orchestrator/reaper/main"));
  return files;
}

async function contextOf(name: ImageName): Promise<Context> {
  if (name === "relay") return relayContext();
  const files = await folderContext(SOURCES[name].folder);
  for (const f of SOURCES[name].lib ?? []) files.set(f, await readFile(join(ROOT, "docker", "lib", f)));
  return files;
}

/** The images a Dockerfile builds FROM (not its own stages). */
function baseImagesOf(dockerfile: string): string[] {
  const from = [...dockerfile.matchAll(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/gim)];
  const stages = new Set(from.map((m) => m[2]?.toLowerCase()).filter(Boolean));
  return [...new Set(from.map((m) => m[1] as string).filter((i) => !stages.has(i.toLowerCase())))];
}

/** A hash of everything that goes into an image: its context, its Dockerfile's name and its base images' ids. */
export function inputsHash(context: Context, base: string): string {
  const h = createHash("sha256");
  h.update(`base ${base}\n`);
  for (const path of [...context.keys()].sort()) {
    const bytes = context.get(path) ?? Buffer.alloc(0);
    h.update(`${path} ${bytes.length}\n`);
    h.update(bytes);
  }
  return h.digest("hex").slice(0, 16);
}

/**
 * A base image's id, pulled first when it is absent, so that the inputs' hash is the same
 * before and after the base image first appears (an absent base must not read as a change).
 */
async function baseImageId(
  docker: Docker,
  image: string,
  progress?: (line: string) => void,
): Promise<string> {
  if (!(await imageExists(docker, image))) {
    progress?.(`pulling ${image}`);
    try {
      const stream = await docker.pull(image);
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      throw new Error(
        `the base image ${image} is not on this Docker host and could not be pulled (${(err as Error).message}): pull or load it (docker pull ${image}), then try again`,
      );
    }
  }
  return (await docker.getImage(image).inspect()).Id;
}

/** Options for `ensureImages`. */
export interface EnsureOptions {
  /** Build even when an image with the same inputs exists. */
  rebuild?: boolean;
  /** Only these images (default: the lab's). */
  only?: readonly ImageName[];
  /** Receives build output, a line at a time, prefixed by the image's name. */
  progress?: (line: string) => void;
}

/** Builds the lab's images whose inputs changed (or all with `rebuild`) and returns their tags. */
export async function ensureImages(docker: Docker, opts: EnsureOptions = {}): Promise<ImageResult[]> {
  const results: ImageResult[] = [];
  for (const name of opts.only ?? DEFAULT_IMAGES) {
    const started = performance.now();
    const context = await contextOf(name);
    const { dockerfile } = SOURCES[name];
    const bases = baseImagesOf(context.get(dockerfile)?.toString() ?? "");
    const ids = await Promise.all(bases.map((b) => baseImageId(docker, b, opts.progress)));
    const hash = inputsHash(context, `${dockerfile} ${ids.join(" ")}`);
    const tag = `dhcplab-${name}:${hash}`;
    const built = opts.rebuild === true || !(await imageExists(docker, tag));
    if (built) await buildImage(docker, name, tag, hash, context, opts.progress);
    results.push({ name, tag, built, seconds: (performance.now() - started) / 1000 });
  }
  return results;
}

/** The tags from `ensureImages` results. */
export function tagsOf(results: readonly ImageResult[]): ImageTags {
  const tags = Object.fromEntries(results.map((r) => [r.name, r.tag]));
  for (const name of ["relay", "client"]) if (!tags[name]) throw new Error(`image ${name} was not ensured`);
  return tags as ImageTags;
}

async function buildImage(
  docker: Docker,
  name: ImageName,
  tag: string,
  hash: string,
  context: Context,
  progress: ((line: string) => void) | undefined,
): Promise<void> {
  const stream = await docker.buildImage(tarOf(context), {
    t: tag,
    dockerfile: SOURCES[name].dockerfile,
    labels: { [LABEL.managed]: "true", [LABEL.inputs]: hash },
    rm: true,
    forcerm: true,
  });
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: Array<{ error?: string }>) => {
        const failed = err?.message ?? output.find((o) => o.error)?.error;
        if (failed) reject(new Error(`building ${name} failed: ${failed}\n${tail.join("\n")}`));
        else resolve();
      },
      (event: { stream?: string; status?: string; error?: string }) => {
        const text = event.stream ?? event.status ?? event.error ?? "";
        for (const line of text.split("\n")) {
          if (!line.trim()) continue;
          tail.push(line);
          if (tail.length > 20) tail.shift();
          progress?.(`[${name}] ${line}`);
        }
      },
    );
  });
  // A stable name too, for people and for compose.yaml: dhcplab-NAME:latest.
  await docker.getImage(tag).tag({ repo: `dhcplab-${name}`, tag: "latest" });
}
