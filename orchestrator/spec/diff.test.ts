import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { loadTopology, type Topology } from "../model/topology.ts";
import { buildSpec, poolSlots } from "./build.ts";
import { COMPOSE_IMAGES } from "./compose.ts";
import { diffSpecs } from "./diff.ts";
import { type LabInputs, readLabInputs } from "./inputs.ts";

// What apply changes: the diff of the spec a lab runs and the one its files now make.

const spec = (t: Topology, inputs: LabInputs) =>
  buildSpec({ name: "lab", topology: t, inputs, subnets: poolSlots(t, 0) });
const kinds = (changes: ReturnType<typeof diffSpecs>) =>
  Object.fromEntries(changes.map((c) => [c.node.service, c.kind]));

describe("the diff of two lab specs", () => {
  it("the same files make the same spec: nothing changes", async () => {
    const t = await loadTopology();
    const inputs = await readLabInputs(t, COMPOSE_IMAGES);
    expect(new Set(diffSpecs(spec(t, inputs), spec(t, inputs)).map((c) => c.kind))).toEqual(
      new Set(["same"]),
    );
  });

  it("a changed Kea configuration is that Kea's files; a changed policy the relay's", async () => {
    const t = { ...(await loadTopology()), relay: { ...(await loadTopology()).relay, policy: "/p.yaml" } };
    const inputs = await readLabInputs({ ...t, relay: { ...t.relay, policy: undefined } }, COMPOSE_IMAGES);
    const before = spec(t, { ...inputs, policy: DEFAULT_POLICY });
    const red = inputs.keas.map((k) =>
      k.vrf === "RED"
        ? {
            ...k,
            files: { ...k.files, "kea-dhcp4.conf": Buffer.from(`${k.files["kea-dhcp4.conf"]}\n// edited`) },
          }
        : k,
    );
    const after = spec(t, { ...inputs, keas: red, policy: `${DEFAULT_POLICY}\n# edited\n` });
    const changes = diffSpecs(before, after);
    expect(kinds(changes)).toMatchObject({ "kea-red": "files", "kea-blue": "same", relay: "files" });
    expect(changes.find((c) => c.node.service === "kea-red")?.files).toEqual(["/etc/kea/kea-dhcp4.conf"]);
    expect(changes.find((c) => c.node.service === "relay")?.files).toEqual(["/etc/dhcplab/policy.yaml"]);
  });

  it("a VRF added: its Kea is new, the relay is created anew (a network more), the others stay", async () => {
    const t = await loadTopology();
    const inputs = await readLabInputs(t, COMPOSE_IMAGES);
    const blue = t.vrfs[1];
    if (!blue) throw new Error("the default lab has BLUE");
    const more: Topology = {
      ...t,
      vrfs: [
        ...t.vrfs,
        {
          ...blue,
          name: "GREEN",
          link4: "192.168.30.1",
          link6: "fd00:30::1",
          gateways: ["192.168.30.1/24"],
          gateways6: ["fd00:30::1/64"],
        },
      ],
    };
    const keas = [...inputs.keas, { ...(inputs.keas[1] as LabInputs["keas"][number]), vrf: "GREEN" }];
    const changes = diffSpecs(
      spec(t, inputs),
      buildSpec({ name: "lab", topology: more, inputs: { ...inputs, keas }, subnets: poolSlots(more, 0) }),
    );
    const k = kinds(changes);
    expect(k).toMatchObject({
      "kea-green": "added",
      relay: "recreate",
      "kea-red": "same",
      "kea-blue": "same",
    });
    expect(changes.find((c) => c.node.service === "relay")?.detail).toMatch(/endpoints/);
  });

  it("a VRF removed: its Kea is removed", async () => {
    const t = await loadTopology();
    const inputs = await readLabInputs(t, COMPOSE_IMAGES);
    const fewer: Topology = { ...t, vrfs: t.vrfs.slice(0, 1) };
    const changes = diffSpecs(
      spec(t, inputs),
      buildSpec({
        name: "lab",
        topology: fewer,
        inputs: { ...inputs, keas: inputs.keas.slice(0, 1) },
        subnets: poolSlots(t, 0),
      }),
    );
    expect(kinds(changes)).toMatchObject({ "kea-blue": "removed", "kea-red": "same" });
  });
});
