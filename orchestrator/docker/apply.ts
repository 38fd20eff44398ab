import { join } from "node:path";
import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import type { Subnets } from "../model/plan.ts";
import { RELAY_CONFIG_PATH } from "../model/plan.ts";
import { slotSubnets } from "../model/subnets.ts";
import type { Topology } from "../model/topology.ts";
import { bridgeOf, buildSpec, labNetworks } from "../spec/build.ts";
import { diffSpecs, type NodeChange } from "../spec/diff.ts";
import { type LabInputs, readLabInputs } from "../spec/inputs.ts";
import {
  type LabSpec,
  type NetworkSpec,
  type NodeSpec,
  networkLabels,
  type SpecSource,
} from "../spec/spec.ts";
import { counterSum, type RelayCounters, relayRequest } from "./container-http.ts";
import { createNode, runHostNode, waitNodes } from "./deploy.ts";
import { ignoreGone, removeNetwork, tarOf } from "./engine.ts";
import { forgetFaultsOf, namespaceRenewed } from "./faults.ts";
import { waitHaNormal } from "./ha.ts";
import type { ImageTags } from "./images.ts";
import { keaReload } from "./kea-control.ts";
import { testKeaConfigs } from "./kea-setup.ts";
import { labState, writeSpec } from "./lab.ts";
import { createLabNetwork } from "./networks.ts";
import { waitFor } from "./wait.ts";

// dhcplab apply: a running lab made what its files now say, changing only what differs. The new
// spec is built from the files on the subnets the lab has; compared with the running one
// (spec/diff.ts), each node is left alone, given its changed files (Kea reloads its configuration,
// the relay its policy) or, when its container's definition changed, created anew.

/** What apply did to one service. */
export interface AppliedChange {
  service: string;
  /**
   * reloaded: Kea loaded its new configuration (config-reload), leases kept; policy: the relay
   * loaded its new policy; restarted: new files, container restarted; created, recreated, removed.
   */
  action: "reloaded" | "policy" | "restarted" | "created" | "recreated" | "removed";
  /** What changed: the files, or the container's settings. */
  detail: string;
}

/** What `apply` did: each change, the services left as they were, the networks created and removed. */
export interface ApplyResult {
  lab: string;
  changes: AppliedChange[];
  unchanged: string[];
  networks: { created: string[]; removed: string[] };
  seconds: number;
}

/** How to apply. */
export interface ApplyOptions {
  topology: Topology;
  /** What the lab is now made from (kept in its spec for the next apply). */
  source: Omit<SpecSource, "monitoring">;
  images: ImageTags;
  progress?: (line: string) => void;
  timeoutMs?: number;
}

/**
 * Applies a topology and the files it names to a running lab. Everything is checked before
 * anything changes: the policy (file, line, field) and every changed Kea configuration (Kea's own
 * config test, refused with Kea's words); a refusal changes nothing. A failure after the checks
 * (a container that does not come up) leaves what was done so far, and the next apply goes on
 * from there: networks and containers an earlier attempt left are taken or made again.
 */
export async function applyLab(
  docker: Docker,
  running: LabSpec,
  o: ApplyOptions,
): Promise<{ spec: LabSpec; result: ApplyResult }> {
  const started = performance.now();
  const say = o.progress ?? (() => {});
  const timeoutMs = o.timeoutMs ?? 90_000;
  const monitoring = running.source?.monitoring ?? running.networks.some((n) => n.role === "monitoring");
  const inputs = await readLabInputs(o.topology, o.images);
  const specOn = (subnets: (key: string) => Subnets) =>
    buildSpec({
      name: running.name,
      topology: o.topology,
      inputs,
      subnets,
      labels: userLabels(running),
      relayEnv: o.source.relayEnv,
      monitoring,
      source: o.source,
    });

  // 1. Check: the spec on the lab's subnets (new networks on provisional ones), the changed Kea
  // configurations through Kea's own config test.
  const have = new Map(running.networks.map((n) => [n.key, n]));
  const decls = labNetworks(o.topology, { monitoring });
  const fresh = decls.filter((n) => !have.has(n.key));
  const provisional = specOn(subnetsOf(have, new Map(fresh.map((n, i) => [n.key, slotSubnets(255 - i)]))));
  const provisionalDiff = diffSpecs(running, provisional);
  await testChangedKeas(docker, inputs, provisionalDiff.filter(isKea), running);

  // 2. Networks the lab did not have, then the spec on their real subnets.
  const created = new Map<string, Subnets>();
  for (const n of fresh) {
    const name = `${running.name}-${n.key}`;
    // An apply that failed after this step left the network: it is taken as it is.
    const left = await existingNetwork(docker, name);
    if (left) created.set(n.key, left);
    else {
      say(`creating network ${name}`);
      created.set(
        n.key,
        await createLabNetwork(docker, name, networkLabels(running.labels, n), bridgeOf(name)),
      );
    }
  }
  const spec = specOn(subnetsOf(have, created));
  const changes = diffSpecs(running, spec);
  const applied: AppliedChange[] = [];

  // 3. The host's rules again when the networks changed; then containers removed, recreated, created.
  const host = changes.find((c) => c.node.stage === "host" && c.kind !== "same");
  if (host) await runHostNode(docker, spec, host.node, say);
  const gone = changes.filter((c) => c.kind === "removed" || c.kind === "recreate");
  for (const c of gone) {
    if (c.node.stage === "host") continue;
    say(`removing ${c.before?.container}`);
    await docker
      .getContainer(c.before?.container ?? "")
      .remove({ force: true })
      .catch(ignoreGone);
    await forgetFaultsOf(docker, running, c.node.service);
    if (c.kind === "removed") applied.push({ service: c.node.service, action: "removed", detail: c.detail });
  }
  const made = changes.filter(
    (c) => (c.kind === "added" || c.kind === "recreate") && c.node.stage !== "host",
  );
  // A node in another's namespace comes after it (an exporter after its Kea).
  made.sort((a, b) => Number(a.node.namespaceOf !== undefined) - Number(b.node.namespaceOf !== undefined));
  for (const c of made) {
    say(`creating ${c.node.container}`);
    // One an earlier, failed apply created is made again.
    await docker.getContainer(c.node.container).remove({ force: true }).catch(ignoreGone);
    await createNode(docker, spec, c.node);
    await docker.getContainer(c.node.container).start();
    applied.push({
      service: c.node.service,
      action: c.kind === "added" ? "created" : "recreated",
      detail: c.detail,
    });
  }

  // 4. Changed files into running containers: Kea reloads, the relay reads its policy again.
  // An HA pair's second server first: a peer that reloads restarts its HA service, and the first
  // (the primary of a hot-standby pair) serves meanwhile.
  const files = changes.filter((c) => c.kind === "files");
  const ha = (c: NodeChange) => c.node.role.kind === "kea" && c.node.role.ha !== undefined;
  for (const c of [...files.filter((c) => !ha(c)), ...files.filter(ha).reverse()]) {
    applied.push(await applyFiles(docker, spec, c, say));
  }

  // 5. Everything touched healthy again, HA pairs back in their normal state.
  const touched = applied.filter((a) => a.action !== "removed" && a.action !== "policy");
  await waitNodes(
    docker,
    spec.nodes.filter((n) => touched.some((a) => a.service === n.service)),
    timeoutMs,
  );
  const haTouched = touched.some((a) => spec.nodes.find((n) => n.service === a.service)?.role.kind === "kea");
  if (haTouched && spec.vrfs.some((v) => v.spec.ha)) {
    say("waiting for every HA pair to reach its normal state");
    await waitHaNormal(docker, await labState(docker, spec), timeoutMs);
  }

  // 6. Networks no longer in the lab, and the spec kept with the lab.
  const removed: string[] = [];
  for (const n of running.networks.filter((n) => !decls.some((d) => d.key === n.key))) {
    say(`removing network ${n.name}`);
    await removeNetwork(docker, n.name);
    removed.push(n.name);
  }
  await writeSpec(docker, spec);
  return {
    spec,
    result: {
      lab: running.name,
      changes: applied,
      unchanged: changes
        .filter((c) => c.kind === "same" && c.node.stage !== "host")
        .map((c) => c.node.service),
      networks: { created: [...created.keys()].map((k) => `${running.name}-${k}`), removed },
      seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
    },
  };
}

const isKea = (c: NodeChange) => c.node.role.kind === "kea" && c.kind !== "same" && c.kind !== "removed";

/** The subnets of a network that exists already (an earlier apply's), or undefined. */
async function existingNetwork(docker: Docker, name: string): Promise<Subnets | undefined> {
  const info = (await docker
    .getNetwork(name)
    .inspect()
    .catch(() => undefined)) as { IPAM?: { Config?: { Subnet?: string }[] } } | undefined;
  const subnets = info?.IPAM?.Config?.map((c) => c.Subnet ?? "") ?? [];
  const ipv4Subnet = subnets.find((s) => s.includes("."));
  const ipv6Subnet = subnets.find((s) => s.includes(":"));
  return ipv4Subnet && ipv6Subnet ? { ipv4Subnet, ipv6Subnet } : undefined;
}

/** The labels a user gave the lab (the lab's own are added again by buildSpec). */
function userLabels(spec: LabSpec): Record<string, string> {
  const { [LABEL.managed]: _m, [LABEL.lab]: _l, ...rest } = spec.labels;
  return rest;
}

function subnetsOf(have: Map<string, NetworkSpec>, added: Map<string, Subnets>): (key: string) => Subnets {
  return (key) => {
    const s = have.get(key)?.subnets ?? added.get(key);
    if (!s) throw new Error(`no subnets for network ${key}`);
    return s;
  };
}

/** Kea's config test of each changed or new Kea's files, as the lab writes them for it. */
async function testChangedKeas(
  docker: Docker,
  inputs: LabInputs,
  changes: readonly NodeChange[],
  running: LabSpec,
): Promise<void> {
  const setups = changes.flatMap((c) => {
    const role = c.node.role;
    if (role.kind !== "kea") return [];
    const k = inputs.keas.find((k) => k.vrf === role.vrf);
    if (!k) return [];
    const files = Object.fromEntries(c.node.files.map((f) => [f.name, Buffer.from(f.content ?? "")]));
    return [{ ...k, files }];
  });
  if (setups.length === 0) return;
  await testKeaConfigs(docker, setups, { ...running.labels });
}

/** A node's changed files put in place, and taken in the way its service takes them. */
async function applyFiles(
  docker: Docker,
  spec: LabSpec,
  c: NodeChange,
  say: (line: string) => void,
): Promise<AppliedChange> {
  const node = c.node;
  const changed = node.files.filter((f) => c.files?.includes(join(f.dir, f.name)));
  const container = docker.getContainer(node.container);
  const byDir = new Map<string, [string, Buffer][]>();
  for (const f of changed) {
    const bytes = f.binary ? Buffer.from(f.content ?? "", "base64") : Buffer.from(f.content ?? "");
    byDir.set(f.dir, [...(byDir.get(f.dir) ?? []), [f.name, bytes]]);
  }
  for (const [dir, entries] of byDir) await container.putArchive(tarOf(entries), { path: dir });
  const detail = changed.map((f) => join(f.dir, f.name)).join(", ");
  const role = node.role;

  // Kea: its server configurations are read again by config-reload (the file it was started
  // with); leases stay in its lease file. Anything else of Kea's (the control agent's file) needs
  // a restart.
  const reloadable = (name: string) => /^kea-dhcp[46]\.conf$/.test(name);
  if (role.kind === "kea" && changed.every((f) => reloadable(f.name))) {
    for (const f of changed) {
      const family = f.name.includes("dhcp4") ? "dhcp4" : "dhcp6";
      const endpoint = role.control[family];
      if (!endpoint) continue;
      say(`${node.service}: ${family} config-reload`);
      await keaReload(docker, node.container, endpoint).catch((err: Error) => {
        throw new Error(`${node.service}: ${f.name}: ${err.message}`);
      });
    }
    return { service: node.service, action: "reloaded", detail };
  }

  // The relay: a policy alone is read again on SIGHUP (it keeps its last good one on a refusal).
  if (role.kind === "relay" && changed.every((f) => join(f.dir, f.name) !== RELAY_CONFIG_PATH)) {
    await reloadPolicy(docker, spec, node, say);
    return { service: node.service, action: "policy", detail };
  }
  say(`${node.service}: restarting for ${detail}`);
  await container.restart({ t: 2 });
  await namespaceRenewed(docker, spec, node.service);
  return { service: node.service, action: "restarted", detail };
}

/** SIGHUP, and the relay's own word that it took the policy (its reload counter). */
async function reloadPolicy(docker: Docker, spec: LabSpec, node: NodeSpec, say: (line: string) => void) {
  const ask = <T>(path: string) =>
    relayRequest<T>(docker, node.container, path, { port: spec.relay.httpPort });
  const reloads = async (result: "ok" | "refused") =>
    counterSum(await ask<RelayCounters>("/counters"), "dhcplab_relay_policy_reloads_total", { result });
  const before = { ok: await reloads("ok"), refused: await reloads("refused") };
  say(`${node.service}: reloading its policy (SIGHUP)`);
  await docker.getContainer(node.container).kill({ signal: "SIGHUP" });
  await waitFor(
    `${node.service} reloading its policy`,
    async () => {
      if ((await reloads("refused")) > before.refused) {
        // /healthz answers 503 and says why.
        const why = await ask("/healthz").then(JSON.stringify, (err: Error) => err.message);
        return { failed: `the relay refused the policy and keeps its last good one: ${why}` };
      }
      return (await reloads("ok")) > before.ok
        ? { done: true, value: undefined }
        : { done: false, seen: "no reload counted yet" };
    },
    { timeoutMs: 10_000, intervalMs: 200 },
  );
}
