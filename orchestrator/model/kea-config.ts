import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { checkHaServer } from "./kea-ha.ts";
import { hookOf, KeaConfigError, parseKeaJson } from "./kea-json.ts";
import { leaseQueryOf } from "./kea-lease-query.ts";
import { legalLogOf } from "./legal-log.ts";
import { KEA_VERSIONS, type KeaVersion, keaVersionOf, type Topology, type VrfSpec } from "./topology.ts";

/** A Kea server's control endpoint: a URL, and for Kea 2.6 the service the control agent forwards to. */
export interface KeaEndpoint {
  url: string;
  /** Through Kea 2.6's control agent: the `service` to name in each command. */
  service?: "dhcp4" | "dhcp6";
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Where dhcplab sends a Kea server's commands (status-get, lease4-get-all, ...), from the server's
 * own configuration: Kea 3.0's HTTP control socket in `control-sockets` (or `control-socket`), or
 * Kea 2.6's control agent (`http-port` in kea-ctrl-agent.conf).
 */
export function controlEndpoint(
  version: KeaVersion,
  family: 4 | 6,
  files: { server: { file: string; text: string }; agent?: { file: string; text: string } },
): KeaEndpoint {
  const service = family === 4 ? "dhcp4" : "dhcp6";
  const root = `Dhcp${family}`;
  if (version === "2.6") {
    if (!files.agent)
      throw new KeaConfigError(
        files.server.file,
        root,
        "Kea 2.6 is reached through its control agent: kea-ctrl-agent.conf is missing",
      );
    const agent = parseKeaJson(files.agent.text, files.agent.file)["Control-agent"];
    if (!isObj(agent)) throw new KeaConfigError(files.agent.file, "Control-agent", "missing");
    const port = typeof agent["http-port"] === "number" ? agent["http-port"] : 8000;
    return { url: `http://127.0.0.1:${port}/`, service };
  }
  const server = parseKeaJson(files.server.text, files.server.file)[root];
  if (!isObj(server)) throw new KeaConfigError(files.server.file, root, "missing");
  const sockets = [server["control-sockets"], server["control-socket"]].flat().filter(isObj);
  const http = sockets.find((s) => s["socket-type"] === "http" || s["socket-type"] === "https");
  if (!http) {
    throw new KeaConfigError(
      files.server.file,
      `${root}.control-sockets`,
      'no HTTP control socket: Kea 3.0 answers commands itself; add { "socket-type": "http", "socket-address": "127.0.0.1", "socket-port": 8004 }',
    );
  }
  if (http["socket-type"] === "https")
    throw new KeaConfigError(
      files.server.file,
      `${root}.control-sockets`,
      "an HTTPS control socket: dhcplab speaks HTTP to it",
    );
  const address = typeof http["socket-address"] === "string" ? http["socket-address"] : "127.0.0.1";
  const port = typeof http["socket-port"] === "number" ? http["socket-port"] : 8000;
  const host =
    address === "0.0.0.0" || address === "::"
      ? "127.0.0.1"
      : address.includes(":")
        ? `[${address}]`
        : address;
  return { url: `http://${host}:${port}/` };
}

/** Where a VRF's kea-dhcp6 takes commands from its backend network: a port on every address. */
export interface BackendControl {
  port: number;
  /** Through Kea 2.6's control agent. */
  service?: "dhcp6";
}

const ANY = new Set(["0.0.0.0", "::"]);

/**
 * Whether kea-dhcp6 takes commands on every address of its container, and so from the relay on
 * the VRF's backend network (which reads delegated prefixes there at its start): Kea 3.0's HTTP
 * control socket, or Kea 2.6's control agent, on 0.0.0.0 or ::. Undefined when only on loopback.
 */
export function backendControl6(
  version: KeaVersion,
  files: { server: { file: string; text: string }; agent?: { file: string; text: string } },
): BackendControl | undefined {
  if (version === "2.6") {
    if (!files.agent) return undefined;
    const agent = parseKeaJson(files.agent.text, files.agent.file)["Control-agent"];
    if (!isObj(agent) || !ANY.has(String(agent["http-host"] ?? "127.0.0.1"))) return undefined;
    return { port: typeof agent["http-port"] === "number" ? agent["http-port"] : 8000, service: "dhcp6" };
  }
  const server = parseKeaJson(files.server.text, files.server.file).Dhcp6;
  if (!isObj(server)) return undefined;
  const http = [server["control-sockets"], server["control-socket"]]
    .flat()
    .filter(isObj)
    .find((s) => s["socket-type"] === "http" && ANY.has(String(s["socket-address"] ?? "127.0.0.1")));
  return http ? { port: typeof http["socket-port"] === "number" ? http["socket-port"] : 8000 } : undefined;
}

/**
 * The prefixes a kea-dhcp6 configuration delegates: every pd-pool's prefix/prefix-len, in
 * subnets and shared networks. The VRF's backend routes them through the relay.
 */
export function delegatedPools(file: string, text: string): string[] {
  const server = parseKeaJson(text, file).Dhcp6;
  if (!isObj(server)) return [];
  const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
  const subnets = [
    ...list(server.subnet6),
    ...list(server["shared-networks"]).flatMap((n) => list(n.subnet6)),
  ];
  return subnets.flatMap((s) =>
    list(s["pd-pools"])
      .filter((p) => typeof p.prefix === "string" && typeof p["prefix-len"] === "number")
      .map((p) => `${p.prefix}/${p["prefix-len"]}`),
  );
}

/**
 * The client subnets a kea-dhcp4 configuration serves: every subnet4's prefix, in subnets and
 * shared networks. Where a segment's gateway lies in one, the VRF's Kea routes it via the relay.
 */
export function subnets4(file: string, text: string): string[] {
  const server = parseKeaJson(text, file).Dhcp4;
  if (!isObj(server)) return [];
  const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
  return [...list(server.subnet4), ...list(server["shared-networks"]).flatMap((n) => list(n.subnet4))]
    .map((s) => s.subnet)
    .filter((s): s is string => typeof s === "string");
}

/**
 * Whether a kea-dhcp4 configuration loads Kea 3.0's ping_check hook, enabled: the server pings an
 * address (ICMP echo) before it offers it, and offers another where a host answers.
 */
export function pingsBeforeOffer(file: string, text: string): boolean {
  const hook = hookOf(file, text, 4, "libdhcp_ping_check.so");
  return hook !== undefined && hook.parameters["enable-ping-check"] !== false;
}

/** Where a kea-dhcp4/6 configuration loads Kea 3.0's radius hook (its path), or undefined. */
export function usesRadius(file: string, text: string, family: 4 | 6): string | undefined {
  const hook = hookOf(file, text, family, "libdhcp_radius.so");
  return hook && `Dhcp${family}.hooks-libraries[${hook.index}]`;
}

/** Every `next-server` (siaddr) a kea-dhcp4 configuration sets, with its path: Dhcp4.client-classes[2].next-server. */
export function nextServers(file: string, text: string): { path: string; address: string }[] {
  const found: { path: string; address: string }[] = [];
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    } else if (isObj(v))
      for (const [k, x] of Object.entries(v)) {
        if (k === "next-server" && typeof x === "string") found.push({ path: `${path}.${k}`, address: x });
        else walk(x, `${path}.${k}`);
      }
  };
  walk(parseKeaJson(text, file).Dhcp4, "Dhcp4");
  return found.filter((n) => n.address !== "0.0.0.0" && n.address !== "");
}

/**
 * Where a VRF's Kea hands out a next-server its clients cannot reach: one that is not the VRF's
 * boot server (the relay routes the VRF's clients to that address only), or any without one.
 */
export function nextServerWarnings(topology: Topology, keas: readonly KeaConfig[]): string[] {
  return keas.flatMap((k) => {
    const boot = topology.vrfs.find((v) => v.name === k.vrf)?.bootServer?.address;
    const file = join(k.dir, "kea-dhcp4.conf");
    return k.nextServers
      .filter((n) => n.address !== boot)
      .map((n) =>
        boot
          ? `${file}: ${n.path} is ${n.address}, not VRF ${k.vrf}'s boot server ${boot}: its clients cannot reach it through the relay`
          : `${file}: ${n.path} is ${n.address}, but VRF ${k.vrf} has no bootServer: its clients reach no TFTP server there`,
      );
  });
}

/** kea-dhcp-ddns's configuration in a VRF's Kea folder: DDNS, to the VRF's dnsServer. */
export const DDNS_FILE = "kea-dhcp-ddns.conf";

/** A Kea configuration that Kea itself refused, or that the lab cannot use. */
export class KeaConfigRefused extends Error {}

/** A VRF's Kea configuration for its version: the files, where they came from, where each server takes commands. */
export interface KeaConfig {
  vrf: string;
  version: KeaVersion;
  /** The folder the files came from. */
  dir: string;
  /** File name -> bytes, for /etc/kea. */
  files: Record<string, Buffer>;
  control: Partial<Record<"dhcp4" | "dhcp6", KeaEndpoint>>;
  /** Where the relay reads kea-dhcp6's leases from the backend, if it may. */
  backendControl6?: BackendControl;
  /** The prefixes kea-dhcp6 delegates (its pd-pools). */
  delegatedPools: string[];
  /** The subnets kea-dhcp4 serves (each subnet4's prefix). */
  subnets4: string[];
  /** Whether kea-dhcp4 pings an address before offering it (the ping_check hook). */
  pingCheck4: boolean;
  /** Where kea-dhcp4 and kea-dhcp6 take bulk lease queries over TCP (the lease_query hook): their ports. */
  bulkLeasequery4?: number;
  bulkLeasequery6?: number;
  /** Every next-server kea-dhcp4 hands out, with its path in the file. */
  nextServers: { path: string; address: string }[];
}

/**
 * The folder of a VRF's configuration for its version: `<keaConfig>/<version>/` when the folder
 * has version subfolders, else the folder itself.
 */
export async function keaConfigDir(v: VrfSpec, version: KeaVersion): Promise<string> {
  const entries = await readdir(v.keaConfig).catch(() => {
    throw new KeaConfigRefused(`VRF ${v.name}: keaConfig ${v.keaConfig} is not a folder`);
  });
  const versions = KEA_VERSIONS.filter((k) => entries.includes(k));
  if (versions.length === 0) return v.keaConfig;
  if (!versions.includes(version))
    throw new KeaConfigRefused(
      `VRF ${v.name} runs Kea ${version}, but ${v.keaConfig} has configurations for ${versions.join(", ")} only`,
    );
  return join(v.keaConfig, version);
}

/** Reads each VRF's Kea configuration for its version and finds where its servers take commands. */
export async function readKeaConfigs(topology: Topology): Promise<KeaConfig[]> {
  return Promise.all(
    topology.vrfs.map(async (v): Promise<KeaConfig> => {
      const version = keaVersionOf(topology, v);
      const dir = await keaConfigDir(v, version);
      const wanted = [
        ...v.families.map((f) => `kea-dhcp${f}.conf`),
        ...(version === "2.6" ? ["kea-ctrl-agent.conf"] : []),
      ];
      const files: Record<string, Buffer> = {};
      for (const name of wanted) {
        files[name] = await readFile(join(dir, name)).catch(() => {
          throw new KeaConfigRefused(`VRF ${v.name} (Kea ${version}): ${join(dir, name)} is missing`);
        });
      }
      // DDNS: kea-dhcp-ddns runs beside the servers where the folder configures it.
      const ddns = await readFile(join(dir, DDNS_FILE)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === "ENOENT") return undefined;
        throw new KeaConfigRefused(`VRF ${v.name} (Kea ${version}): ${join(dir, DDNS_FILE)}: ${err.message}`);
      });
      if (ddns) files[DDNS_FILE] = ddns;
      if (ddns && !v.dnsServer)
        throw new KeaConfigRefused(
          `VRF ${v.name} (Kea ${version}): ${join(dir, DDNS_FILE)} sends updates, but the VRF has no dnsServer to send them to`,
        );
      const text = (name: string) => ({ file: join(dir, name), text: files[name]?.toString() ?? "" });
      const control: KeaConfig["control"] = {};
      const logs = new Map<string, 4 | 6>();
      const bulk: Partial<Record<4 | 6, number>> = {};
      for (const f of v.families) {
        try {
          const server = text(`kea-dhcp${f}.conf`);
          control[`dhcp${f}`] = controlEndpoint(version, f, {
            server,
            agent: files["kea-ctrl-agent.conf"] ? text("kea-ctrl-agent.conf") : undefined,
          });
          if (v.ha) checkHaServer(server.file, server.text, f, v.ha.mode);
          // Kea's -t passes a legal log path that the server refuses when it starts; both
          // servers of a container writing one base name would write one file.
          const log = legalLogOf(server.file, server.text, f);
          if (log && logs.has(log.baseName))
            throw new KeaConfigError(
              server.file,
              `${log.field}.base-name`,
              `"${log.baseName}" is kea-dhcp${logs.get(log.baseName)}'s legal log too: give each server a base name of its own`,
            );
          if (log) logs.set(log.baseName, f);
          const lq = leaseQueryOf(server.file, server.text, f);
          if (lq?.bulkPort) bulk[f] = lq.bulkPort;
          const radius = usesRadius(server.file, server.text, f);
          if (radius && !v.radiusServer)
            throw new KeaConfigError(
              server.file,
              radius,
              "the radius hook asks a RADIUS server, but the VRF has no radiusServer to ask",
            );
        } catch (err) {
          throw new KeaConfigRefused(`VRF ${v.name} (Kea ${version}): ${(err as Error).message}`);
        }
      }
      const dhcp4 = v.families.includes(4) ? text("kea-dhcp4.conf") : undefined;
      const servers = dhcp4 ? nextServers(dhcp4.file, dhcp4.text) : [];
      let backend: BackendControl | undefined;
      let pools: string[] = [];
      if (v.families.includes(6)) {
        const server = text("kea-dhcp6.conf");
        const agent = files["kea-ctrl-agent.conf"] ? text("kea-ctrl-agent.conf") : undefined;
        backend = backendControl6(version, { server, agent });
        pools = delegatedPools(server.file, server.text);
      }
      return {
        vrf: v.name,
        version,
        dir,
        files,
        control,
        ...(backend ? { backendControl6: backend } : {}),
        delegatedPools: pools,
        subnets4: dhcp4 ? subnets4(dhcp4.file, dhcp4.text) : [],
        pingCheck4: dhcp4 ? pingsBeforeOffer(dhcp4.file, dhcp4.text) : false,
        ...(bulk[4] ? { bulkLeasequery4: bulk[4] } : {}),
        ...(bulk[6] ? { bulkLeasequery6: bulk[6] } : {}),
        nextServers: servers,
      };
    }),
  );
}
