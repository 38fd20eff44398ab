import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { macToBytes } from "../codec/address.ts";
import { text } from "../codec/bytes.ts";
import { ConfigError } from "../config/yaml-config.ts";
import { DEFAULT_POLICY } from "./default-policy.ts";
import { type ClientFacts, type Decision, parsePolicy } from "./policy.ts";

type FactsInput = Omit<Partial<ClientFacts>, "mac"> & { mac?: string };

const facts = (f: FactsInput): ClientFacts => ({
  family: 4,
  vendorClasses: [],
  userClasses: [],
  ...f,
  mac: f.mac === undefined ? undefined : macToBytes(f.mac),
});

const relayTo = (d: Decision) => (d.action === "relay" ? `${d.vrf}/${d.rule}` : `drop/${d.reason}`);

/** A policy of one rule, t, that sends every client to RED with these fields (YAML lines). */
function everyClientTo(...fields: string[]) {
  const rule = ["  - name: t", '    match: { mac: "*" }', "    vrf: RED", ...fields.map((f) => `    ${f}`)];
  return parsePolicy(["version: 1", "rules:", ...rule, ""].join("\n"), "p.yaml");
}

function refusal(yaml: string, vrfs?: string[]): ConfigError {
  try {
    parsePolicy(yaml, "policy.yaml", vrfs);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("the policy was accepted");
}

describe("the embedded default policy (the classic RED/BLUE scenario)", () => {
  const policy = parsePolicy(DEFAULT_POLICY, "default", ["RED", "BLUE"]);

  it("sends 00:aa:01:* to RED with Circuit-ID VIDEO_CIRCUIT and Interface-ID V6_VIDEO_LINK", () => {
    const d = policy.decide(facts({ mac: "00:aa:01:00:00:05" }));
    expect(relayTo(d)).toBe("RED/red-video");
    if (d.action !== "relay") throw new Error("expected relay");
    expect(text(d.option82.circuitId ?? new Uint8Array())).toBe("VIDEO_CIRCUIT");
    expect(text(d.option82.remoteId ?? new Uint8Array())).toBe("00:aa:01:00:00:05");
    // Only the client's family's options are rendered.
    expect(d.dhcp6).toEqual({ clientLinkLayerAddress: false });
    const d6 = policy.decide(facts({ family: 6, mac: "00:aa:01:00:00:05" }));
    expect(relayTo(d6)).toBe("RED/red-video");
    if (d6.action !== "relay") throw new Error("expected relay");
    expect(text(d6.dhcp6.interfaceId ?? new Uint8Array())).toBe("V6_VIDEO_LINK");
    expect(d6.dhcp6.remoteId?.enterprise).toBe(2393);
    expect(d6.option82).toEqual({});
  });

  it("sends 00:aa:02:* to RED DATA, 00:bb:* to BLUE, and drops the rest", () => {
    expect(relayTo(policy.decide(facts({ mac: "00:aa:02:00:00:01" })))).toBe("RED/red-data");
    expect(relayTo(policy.decide(facts({ mac: "00:bb:01:00:00:01" })))).toBe("BLUE/blue");
    expect(relayTo(policy.decide(facts({ mac: "00:cc:01:00:00:01" })))).toBe("drop/unmatched");
    expect(relayTo(policy.decide(facts({})))).toBe("drop/unmatched");
  });

  it("treats DHCPv6 DUID-LL clients of RED as DATA", () => {
    const d = policy.decide(facts({ family: 6, mac: "00:aa:01:00:00:07", duidType: 3 }));
    expect(relayTo(d)).toBe("RED/red-duid-ll");
    if (d.action === "relay") expect(text(d.dhcp6.interfaceId ?? new Uint8Array())).toBe("V6_DATA_LINK");
    expect(relayTo(policy.decide(facts({ family: 6, mac: "00:aa:01:00:00:07", duidType: 1 })))).toBe(
      "RED/red-video",
    );
  });

  it("takes over packets from trusted downstream relays, discards clients' own Option 82, and keeps RFC 1542's hop default", () => {
    expect(policy.settings).toMatchObject({
      relayedClients: "takeover",
      trustedRelays: [],
      existingOption82: "discard",
      maxHops: 4,
      maxHopCount6: 8,
    });
  });
});

describe("matchers", () => {
  const policy = parsePolicy(
    `version: 1
unmatched: { vrf: BLUE }
rules:
  - { name: exact, match: { mac: "00:aa:01:00:00:01" }, vrf: A }
  - { name: masked, match: { mac: "00:10:00:00:00:00/ff:f0:00:00:00:00" }, vrf: A }
  - { name: en, match: { duidType: EN, enterprise: 2393 }, vrf: A }
  - { name: vendor, match: { vendorClass: "MSFT*" }, vrf: A }
  - { name: user, match: { userClass: "iptv-?" }, vrf: A }
  - { name: host, match: { hostname: "cam-*.lab" }, vrf: A }
  - { name: circuit, match: { circuitId: "ge-0/0/*" }, vrf: A }
  - { name: remote, match: { remoteId: "olt1*" }, vrf: A }
  - { name: port, match: { segment: "port-*", vlan: 105 }, vrf: A }
  - { name: tower, match: { giaddr: 100.64.0.0/16 }, vrf: A }
  - { name: tower-c, match: { giaddr: 100.65.0.1 }, vrf: A }
  - { name: v6only, match: { family: 6, mac: "00:dd:*" }, drop: true }
`,
    "policy.yaml",
  );
  const rule = (f: FactsInput) => {
    const d = policy.decide(facts(f));
    return d.action === "relay" ? d.rule : `drop:${d.reason}`;
  };

  it("matches a MAC exactly, by value/mask, and by prefix", () => {
    expect(rule({ mac: "00:aa:01:00:00:01" })).toBe("exact");
    expect(rule({ mac: "00:aa:01:00:00:02" })).toBe("(unmatched)");
    expect(rule({ mac: "00:1f:99:00:00:02" })).toBe("masked");
    expect(rule({ mac: "00:20:99:00:00:02" })).toBe("(unmatched)");
  });

  it("matches DUID type and enterprise number", () => {
    expect(rule({ duidType: 2, enterprise: 2393 })).toBe("en");
    expect(rule({ duidType: 2, enterprise: 9 })).toBe("(unmatched)");
  });

  it("matches vendor class, user class and hostname globs (hostname ignoring case)", () => {
    expect(rule({ vendorClasses: ["MSFT 5.0"] })).toBe("vendor");
    expect(rule({ userClasses: ["x", "iptv-1"] })).toBe("user");
    expect(rule({ hostname: "CAM-7.LAB" })).toBe("host");
    expect(rule({ hostname: "cam-7.labs" })).toBe("(unmatched)");
  });

  it("matches the Circuit-ID and Remote-ID a downstream relay inserted", () => {
    expect(rule({ circuitId: "ge-0/0/7" })).toBe("circuit");
    expect(rule({ remoteId: "olt1-port4" })).toBe("remote");
  });

  it("matches the access segment and its VLAN, and a downstream relay's giaddr by address or prefix", () => {
    expect(rule({ segment: "port-5", vlan: 105 })).toBe("port");
    expect(rule({ segment: "port-5", vlan: 106 })).toBe("(unmatched)");
    expect(rule({ segment: "uplink", vlan: 105 })).toBe("(unmatched)");
    expect(rule({ giaddr: "100.64.7.1" })).toBe("tower");
    expect(rule({ giaddr: "100.65.0.1" })).toBe("tower-c");
    expect(rule({ giaddr: "100.65.0.2" })).toBe("(unmatched)");
  });

  it("drops by rule, per family, and sends unmatched clients to the default VRF", () => {
    expect(rule({ family: 6, mac: "00:dd:00:00:00:01" })).toBe("drop:policy-drop");
    expect(rule({ family: 4, mac: "00:dd:00:00:00:01" })).toBe("(unmatched)");
    expect(relayTo(policy.decide(facts({})))).toBe("BLUE/(unmatched)");
  });

  it("renders templates with the client's values", () => {
    const p = everyClientTo('option82: { circuitId: "{vrf}-{rule}-{mac}", subscriberId: "sub-{hostname}" }');
    const d = p.decide(facts({ mac: "00:aa:01:00:00:01", hostname: "h1" }));
    if (d.action !== "relay") throw new Error("expected relay");
    expect(text(d.option82.circuitId ?? new Uint8Array())).toBe("RED-t-00:aa:01:00:00:01");
    expect(d.option82.subscriberId).toBe("sub-h1");
  });

  it("makes a family's decision once when its templates name nothing of the client, and per client when they do", () => {
    const p = everyClientTo('option82: { circuitId: "{vrf}-{rule}" }', 'dhcp6: { interfaceId: "{mac}" }');
    const a4 = p.decide(facts({ mac: "00:aa:01:00:00:01" }));
    const b4 = p.decide(facts({ mac: "00:aa:01:00:00:02" }));
    expect(b4).toBe(a4);
    expect(Object.isFrozen(a4)).toBe(true);
    if (a4.action !== "relay") throw new Error("expected relay");
    expect(Object.isFrozen(a4.option82)).toBe(true);
    expect(text(a4.option82.circuitId ?? new Uint8Array())).toBe("RED-t");
    const a6 = p.decide(facts({ family: 6, mac: "00:aa:01:00:00:01" }));
    const b6 = p.decide(facts({ family: 6, mac: "00:aa:01:00:00:02" }));
    expect(b6).not.toBe(a6);
    if (a6.action !== "relay" || b6.action !== "relay") throw new Error("expected relay");
    expect(text(a6.dhcp6.interfaceId ?? new Uint8Array())).toBe("00:aa:01:00:00:01");
    expect(text(b6.dhcp6.interfaceId ?? new Uint8Array())).toBe("00:aa:01:00:00:02");
    // A VSS name with a client placeholder makes every family's decision per client.
    const vss = everyClientTo('vss: "tenant-{mac}"');
    const c4 = vss.decide(facts({ mac: "00:aa:01:00:00:01" }));
    const d4 = vss.decide(facts({ mac: "00:aa:01:00:00:02" }));
    expect(d4).not.toBe(c4);
    if (c4.action !== "relay" || d4.action !== "relay") throw new Error("expected relay");
    expect(text((c4.vss ?? new Uint8Array()).subarray(1))).toBe("tenant-00:aa:01:00:00:01");
    expect(text((d4.vss ?? new Uint8Array()).subarray(1))).toBe("tenant-00:aa:01:00:00:02");
  });
});

describe("a bad policy is refused with the file, the line, the field and the reason", () => {
  it("names a bad MAC pattern at its line", () => {
    const err = refusal("version: 1\nrules:\n  - name: a\n    match: { mac: 00:zz }\n    vrf: RED\n");
    expect(err.issues[0]).toMatchObject({ line: 4, field: "rules[0].match.mac" });
    expect(err.message).toMatch(/^policy\.yaml:4: rules\[0\]\.match\.mac: not a MAC pattern/);
  });

  it("names an unknown enum value with the value", () => {
    const err = refusal("version: 1\nrelayedClients: takeoff\n");
    expect(err.message).toContain(
      'policy.yaml:2: relayedClients: relayedClients "takeoff" is not one of forward, takeover',
    );
  });

  it("refuses unknown fields, placeholders, VRFs, and rules with neither vrf nor drop", () => {
    expect(refusal("version: 1\nrules:\n  - { name: a, vrf: RED, colour: red }\n").message).toMatch(
      /policy\.yaml:3: rules\[0\]: .*colour/,
    );
    expect(
      refusal('version: 1\nrules:\n  - { name: a, vrf: RED, option82: { circuitId: "{nope}" } }\n').message,
    ).toMatch(/rules\[0\]\.option82\.circuitId: unknown placeholder/);
    expect(refusal("version: 1\nrules:\n  - { name: a, vrf: GREEN }\n", ["RED", "BLUE"]).message).toMatch(
      /policy\.yaml:3: rules\[0\]\.vrf: unknown VRF GREEN: the lab has RED, BLUE/,
    );
    expect(refusal("version: 1\nrules:\n  - { name: a }\n").message).toMatch(/either vrf or drop/);
  });

  it("refuses a giaddr that is no address or prefix, and a VLAN outside 1-4094", () => {
    expect(
      refusal("version: 1\nrules:\n  - { name: a, vrf: RED, match: { giaddr: 100.64/16 } }\n").message,
    ).toMatch(/policy\.yaml:3: rules\[0\]\.match\.giaddr: not an IPv4 address or prefix/);
    expect(refusal("version: 1\nrules:\n  - { name: a, vrf: RED, match: { vlan: 4095 } }\n").message).toMatch(
      /rules\[0\]\.match\.vlan/,
    );
  });

  it("refuses a hop limit over RFC 1542's 16 and a trusted relay that is no prefix", () => {
    expect(refusal("version: 1\nmaxHops: 17\n").message).toBe(
      "policy.yaml:2: maxHops: maxHops is at most 16 (RFC 1542 §4.1.1)",
    );
    expect(refusal("version: 1\ntrustedRelays: [10.0.0.1]\n").message).toMatch(
      /^policy\.yaml:2: trustedRelays\[0\]: not an IPv4 prefix such as 10\.0\.0\.0\/8/,
    );
  });

  it("refuses YAML syntax errors and duplicate keys at their line", () => {
    expect(refusal("version: 1\nrules: [\n").issues[0]?.field).toBe("(syntax)");
    expect(refusal("version: 1\nversion: 1\n").issues[0]).toMatchObject({ line: 2, field: "(syntax)" });
  });

  it("refuses a hop limit over RFC 8415's 32", () => {
    expect(refusal("version: 1\nmaxHopCount6: 33\n").message).toMatch(/policy\.yaml:2: maxHopCount6/);
  });
});

describe("docs/policy.md", () => {
  it("shows the embedded default policy as it is", async () => {
    const section = await readFile(join(import.meta.dirname, "..", "..", "docs", "policy.md"), "utf8");
    const block = /```yaml\n([\s\S]*?)```\n/.exec(section)?.[1];
    expect(block).toBe(DEFAULT_POLICY);
  });
});
