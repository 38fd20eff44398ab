// `npm run bench:profile`: runs perfdhcp through dhcplab's relay with the relay profiling
// itself (DHCPLAB_CPU_PROFILE), then prints the functions that took the most CPU and keeps the
// .cpuprofile (open it in Chrome DevTools) under bench-results/. PROFILE_FAMILY (4), PROFILE_RATE
// (250), PROFILE_SECONDS (10) and PROFILE_ENGINE (DHCPv4's load: clients, as `npm run bench`, or
// perfdhcp) change the run.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startLab } from "../../orchestrator/api.ts";
import { runLoad } from "../../orchestrator/docker/clients.ts";
import { containerFile, dockerClient } from "../../orchestrator/docker/engine.ts";
import { ensureImages, tagsOf } from "../../orchestrator/docker/images.ts";
import { labState } from "../../orchestrator/docker/lab.ts";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";

const family = Number(process.env.PROFILE_FAMILY ?? 4) as 4 | 6;
const rate = Number(process.env.PROFILE_RATE ?? 250);
const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const engine = family === 4 && process.env.PROFILE_ENGINE !== "perfdhcp" ? "clients" : "perfdhcp";
const docker = dockerClient();
const images = tagsOf(await ensureImages(docker, { progress: (l) => process.stderr.write(`${l}\n`) }));
const name = `profile-${process.pid}`;
const lab = await startLab({
  docker,
  name,
  topology: await loadTopology(),
  images,
  relayEnv: { DHCPLAB_CPU_PROFILE: "/tmp/relay.cpuprofile" },
});
try {
  const running = await labState(docker, lab.spec);
  const r = await runLoad(docker, running, images.client, {
    mac: "00:bb:01:00:00:00",
    family,
    clients: 200,
    rate,
    duration: seconds,
    engine,
  });
  console.log(
    `${engine}: ${completed(r.report)} exchanges completed of ${r.report.exchanges[0]?.sent ?? 0} started`,
  );
  const relay = docker.getContainer(lab.spec.relay.container);
  await relay.stop({ t: 5 });
  const text = (await containerFile(docker, relay.id, "/tmp/relay.cpuprofile")).toString("utf8");
  const dir = join(ROOT, "bench-results");
  await mkdir(dir, { recursive: true });
  const file = join(dir, `relay-v${family}-${rate}.cpuprofile`);
  await writeFile(file, text);
  const profile = JSON.parse(text) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)?.callFrame;
    const key = f ? `${f.functionName || "(anonymous)"} ${f.url.split("/").pop()}:${f.lineNumber + 1}` : "?";
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`relay CPU profile (${(total / 1000).toFixed(0)} ms sampled), top self time:`);
  for (const [k, us] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
    console.log(
      `${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`,
    );
  }
  console.log(`profile: ${file}`);
} finally {
  await lab.down();
}
