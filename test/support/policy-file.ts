import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Writes policy text to a fresh temporary policy.yaml and returns its path, for a test lab's topology. */
export async function policyFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "dhcplab-policy-"));
  const file = join(dir, "policy.yaml");
  await writeFile(file, text);
  return file;
}
