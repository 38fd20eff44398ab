import { basename } from "node:path";
import type { KeaConfig } from "./kea-config.ts";
import { KeaConfigError, parseKeaJson } from "./kea-json.ts";
import { withRequester } from "./kea-lease-query.ts";
import type { VrfPlan } from "./plan.ts";
import type { HaMode, VrfSpec } from "./topology.ts";

// A VRF with `ha` is a Kea HA pair (Kea ARM, "High Availability"). The user's configuration
// loads the hooks (lease_cmds and ha); the lab writes the ha hook's parameters from the topology:
// this server's name, the mode, the peers with their URLs and roles, the timers, and how the
// peers reach each other (a dedicated HTTP listener on the server's backend address, which works
// the same on Kea 2.6 and 3.0, where the control agent is gone and restrict-commands defaults to
// true on that listener).

/** The hook libraries an HA peer loads, by file name. */
export const HA_HOOKS = { ha: "libdhcp_ha.so", leaseCmds: "libdhcp_lease_cmds.so" } as const;

/** Each family's HA listener port on the server's backend address (647: the failover port of old). */
export const HA_PORT = { 4: 8647, 6: 8648 } as const;

/** The HA parameters the lab writes; a configuration that sets one of them is refused. */
const OWNED = [
  "this-server-name",
  "mode",
  "peers",
  "heartbeat-delay",
  "max-response-delay",
  "max-ack-delay",
  "max-unacked-clients",
  "multi-threading",
] as const;

/** A peer of an HA pair as Kea's configuration names it. */
export interface HaPeer {
  /** The server's service name (`kea-red-1`): load-balancing scopes are Kea's classes HA_<name>. */
  name: string;
  url: string;
  role: "primary" | "standby" | "secondary";
}

/** The peers of a VRF's HA pair for one family: server 1 is the primary. */
export function haPeers(v: VrfPlan, family: 4 | 6): HaPeer[] {
  const mode = v.spec.ha?.mode;
  if (!mode) throw new Error(`VRF ${v.spec.name} is not an HA pair`);
  return v.keas.map((k, i) => ({
    name: k.service,
    url: `http://${k.ipv4}:${HA_PORT[family]}/`,
    role: i === 0 ? "primary" : mode === "hot-standby" ? "standby" : "secondary",
  }));
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The server configuration's root (`Dhcp4`, `Dhcp6`) and its hooks-libraries entries. */
function hooksOf(file: string, text: string, family: 4 | 6): { config: Obj; root: string; hooks: Obj[] } {
  const config = parseKeaJson(text, file);
  const root = `Dhcp${family}`;
  const server = config[root];
  if (!isObj(server)) throw new KeaConfigError(file, root, "missing");
  const hooks = server["hooks-libraries"] ?? [];
  if (!Array.isArray(hooks) || !hooks.every(isObj))
    throw new KeaConfigError(file, `${root}.hooks-libraries`, "a list of { library, parameters }");
  return { config, root, hooks };
}

const libraryIs = (name: string) => (h: Obj) => typeof h.library === "string" && basename(h.library) === name;

/**
 * Checks that one family's server configuration can be an HA peer: it loads the ha and lease_cmds
 * hooks, and leaves to the lab what the lab writes. Throws KeaConfigError (file, field, reason).
 */
export function checkHaServer(file: string, text: string, family: 4 | 6, mode: HaMode): void {
  const { root, hooks } = hooksOf(file, text, family);
  const field = `${root}.hooks-libraries`;
  const missing = Object.values(HA_HOOKS).filter((lib) => !hooks.some(libraryIs(lib)));
  if (missing.length > 0)
    throw new KeaConfigError(
      file,
      field,
      `ha: ${mode} needs the ${missing.join(" and ")} hook${missing.length > 1 ? "s" : ""}: add { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/${missing[0]}" } (the lab writes the ha hook's parameters from the topology)`,
    );
  const params = hooks.find(libraryIs(HA_HOOKS.ha))?.parameters;
  const relationships = isObj(params) ? params["high-availability"] : undefined;
  if (relationships === undefined) return;
  if (!Array.isArray(relationships) || relationships.length !== 1 || !isObj(relationships[0]))
    throw new KeaConfigError(
      file,
      `${field}[ha].parameters.high-availability`,
      "one relationship, a list of one object: the lab builds one HA pair per VRF",
    );
  const owned = OWNED.filter((k) => k in (relationships[0] as Obj));
  if (owned.length > 0)
    throw new KeaConfigError(
      file,
      `${field}[ha].parameters.high-availability[0].${owned[0]}`,
      `set by the lab from the topology's ha (${OWNED.join(", ")}); give the timers in the topology`,
    );
}

/**
 * The configuration of HA peer `index` of VRF `v` for one family: the user's, with the ha hook's
 * relationship written from the topology. Comments are not kept; the file says where it came from.
 */
export function renderHaServer(file: string, text: string, family: 4 | 6, v: VrfPlan, index: number): string {
  const ha = v.spec.ha;
  const me = v.keas[index];
  if (!ha || !me) throw new Error(`VRF ${v.spec.name} has no HA peer ${index + 1}`);
  checkHaServer(file, text, family, ha.mode);
  const { config, hooks } = hooksOf(file, text, family);
  const hook = hooks.find(libraryIs(HA_HOOKS.ha)) as Obj;
  const params = isObj(hook.parameters) ? hook.parameters : {};
  const given = (params["high-availability"] as Obj[] | undefined)?.[0] ?? {};
  hook.parameters = {
    ...params,
    "high-availability": [
      {
        ...given,
        "this-server-name": me.service,
        mode: ha.mode,
        ...timers(ha),
        // The peers talk over a listener of their own on the backend address: Kea 2.6 would
        // otherwise go through its control agent, and Kea 3.0 has none.
        "multi-threading": {
          "enable-multi-threading": true,
          "http-dedicated-listener": true,
          "http-listener-threads": 2,
          "http-client-threads": 2,
        },
        peers: haPeers(v, family).map((p) => ({ ...p, "auto-failover": true })),
      },
    ],
  };
  return `// Written by dhcplab for ${me.service} (HA ${ha.mode}) from VRF ${v.spec.name}'s ${basename(file)}: edit that, not this.\n${JSON.stringify(config, null, 2)}\n`;
}

/** The topology's HA timers under Kea's names; Kea's defaults for those it leaves out. */
function timers(ha: NonNullable<VrfSpec["ha"]>): Obj {
  const out: Obj = {};
  if (ha.heartbeat !== undefined) out["heartbeat-delay"] = ha.heartbeat;
  for (const k of ["max-response-delay", "max-ack-delay", "max-unacked-clients"] as const)
    if (ha[k] !== undefined) out[k] = ha[k];
  return out;
}

/**
 * The files of Kea server `index` of VRF `v`: the VRF's, with an HA pair's relationship written, and
 * the relay among the lease_query hook's requesters.
 */
export function serverFiles(k: KeaConfig, v: VrfPlan, index: number): Record<string, Buffer> {
  const files = { ...k.files };
  for (const family of v.spec.families) {
    const name = `kea-dhcp${family}.conf`;
    const text = files[name]?.toString();
    if (text === undefined) continue;
    const file = `${k.dir}/${name}`;
    const ha = v.spec.ha ? renderHaServer(file, text, family, v, index) : text;
    // The relay asks lease queries from its address on the backend (kea-lease-query.ts).
    const requester = family === 4 ? v.relay.ipv4 : v.relay.ipv6;
    const written = withRequester(file, ha, family, requester);
    if (written !== text) files[name] = Buffer.from(written);
  }
  return files;
}
