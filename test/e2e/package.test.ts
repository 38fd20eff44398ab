import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { execa } from "execa";
import { afterAll, describe, expect, inject, it } from "vitest";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { ROOT } from "../../orchestrator/paths.ts";

// dhcplab as another project uses it: `npm pack`, the tarball installed into a scratch project
// outside the repository that has only its own package.json, topology, policy, Kea
// configuration and vitest suite (test/fixtures/consumer), and that suite run there.

const NAME = `t${process.pid}-consumer`;

describe("the packed package in another project", () => {
  let work = "";
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("installs, starts a lab from its own files, gets a lease through the relay, and leaves nothing behind", async () => {
    work = await mkdtemp(join(tmpdir(), "dhcplab-consumer-"));
    const packed = await execa("npm", ["pack", "--json", "--pack-destination", work], { cwd: ROOT });
    const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]?.filename ?? "");

    const project = join(work, "project");
    await cp(join(ROOT, "test", "fixtures", "consumer"), project, { recursive: true });
    const ours = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      devDependencies: Record<string, string>;
      overrides: Record<string, string>;
    };
    await writeFile(
      join(project, "package.json"),
      JSON.stringify(
        {
          name: "dhcplab-consumer",
          private: true,
          type: "module",
          scripts: { test: "vitest run" },
          devDependencies: { dhcplab: `file:${tarball}`, vitest: ours.devDependencies.vitest },
          // The registry these machines reach lags for rollup's newest platform packages.
          overrides: ours.overrides,
        },
        null,
        2,
      ),
    );
    const install = await execa("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: project,
      reject: false,
    });
    expect(install.exitCode, install.stderr).toBe(0);

    const run = await execa("npm", ["test"], {
      cwd: project,
      reject: false,
      env: { LAB_NAME: NAME, LAB_LABELS: JSON.stringify(inject("testRun").labels) },
    });
    expect(run.exitCode, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/1 passed/);
    // Its command works from node_modules/.bin too.
    const version = await execa("npx", ["dhcplab", "--help"], { cwd: project, reject: false });
    expect(version.stdout).toMatch(/Usage: dhcplab/);

    const docker = new Docker();
    const filters = JSON.stringify({ label: [`${LABEL.lab}=${NAME}`] });
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
  });
});
