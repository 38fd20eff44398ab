import type { TestProject } from "vitest/node";
import { dockerClient } from "../orchestrator/docker/engine.ts";
import { pruneRules } from "../orchestrator/docker/firewall.ts";
import { ensureImages, type ImageTags, tagsOf } from "../orchestrator/docker/images.ts";
import { newTestRun, removeTestObjects, type TestRun } from "./support/test-run.ts";

declare module "vitest" {
  export interface ProvidedContext {
    imageTags: ImageTags;
    testRun: TestRun;
  }
}

/** Builds the lab's images once for all end-to-end files and cleans up after the run. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const docker = dockerClient();
  const stale = await removeTestObjects(docker);
  if (stale > 0) console.log(`removed ${stale} containers and networks left by earlier test runs`);
  const results = await ensureImages(docker, { progress: (line) => process.stderr.write(`${line}\n`) });
  for (const r of results) console.log(`${r.built ? "built" : "reused"} ${r.tag}`);
  const seed = process.env.DHCPLAB_TEST_SEED_IN_USE;
  console.log(`test order seed ${seed} (DHCPLAB_TEST_SEED=${seed} npm test replays it)`);
  const run = newTestRun();
  project.provide("imageTags", tagsOf(results));
  project.provide("testRun", run);
  return async () => {
    // A lab kept for a failed test (DHCPLAB_KEEP_LAB) stays until the next run starts.
    if (process.env.DHCPLAB_KEEP_LAB && process.env.DHCPLAB_KEEP_LAB !== "never") return;
    await removeTestObjects(docker, run);
    // Firewall rules of access bridges that are gone (a crashed run's labs).
    await pruneRules(docker, tagsOf(results).client, "stale-only");
  };
}
