import { execFileSync } from "node:child_process";
import { lookup } from "node:dns/promises";
import { readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { Session } from "node:inspector";
import { pino } from "pino";
import { broadcastOf, loadRelayConfig, type RelayConfig } from "./agent/config.ts";
import { Counters } from "./agent/counters.ts";
import { Relay4 } from "./agent/relay4.ts";
import { Relay6 } from "./agent/relay6.ts";
import { interfaceWith, openDhcp4Socket, openDhcp6Socket, type RelaySocket } from "./agent/sockets.ts";
import { ConfigError } from "./config/yaml-config.ts";
import { DEFAULT_POLICY } from "./policy/default-policy.ts";
import { type Policy, parsePolicy } from "./policy/policy.ts";

// dhcplab's relay agent. Configuration: the file named by DHCPLAB_RELAY_CONFIG (default
// /etc/dhcplab/relay.yaml). SIGHUP reloads the policy; SIGTERM stops within 2 s.

const configFile = process.env.DHCPLAB_RELAY_CONFIG ?? "/etc/dhcplab/relay.yaml";
const log = pino({ level: process.env.DHCPLAB_LOG_LEVEL ?? "info", base: { service: "relay" } });

/** Resolves server names through Docker's DNS, retrying while the servers' containers start. */
async function resolve(name: string, family: 4 | 6): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await lookup(name, { family, verbatim: true })).address;
    } catch (err) {
      if (attempt >= 60) throw new Error(`cannot resolve ${name} (IPv${family}): ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function readPolicy(config: RelayConfig): Promise<Policy> {
  const vrfs = config.vrfs.map((v) => v.name);
  if (!config.policy) return parsePolicy(DEFAULT_POLICY, "(embedded default policy)", vrfs);
  return parsePolicy(await readFile(config.policy, "utf8"), config.policy, vrfs);
}

async function main(): Promise<void> {
  const config = await loadRelayConfig(configFile);
  log.level = process.env.DHCPLAB_LOG_LEVEL ?? config.logLevel;
  let policy = await readPolicy(config);
  const counters = new Counters();
  const accessInterface = interfaceWith(config.access.ipv4);

  const vrfs = await Promise.all(
    config.vrfs.map(async (v) => ({
      ...v,
      servers4: await Promise.all(v.servers4.map((s) => resolve(s, 4))),
      // A link-local server is on this VRF's link: scope it with the interface that holds the relay's address there.
      servers6: await Promise.all(
        // Link-local and link-scoped multicast servers are on this VRF's link: scope them
        // with the interface that holds the relay's address there.
        v.servers6.map((s) =>
          /^(fe80|ff02):/i.test(s) ? `${s}%${interfaceWith(v.ipv6 ?? "")}` : resolve(s, 6),
        ),
      ),
    })),
  );
  // giaddr mode: the server answers the VRF's link address, so the relay holds it on that VRF's interface.
  for (const v of config.vrfs.filter((v) => v.subnetSelection === "giaddr" && v.link4 && v.ipv4)) {
    const dev = interfaceWith(v.ipv4 as string);
    execFileSync("ip", ["address", "replace", `${v.link4}/32`, "dev", dev]);
    log.info({ vrf: v.name, address: v.link4, dev }, "holding the link address for giaddr mode");
  }
  // The clients' routers: the relay is their gateway on the access network, as a real relay is.
  for (const gateway of config.access.gateways) {
    execFileSync("ip", ["address", "replace", gateway, "dev", accessInterface]);
    log.info({ gateway, dev: accessInterface }, "holding a client gateway address");
  }
  const socketOptions = { bufferBytes: config.socketBuffer, accessInterface };
  const sockets: RelaySocket[] = [];
  let relay4: Relay4 | undefined;
  let relay6: Relay6 | undefined;
  // A packet that makes a handler throw is a bug; it is counted and logged, and the relay serves on.
  const guarded = (f: 4 | 6, fn: (b: Uint8Array, s: string) => void) => (b: Uint8Array, s: string) => {
    try {
      fn(b, s);
    } catch (err) {
      counters.drop(f, "malformed");
      log.error({ err, family: f, source: s }, "handler failed on a packet");
    }
  };

  const sock4 = await openDhcp4Socket(
    socketOptions,
    guarded(4, (b, s) => relay4?.handle(b, s)),
  );
  sockets.push(sock4);
  relay4 = new Relay4({
    accessAddress: config.access.ipv4,
    accessBroadcast: broadcastOf(config.access.ipv4Subnet),
    gateways: config.access.gateways,
    vrfs: vrfs
      .filter((v) => v.servers4.length > 0)
      .map((v) => ({
        name: v.name,
        relayAddress: v.ipv4 as string,
        link: v.link4 as string,
        subnetSelection: v.subnetSelection,
        serverIdOverride: v.serverIdOverride,
        servers: v.servers4,
      })),
    policy: () => policy,
    transport: sock4,
    counters,
    log,
  });
  if (vrfs.some((v) => v.servers6.length > 0)) {
    const sock6 = await openDhcp6Socket(
      socketOptions,
      guarded(6, (b, s) => relay6?.handle(b, s)),
    );
    sockets.push(sock6);
    relay6 = new Relay6({
      vrfs: vrfs
        .filter((v) => v.servers6.length > 0)
        .map((v) => ({ name: v.name, link: v.link6 as string, servers: v.servers6 })),
      policy: () => policy,
      transport: sock6,
      counters,
      log,
    });
  }

  const http = createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(counters.prometheus());
    } else if (req.url === "/counters") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(counters.toJSON()));
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  await new Promise<void>((r) => http.listen(config.http.port, r));
  log.info(
    {
      accessInterface,
      vrfs: vrfs.map((v) => ({ name: v.name, servers4: v.servers4, servers6: v.servers6 })),
      policy: policy.file,
    },
    "relay serving",
  );

  process.on("SIGHUP", () => {
    readPolicy(config).then(
      (next) => {
        policy = next;
        counters.inc("dhcplab_relay_policy_reloads_total", { result: "ok" });
        log.info({ policy: next.file, rules: next.ruleNames }, "policy reloaded");
      },
      (err: unknown) => {
        counters.inc("dhcplab_relay_policy_reloads_total", { result: "refused" });
        log.error(
          { error: err instanceof Error ? err.message : String(err) },
          "policy reload refused; the running policy stays",
        );
      },
    );
  });

  let last = counters.toJSON();
  const summary = setInterval(() => {
    const now = counters.toJSON();
    if (JSON.stringify(now) !== JSON.stringify(last)) log.info({ counters: now }, "summary");
    last = now;
  }, 10_000);
  summary.unref();

  const profile = await startProfile(process.env.DHCPLAB_CPU_PROFILE);
  const stop = async () => {
    log.info("stopping");
    clearInterval(summary);
    setTimeout(() => process.exit(0), 1500).unref();
    await profile?.();
    await Promise.all(sockets.map((s) => s.close()));
    http.close();
    http.closeAllConnections();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/**
 * With DHCPLAB_CPU_PROFILE=FILE the relay profiles itself (V8's sampling profiler through the
 * inspector, as `node --cpu-prof` would, which NODE_OPTIONS does not allow) and writes a
 * .cpuprofile to FILE when it stops.
 */
async function startProfile(file: string | undefined): Promise<(() => Promise<void>) | undefined> {
  if (!file) return undefined;
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (err, result) => (err ? reject(err) : resolve(result))),
    );
  await post("Profiler.enable");
  await post("Profiler.start");
  log.info({ file }, "profiling the relay's CPU until it stops");
  return async () => {
    const { profile } = (await post("Profiler.stop")) as { profile: unknown };
    await writeFile(file, JSON.stringify(profile));
  };
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError)
    log.fatal({ file: err.file, issues: err.issues }, `configuration refused:\n${err.message}`);
  else log.fatal({ err }, "relay failed to start");
  process.exit(1);
});
