import { join } from "node:path";
import type { LabSpec, NodeSpec } from "./spec.ts";

// What differs between a running lab's spec and the one its files now make: per node, nothing,
// its files only (taken in by the running service), or its container's definition (created anew).

/** One node's change from `before` to `node` (for a removed node, `node` is the one before). */
export interface NodeChange {
  kind: "same" | "files" | "recreate" | "added" | "removed";
  node: NodeSpec;
  before?: NodeSpec;
  /** kind files: the paths of the files that changed. */
  files?: string[];
  /** For people: what changed. */
  detail: string;
}

/** A node's container definition: everything but its files' contents. */
function definition(n: NodeSpec): string {
  const { files, ...rest } = n;
  return JSON.stringify({ ...rest, files: files.map((f) => join(f.dir, f.name)).sort() });
}

/** The settings whose difference makes a node's container be created anew, by name. */
function differences(a: NodeSpec, b: NodeSpec): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  const { files: _a, ...ra } = a as unknown as Record<string, unknown>;
  const { files: _b, ...rb } = b as unknown as Record<string, unknown>;
  const out = [...keys].filter((k) => k !== "files" && JSON.stringify(ra[k]) !== JSON.stringify(rb[k]));
  const fa = a.files.map((f) => join(f.dir, f.name)).sort();
  const fb = b.files.map((f) => join(f.dir, f.name)).sort();
  if (JSON.stringify(fa) !== JSON.stringify(fb)) out.push("files added or removed");
  return out;
}

/**
 * Each node of `after` (and each of `before` it no longer has) with what changed. A node that
 * shares a recreated node's network namespace is recreated with it.
 */
export function diffSpecs(before: LabSpec, after: LabSpec): NodeChange[] {
  const old = new Map(before.nodes.map((n) => [n.service, n]));
  const changes: NodeChange[] = after.nodes.map((node): NodeChange => {
    const was = old.get(node.service);
    if (!was) return { kind: "added", node, detail: "new in the topology" };
    if (definition(was) !== definition(node))
      return { kind: "recreate", node, before: was, detail: `changed: ${differences(was, node).join(", ")}` };
    const digests = new Map(was.files.map((f) => [join(f.dir, f.name), f.sha256]));
    const files = node.files
      .map((f) => join(f.dir, f.name))
      .filter((p, i) => digests.get(p) !== node.files[i]?.sha256);
    return files.length > 0
      ? { kind: "files", node, before: was, files, detail: files.join(", ") }
      : { kind: "same", node, before: was, detail: "" };
  });
  const recreated = new Set(changes.filter((c) => c.kind === "recreate").map((c) => c.node.service));
  for (const c of changes) {
    if (
      c.node.namespaceOf &&
      recreated.has(c.node.namespaceOf) &&
      c.kind !== "added" &&
      c.kind !== "recreate"
    ) {
      c.kind = "recreate";
      c.detail = `${c.node.namespaceOf} is created anew, and it shares its network namespace`;
    }
  }
  const kept = new Set(after.nodes.map((n) => n.service));
  for (const n of before.nodes)
    if (!kept.has(n.service))
      changes.push({ kind: "removed", node: n, before: n, detail: "not in the topology any more" });
  return changes;
}
