#!/usr/bin/env node
// The dhcplab command. Installed from the package, it runs the built JavaScript in dist/. From a
// clone (no build step) it runs the TypeScript sources, bundled by esbuild into one module (our
// modules only; packages still load from node_modules) and kept until one of the files bundled
// changes: through tsx's loader every command spent 0.7 s loading its 200 modules.
import { existsSync } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const sources = `${root}orchestrator/cli/program.ts`;
const { main } = existsSync(sources)
  ? await import(pathToFileURL(await bundled(sources)).href)
  : await import("../dist/orchestrator/cli/program.js");
process.exitCode = await main(process.argv);

/**
 * The sources' bundle, made anew when a file it was made from changed (its size or modification
 * time), is missing, or was made by another esbuild. It lies in node_modules/, one level under the
 * root as orchestrator/paths.ts is, so that the root it finds from its own location is the same.
 */
async function bundled(entry) {
  const out = `${root}node_modules/.dhcplab-cli.mjs`;
  const manifest = `${out}.json`;
  const { build, version } = await import("esbuild");
  const current = await readFile(manifest, "utf8")
    .then((text) => JSON.parse(text))
    .catch(() => undefined);
  if (current?.esbuild === version && existsSync(out) && (await unchanged(current.inputs))) return out;
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: root,
    bundle: true,
    packages: "external",
    platform: "node",
    target: "node20",
    format: "esm",
    write: false,
    metafile: true,
    logLevel: "warning",
  });
  const inputs = await Promise.all(
    Object.keys(result.metafile.inputs).map(async (path) => {
      const s = await stat(`${root}${path}`);
      return { path, size: s.size, mtimeMs: s.mtimeMs };
    }),
  );
  // Written aside and renamed: commands started together each see a whole file or none.
  const tmp = `${out}.${process.pid}`;
  await writeFile(tmp, result.outputFiles[0].contents);
  await rename(tmp, out);
  await writeFile(`${manifest}.${process.pid}`, JSON.stringify({ esbuild: version, inputs }));
  await rename(`${manifest}.${process.pid}`, manifest);
  return out;
}

/** Whether every file a bundle was made from is as it was then. */
async function unchanged(inputs) {
  if (!Array.isArray(inputs)) return false;
  const now = await Promise.all(inputs.map((i) => stat(`${root}${i.path}`).catch(() => undefined)));
  return now.every((s, k) => s !== undefined && s.size === inputs[k].size && s.mtimeMs === inputs[k].mtimeMs);
}
