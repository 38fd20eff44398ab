import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type Docker from "dockerode";
import { build as esbuild } from "esbuild";
import { LABEL } from "../model/labels.ts";
import { ROOT } from "../paths.ts";
import { tarOf } from "./engine.ts";

/** The image every lab image is built FROM. */
export const BASE_IMAGE = "debian:trixie-slim";

/** The lab's images. */
export const LAB_IMAGES = ["kea", "relay", "client"] as const;
/** Every image dhcplab builds: the lab's, and isc-dhcp-relay for the relay benchmark. */
export const IMAGE_NAMES = [...LAB_IMAGES, "dhcrelay"] as const;
export type ImageName = (typeof IMAGE_NAMES)[number];
export type LabImageName = (typeof LAB_IMAGES)[number];

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

/** The tags of the lab's images, as `ensureImages` returns them. */
export type ImageTags = Record<LabImageName, string>;

/** Reads docker/NAME/ into a context. */
async function folderContext(name: ImageName): Promise<Context> {
  const dir = join(ROOT, "docker", name);
  const files: Context = new Map();
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const full = join(entry.parentPath, entry.name);
    files.set(full.slice(dir.length + 1), await readFile(full));
  }
  return files;
}

/** The relay's entry point: its sources in a clone, the built JavaScript in the installed package. */
function relayEntry(): string {
  const sources = join(ROOT, "relay", "main.ts");
  return existsSync(sources) ? sources : join(ROOT, "dist", "relay", "main.js");
}

/** The relay's context: its Dockerfile plus the relay bundled into one ES module. */
async function relayContext(): Promise<Context> {
  const files = await folderContext("relay");
  const out = await esbuild({
    entryPoints: [relayEntry()],
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    minify: false,
    legalComments: "none",
    // pino and its dependencies use require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "warning",
  });
  const bundle = out.outputFiles[0];
  if (!bundle) throw new Error("esbuild produced no output for relay/main.ts");
  files.set("relay.mjs", Buffer.from(bundle.contents));
  return files;
}

function contextOf(name: ImageName): Promise<Context> {
  return name === "relay" ? relayContext() : folderContext(name);
}

/** A hash of everything that goes into an image: its context and the base image's id. */
export function inputsHash(context: Context, baseImageId: string): string {
  const h = createHash("sha256");
  h.update(`base ${baseImageId}\n`);
  for (const path of [...context.keys()].sort()) {
    const bytes = context.get(path) ?? Buffer.alloc(0);
    h.update(`${path} ${bytes.length}\n`);
    h.update(bytes);
  }
  return h.digest("hex").slice(0, 16);
}

async function imageExists(docker: Docker, tag: string): Promise<boolean> {
  try {
    await docker.getImage(tag).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw err;
  }
}

/**
 * The base image's id, pulled first when it is absent, so that the inputs' hash is the same
 * before and after the base image first appears (an absent base must not read as a change).
 */
async function baseImageId(docker: Docker, progress?: (line: string) => void): Promise<string> {
  if (!(await imageExists(docker, BASE_IMAGE))) {
    progress?.(`pulling ${BASE_IMAGE}`);
    try {
      const stream = await docker.pull(BASE_IMAGE);
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
      );
    } catch (err) {
      throw new Error(
        `the base image ${BASE_IMAGE} is not on this Docker host and could not be pulled (${(err as Error).message}): pull or load it (docker pull ${BASE_IMAGE}), then try again`,
      );
    }
  }
  return (await docker.getImage(BASE_IMAGE).inspect()).Id;
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
  const base = await baseImageId(docker, opts.progress);
  const results: ImageResult[] = [];
  for (const name of opts.only ?? LAB_IMAGES) {
    const started = performance.now();
    const context = await contextOf(name);
    const hash = inputsHash(context, base);
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
  for (const name of LAB_IMAGES) if (!tags[name]) throw new Error(`image ${name} was not ensured`);
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
