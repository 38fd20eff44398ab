import { readFile } from "node:fs/promises";
import { macToBytes, macToString } from "../codec/address.ts";
import { fromHex, hex, utf8 } from "../codec/bytes.ts";
import { inPrefix } from "../codec/prefix.ts";
import { parseYamlConfig } from "../config/yaml-config.ts";
import { duidTypeNumber, type PolicyDocument, policySchema, type RuleDocument } from "./schema.ts";

/** What the relay knows of a client message, for matching. Either family; absent facts match nothing. */
export interface ClientFacts {
  family: 4 | 6;
  /** From chaddr (v4); from the DUID, Client Link-Layer Address or EUI-64 link-local source (v6). */
  mac?: Uint8Array;
  duid?: Uint8Array;
  duidType?: number;
  /** Of a DUID-EN, or of the vendor class. */
  enterprise?: number;
  vendorClasses: string[];
  userClasses: string[];
  hostname?: string;
  /** What a downstream relay already inserted: v4 Option 82 sub-options 1 and 2, v6 Interface-ID and Remote-ID. */
  circuitId?: string;
  remoteId?: string;
  /** The access segment the message came in on, and its VLAN-style number. */
  segment?: string;
  vlan?: number;
  /** The relay's own hostname (for templates). */
  relay?: string;
  /** DHCPv4: the giaddr of the downstream relay that forwarded the message. */
  giaddr?: string;
}

/** The options the relay adds, rendered for one client: its own family's (the other's are empty). */
export interface AddedOptions {
  /** RFC 6607 VSS, both families: its type byte, then the VPN's name or VPN-ID. */
  vss?: Uint8Array;
  option82: { circuitId?: Uint8Array; remoteId?: Uint8Array; subscriberId?: string };
  dhcp6: {
    interfaceId?: Uint8Array;
    remoteId?: { enterprise: number; id: Uint8Array };
    subscriberId?: Uint8Array;
    clientLinkLayerAddress: boolean;
  };
}

/** What the policy decided for one client message. */
export type Decision =
  | ({ action: "relay"; rule: string; vrf: string } & AddedOptions)
  | { action: "drop"; rule?: string; reason: "policy-drop" | "unmatched" };

/** A compiled policy: its settings and the ordered, pure steps that decide. */
export interface Policy {
  readonly file: string;
  readonly settings: Omit<PolicyDocument, "rules">;
  readonly ruleNames: readonly string[];
  decide(facts: ClientFacts): Decision;
}

type Test = (f: ClientFacts) => boolean;

/** `*` any run, `?` one character; everything else literal. */
function glob(pattern: string, flags = ""): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, flags);
}

/** A MAC pattern as value and mask over the address bytes. */
function macTest(pattern: string): Test {
  if (pattern === "*") return (f) => f.mac !== undefined;
  let value: Uint8Array;
  let mask: Uint8Array;
  let exactLength = true;
  if (pattern.includes("/")) {
    const [v, m] = pattern.split("/");
    value = macToBytes(v as string);
    mask = macToBytes(m as string);
  } else if (pattern.endsWith(":*")) {
    value = macToBytes(pattern.slice(0, -2));
    mask = new Uint8Array(value.length).fill(0xff);
    exactLength = false;
  } else {
    value = macToBytes(pattern);
    mask = new Uint8Array(value.length).fill(0xff);
  }
  return (f) => {
    const mac = f.mac;
    if (!mac || mac.length < value.length || (exactLength && mac.length !== value.length)) return false;
    for (let i = 0; i < value.length; i++) {
      if ((((mac[i] as number) ^ (value[i] as number)) & (mask[i] as number)) !== 0) return false;
    }
    return true;
  };
}

function compileMatch(m: RuleDocument["match"]): Test {
  const tests: Test[] = [];
  if (m.family !== undefined) tests.push((f) => f.family === m.family);
  if (m.mac !== undefined) tests.push(macTest(m.mac));
  if (m.duidType !== undefined) {
    const t = duidTypeNumber(m.duidType);
    tests.push((f) => f.duidType === t);
  }
  if (m.enterprise !== undefined) tests.push((f) => f.enterprise === m.enterprise);
  const textTest = (pattern: string | undefined, get: (f: ClientFacts) => string | undefined, flags = "") => {
    if (pattern === undefined) return;
    const re = glob(pattern, flags);
    tests.push((f) => {
      const v = get(f);
      return v !== undefined && re.test(v);
    });
  };
  const listTest = (pattern: string | undefined, get: (f: ClientFacts) => string[]) => {
    if (pattern === undefined) return;
    const re = glob(pattern);
    tests.push((f) => get(f).some((v) => re.test(v)));
  };
  listTest(m.vendorClass, (f) => f.vendorClasses);
  listTest(m.userClass, (f) => f.userClasses);
  textTest(m.hostname, (f) => f.hostname, "i");
  textTest(m.circuitId, (f) => f.circuitId);
  textTest(m.remoteId, (f) => f.remoteId);
  textTest(m.segment, (f) => f.segment);
  if (m.vlan !== undefined) tests.push((f) => f.vlan === m.vlan);
  if (m.giaddr !== undefined) {
    const within = m.giaddr.includes("/") ? m.giaddr : `${m.giaddr}/32`;
    tests.push((f) => f.giaddr !== undefined && inPrefix(f.giaddr, within));
  }
  return (f) => tests.every((t) => t(f));
}

/** A value the policy adds, compiled: placeholders resolved per client, constants once. */
type Rendered<T> = ((f: ClientFacts) => T) | undefined;

/** The placeholders' values for one client (see TEMPLATE_FIELDS). */
const FIELDS: Record<string, (f: ClientFacts, fixed: { vrf: string; rule: string }) => string> = {
  vrf: (_, x) => x.vrf,
  rule: (_, x) => x.rule,
  mac: (f) => (f.mac ? macToString(f.mac) : ""),
  duid: (f) => (f.duid ? hex(f.duid, ":") : ""),
  hostname: (f) => f.hostname ?? "",
  segment: (f) => f.segment ?? "",
  vlan: (f) => (f.vlan === undefined ? "" : String(f.vlan)),
  relay: (f) => f.relay ?? "",
};

/** Placeholders whose value depends on the message (the others are fixed per rule). */
const PER_CLIENT = /\{(mac|duid|hostname|segment|vlan|relay)\}/;

/** Compiles a template into text per client; one without client placeholders is computed once. */
function compileText(template: string | undefined, fixed: { vrf: string; rule: string }): Rendered<string> {
  if (template === undefined) return undefined;
  const pieces = template
    .split(/(\{[a-z]+\})/)
    .filter((p) => p !== "")
    .map((p) => {
      const get = FIELDS[/^\{([a-z]+)\}$/.exec(p)?.[1] ?? ""];
      return get ? (f: ClientFacts) => get(f, fixed) : () => p;
    });
  const render = (f: ClientFacts) => {
    let out = "";
    for (const piece of pieces) out += piece(f);
    return out;
  };
  if (PER_CLIENT.test(template)) return render;
  const constant = render({ family: 4, vendorClasses: [], userClasses: [] });
  return () => constant;
}

/** Compiles a template into UTF-8 bytes per client; constant bytes are encoded once and shared. */
function compileBytes(
  template: string | undefined,
  fixed: { vrf: string; rule: string },
): Rendered<Uint8Array> {
  const text = compileText(template, fixed);
  if (template === undefined || !text) return undefined;
  if (PER_CLIENT.test(template)) return (f) => utf8(text(f));
  const constant = utf8(text({ family: 4, vendorClasses: [], userClasses: [] }));
  return () => constant;
}

function compileRule(r: RuleDocument): (f: ClientFacts) => Decision | undefined {
  const matches = compileMatch(r.match);
  if (r.drop)
    return (f) => (matches(f) ? { action: "drop", rule: r.name, reason: "policy-drop" } : undefined);
  const vrf = r.vrf as string;
  const fixed = { vrf, rule: r.name };
  const o82 = r.option82 ?? {};
  const o6 = r.dhcp6 ?? {};
  const circuitId = compileBytes(o82.circuitId, fixed);
  const remoteId = compileBytes(o82.remoteId, fixed);
  const subscriberId = compileText(o82.subscriberId, fixed);
  const interfaceId = compileBytes(o6.interfaceId, fixed);
  const remoteId6 = compileBytes(o6.remoteId?.id, fixed);
  const subscriberId6 = compileBytes(o6.subscriberId, fixed);
  const enterprise = o6.remoteId?.enterprise ?? 0;
  const clientLinkLayerAddress = o6.clientLinkLayerAddress === true;
  const vss = compileVss(r.vss, fixed);
  // Only the client's family's options are rendered: a DHCPv4 client's decision has no use for
  // the rule's DHCPv6 templates, and rendering them cost as much as the rest of the decision.
  const none = {};
  const noDhcp6 = { clientLinkLayerAddress };
  const decision = (f: ClientFacts): Decision => {
    return {
      action: "relay",
      rule: r.name,
      vrf,
      ...(vss ? { vss: vss(f) } : {}),
      option82:
        f.family === 4
          ? { circuitId: circuitId?.(f), remoteId: remoteId?.(f), subscriberId: subscriberId?.(f) }
          : none,
      dhcp6:
        f.family === 6
          ? {
              interfaceId: interfaceId?.(f),
              remoteId: remoteId6 ? { enterprise, id: remoteId6(f) } : undefined,
              subscriberId: subscriberId6?.(f),
              clientLinkLayerAddress,
            }
          : noDhcp6,
    };
  };
  // A rule whose family's templates name nothing of the client decides the same for every client
  // of that family: that decision is made once, not an object per message.
  const perClient = (...templates: (string | undefined)[]) =>
    templates.some((t) => t !== undefined && PER_CLIENT.test(t)) ||
    (typeof r.vss === "string" && PER_CLIENT.test(r.vss));
  const constant4 = perClient(o82.circuitId, o82.remoteId, o82.subscriberId)
    ? undefined
    : frozen(decision(NO_CLIENT[4]));
  const constant6 = perClient(o6.interfaceId, o6.remoteId?.id, o6.subscriberId)
    ? undefined
    : frozen(decision(NO_CLIENT[6]));
  return (f) => {
    if (!matches(f)) return undefined;
    return (f.family === 4 ? constant4 : constant6) ?? decision(f);
  };
}

/** Facts of no client in particular, for rendering what does not depend on one. */
const NO_CLIENT: Record<4 | 6, ClientFacts> = {
  4: { family: 4, vendorClasses: [], userClasses: [] },
  6: { family: 6, vendorClasses: [], userClasses: [] },
};

/** `d` and every object in it, frozen: a decision shared by every client must not be changed by one. */
function frozen(d: Decision): Decision {
  const freeze = (o: object) => {
    for (const v of Object.values(o)) if (v && typeof v === "object" && !ArrayBuffer.isView(v)) freeze(v);
    Object.freeze(o);
  };
  freeze(d);
  return d;
}

/** RFC 6607's VSS types the policy writes: a VPN name (NVT ASCII) and an RFC 2685 VPN-ID. */
const VSS_NAME = 0;
const VSS_VPN_ID = 1;

/** Compiles a rule's VSS into its option value: the type byte, then the name or the VPN-ID's 7 bytes. */
function compileVss(v: RuleDocument["vss"], fixed: { vrf: string; rule: string }): Rendered<Uint8Array> {
  if (v === undefined) return undefined;
  if (typeof v !== "string") {
    const constant = Uint8Array.of(VSS_VPN_ID, ...fromHex(v.vpnId.replace(":", "")));
    return () => constant;
  }
  const name = compileBytes(v, fixed);
  return name && ((f) => Uint8Array.of(VSS_NAME, ...name(f)));
}

/** Compiles a validated policy document into ordered steps: the first rule that matches decides. */
export function compilePolicy(doc: PolicyDocument, file: string): Policy {
  const steps = doc.rules.map(compileRule);
  const { rules, ...settings } = doc;
  const unmatched = doc.unmatched;
  return {
    file,
    settings,
    ruleNames: rules.map((r) => r.name),
    decide(facts: ClientFacts): Decision {
      for (const step of steps) {
        const d = step(facts);
        if (d) return d;
      }
      if (unmatched === "drop") return { action: "drop", reason: "unmatched" };
      return {
        action: "relay",
        rule: "(unmatched)",
        vrf: unmatched.vrf,
        option82: {},
        dhcp6: { clientLinkLayerAddress: false },
      };
    },
  };
}

/** Parses, validates and compiles policy text; throws ConfigError naming file, line, field and reason. */
export function parsePolicy(text: string, file: string, knownVrfs?: readonly string[]): Policy {
  return compilePolicy(parseYamlConfig(text, file, policySchema(knownVrfs)), file);
}

/** Reads, validates and compiles a policy file. */
export async function loadPolicy(file: string, knownVrfs?: readonly string[]): Promise<Policy> {
  return parsePolicy(await readFile(file, "utf8"), file, knownVrfs);
}
