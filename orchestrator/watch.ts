import { type FSWatcher, statSync, watch } from "node:fs";
import { dirname, resolve } from "node:path";
import type { ApplyResult } from "./docker/apply.ts";
import { loadTopology, type Topology } from "./model/topology.ts";

// dhcplab watch: apply on every save. What a lab is made from (the topology file, the policies,
// each VRF's Kea folder, the boot folders) is watched by folder, as editors save by writing a new
// file and renaming it over the old; saves within a moment are applied once, and a refusal is
// reported while the watch goes on.

/** Every file and folder a topology's lab is made from. */
export function watchedPaths(topologyFile: string | undefined, t: Topology): string[] {
  return [
    ...(topologyFile ? [resolve(topologyFile)] : []),
    ...(t.relay.policy ? [t.relay.policy] : []),
    ...t.vrfs.flatMap((v) => [v.keaConfig, ...(v.bootServer ? [v.bootServer.files] : [])]),
    ...t.towers.flatMap((w) => (w.policy ? [w.policy] : [])),
  ];
}

/** What a watch reports: each apply's result, or why it was refused. */
export interface WatchEvents {
  /** The files whose change started an apply. */
  changed?(paths: string[]): void;
  applied(result: ApplyResult): void;
  refused(error: Error): void;
}

/** A running watch. */
export interface Watch {
  close(): void;
  /** Resolves once the apply in progress (if any) has ended. */
  settled(): Promise<void>;
}

/**
 * Watches what the lab is made from and calls `apply` after each save (debounced by
 * `debounceMs`); one apply at a time, a save during one starts the next after it.
 */
export async function watchFiles(
  topologyFile: string | undefined,
  apply: () => Promise<ApplyResult>,
  events: WatchEvents,
  o: { debounceMs?: number } = {},
): Promise<Watch> {
  const debounceMs = o.debounceMs ?? 300;
  let watchers: FSWatcher[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let pending = new Set<string>();
  let closed = false;

  const arm = async () => {
    for (const w of watchers) w.close();
    watchers = [];
    // A topology that does not load (a save in progress) is watched alone until it does.
    const paths = await loadTopology(topologyFile).then(
      (t) => watchedPaths(topologyFile, t),
      () => (topologyFile ? [resolve(topologyFile)] : []),
    );
    if (closed) return;
    // A folder is watched with what is below it; a file through its folder, filtered by name.
    const folders = paths.filter(isFolder);
    const files = new Set(paths.filter((p) => !folders.includes(p)));
    const dirs = new Set([...folders, ...[...files].map((f) => dirname(f))]);
    const relevant = (path: string) =>
      files.has(path) || folders.some((f) => path === f || path.startsWith(`${f}/`));
    watchers = [...dirs].map((dir) =>
      watch(dir, { recursive: folders.includes(dir) }, (_event, name) => {
        const path = name ? resolve(dir, name.toString()) : dir;
        if (!relevant(path) || /(~|\.swp|\.swx|\.tmp)$/.test(path)) return;
        pending.add(path);
        clearTimeout(timer);
        timer = setTimeout(run, debounceMs);
      }).on("error", (err) => events.refused(new Error(`watching ${dir}: ${err.message}`))),
    );
  };

  const run = () => {
    const changed = [...pending];
    pending = new Set();
    running = running.then(async () => {
      if (closed) return;
      events.changed?.(changed);
      try {
        events.applied(await apply());
      } catch (err) {
        events.refused(err instanceof Error ? err : new Error(String(err)));
      }
      // The topology may name other files now.
      if (!closed) await arm().catch((err: unknown) => events.refused(err as Error));
    });
  };

  await arm();
  return {
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
    settled: () => running,
  };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
