import { readFile } from "node:fs/promises";
import { macToBytes, macToString } from "../codec/address.ts";
import { hex, utf8 } from "../codec/bytes.ts";
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
}

/** The options the relay adds, rendered for one client. */
export interface AddedOptions {
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
  return (f) => tests.every((t) => t(f));
}

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (_, k: string) => values[k] ?? "");
}

function compileRule(r: RuleDocument): (f: ClientFacts) => Decision | undefined {
  const matches = compileMatch(r.match);
  if (r.drop)
    return (f) => (matches(f) ? { action: "drop", rule: r.name, reason: "policy-drop" } : undefined);
  const vrf = r.vrf as string;
  const o82 = r.option82 ?? {};
  const o6 = r.dhcp6 ?? {};
  return (f) => {
    if (!matches(f)) return undefined;
    const values = {
      vrf,
      rule: r.name,
      mac: f.mac ? macToString(f.mac) : "",
      duid: f.duid ? hex(f.duid, ":") : "",
      hostname: f.hostname ?? "",
    };
    const t = (s: string | undefined) => (s === undefined ? undefined : render(s, values));
    const bytes = (s: string | undefined) => (s === undefined ? undefined : utf8(render(s, values)));
    return {
      action: "relay",
      rule: r.name,
      vrf,
      option82: {
        circuitId: bytes(o82.circuitId),
        remoteId: bytes(o82.remoteId),
        subscriberId: t(o82.subscriberId),
      },
      dhcp6: {
        interfaceId: bytes(o6.interfaceId),
        remoteId: o6.remoteId
          ? { enterprise: o6.remoteId.enterprise, id: utf8(render(o6.remoteId.id, values)) }
          : undefined,
        subscriberId: bytes(o6.subscriberId),
        clientLinkLayerAddress: o6.clientLinkLayerAddress === true,
      },
    };
  };
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
