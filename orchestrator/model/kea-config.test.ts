import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";
import {
  backendControl6,
  controlEndpoint,
  delegatedPools,
  nextServers,
  nextServerWarnings,
  pingsBeforeOffer,
  readKeaConfigs,
  subnets4,
} from "./kea-config.ts";
import { parseKeaJson } from "./kea-json.ts";
import { loadTopology } from "./topology.ts";

const file = (path: string) => readFile(join(ROOT, path), "utf8").then((text) => ({ file: path, text }));

describe("Kea configurations", () => {
  it("parse with comments, and not inside strings", () => {
    expect(parseKeaJson('// a\n{ "a": "x // y # z", /* b\n */ "b": 1 # c\n }', "k.conf")).toEqual({
      a: "x // y # z",
      b: 1,
    });
    expect(() => parseKeaJson("{ nope }", "k.conf")).toThrow(/^k\.conf: \(syntax\): /);
  });

  it("say where each server takes commands: Kea 3.0's own HTTP socket, Kea 2.6's control agent", async () => {
    expect(controlEndpoint("3.0", 4, { server: await file("kea-configs/RED/3.0/kea-dhcp4.conf") })).toEqual({
      url: "http://127.0.0.1:8004/",
    });
    expect(controlEndpoint("3.0", 6, { server: await file("kea-configs/RED/3.0/kea-dhcp6.conf") })).toEqual({
      url: "http://127.0.0.1:8006/",
    });
    expect(
      controlEndpoint("2.6", 6, {
        server: await file("kea-configs/RED/2.6/kea-dhcp6.conf"),
        agent: await file("kea-configs/RED/2.6/kea-ctrl-agent.conf"),
      }),
    ).toEqual({ url: "http://127.0.0.1:8000/", service: "dhcp6" });
  });

  it("say whether kea-dhcp6 takes commands from the backend (the relay reads delegated prefixes there), and what it delegates", async () => {
    const red30 = await file("kea-configs/RED/3.0/kea-dhcp6.conf");
    expect(backendControl6("3.0", { server: red30 })).toEqual({ port: 8006 });
    expect(
      backendControl6("2.6", {
        server: await file("kea-configs/RED/2.6/kea-dhcp6.conf"),
        agent: await file("kea-configs/RED/2.6/kea-ctrl-agent.conf"),
      }),
    ).toEqual({ port: 8000, service: "dhcp6" });
    const loopback = {
      file: "x/kea-dhcp6.conf",
      text: '{ "Dhcp6": { "control-sockets": [ { "socket-type": "http", "socket-address": "127.0.0.1", "socket-port": 8006 } ] } }',
    };
    expect(backendControl6("3.0", { server: loopback })).toBeUndefined();
    expect(delegatedPools(red30.file, red30.text)).toEqual(["fd10:100::/48", "fd11:100::/48"]);
    const blue = await file("kea-configs/BLUE/2.6/kea-dhcp6.conf");
    expect(delegatedPools(blue.file, blue.text)).toEqual(["fd20:100::/48"]);
  });

  it("say which client subnets kea-dhcp4 serves (its routes through the relay) and whether it pings before it offers", async () => {
    const red = await file("kea-configs/RED/3.0/kea-dhcp4.conf");
    expect(subnets4(red.file, red.text)).toEqual(["192.168.10.0/24", "192.168.11.0/24"]);
    expect(pingsBeforeOffer(red.file, red.text)).toBe(false);
    const pinging = {
      file: "x/kea-dhcp4.conf",
      text: '{ "Dhcp4": { "hooks-libraries": [ { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ping_check.so" } ] } }',
    };
    expect(pingsBeforeOffer(pinging.file, pinging.text)).toBe(true);
    const disabled = pinging.text.replace('.so" }', '.so", "parameters": { "enable-ping-check": false } }');
    expect(pingsBeforeOffer(pinging.file, disabled)).toBe(false);
  });

  it("refuse a 3.0 server without an HTTP control socket, naming the file and the field", async () => {
    const unix = {
      file: "x/kea-dhcp4.conf",
      text: '{ "Dhcp4": { "control-socket": { "socket-type": "unix" } } }',
    };
    expect(() => controlEndpoint("3.0", 4, { server: unix })).toThrow(
      /^x\/kea-dhcp4\.conf: Dhcp4\.control-sockets: no HTTP control socket/,
    );
    expect(() => controlEndpoint("2.6", 4, { server: unix })).toThrow(/kea-ctrl-agent\.conf is missing/);
  });

  it("find every next-server kea-dhcp4 hands out, and warn where it is not the VRF's boot server", async () => {
    const red = await file("examples/pxe/kea/RED/kea-dhcp4.conf");
    expect(nextServers(red.file, red.text)).toEqual([
      { path: "Dhcp4.client-classes[2].next-server", address: "10.69.10.2" },
      { path: "Dhcp4.client-classes[3].next-server", address: "10.69.10.2" },
      { path: "Dhcp4.client-classes[4].next-server", address: "10.69.10.2" },
    ]);
    const t = await loadTopology(join(ROOT, "examples/pxe.yaml"));
    const keas = await readKeaConfigs(t);
    expect(nextServerWarnings(t, keas)).toEqual([]);
    // RED's boot server moved, its Kea not told; BLUE's boot server gone.
    const moved = {
      ...t,
      vrfs: t.vrfs.map((v) =>
        v.name === "RED" && v.bootServer
          ? { ...v, bootServer: { ...v.bootServer, address: "10.69.10.9" } }
          : { ...v, bootServer: undefined },
      ),
    };
    const warnings = nextServerWarnings(moved, keas);
    expect(warnings[0]).toMatch(
      /examples\/pxe\/kea\/RED\/kea-dhcp4\.conf: Dhcp4\.client-classes\[2\]\.next-server is 10\.69\.10\.2, not VRF RED's boot server 10\.69\.10\.9/,
    );
    expect(warnings.at(-1)).toMatch(/next-server is 10\.69\.20\.2, but VRF BLUE has no bootServer/);
    expect(warnings).toHaveLength(5);
  });

  it("take kea-dhcp-ddns.conf where the folder has one, and refuse it where the VRF has no dnsServer", async () => {
    const t = await loadTopology(join(ROOT, "examples/ddns/topology.yaml"));
    const [red, blue] = await readKeaConfigs(t);
    expect(Object.keys(red?.files ?? {}).sort()).toEqual([
      "kea-dhcp-ddns.conf",
      "kea-dhcp4.conf",
      "kea-dhcp6.conf",
    ]);
    expect(Object.keys(blue?.files ?? {})).not.toContain("kea-dhcp-ddns.conf");
    const without = { ...t, vrfs: t.vrfs.map((v) => ({ ...v, dnsServer: undefined })) };
    await expect(readKeaConfigs(without)).rejects.toThrow(
      /^VRF RED \(Kea 3\.0\): .*examples\/ddns\/kea\/RED\/kea-dhcp-ddns\.conf sends updates, but the VRF has no dnsServer/,
    );
  });

  it("refuse a radius hook in a VRF without a radiusServer, naming the file and the hook", async () => {
    const t = await loadTopology(join(ROOT, "examples/radius/topology.yaml"));
    await expect(readKeaConfigs(t)).resolves.toHaveLength(2);
    const without = { ...t, vrfs: t.vrfs.map((v) => ({ ...v, radiusServer: undefined })) };
    await expect(readKeaConfigs(without)).rejects.toThrow(
      /^VRF BLUE \(Kea 3\.0\): .*examples\/radius\/kea\/BLUE\/kea-dhcp4\.conf: Dhcp4\.hooks-libraries\[2\]: the radius hook asks a RADIUS server, but the VRF has no radiusServer/,
    );
  });
});
