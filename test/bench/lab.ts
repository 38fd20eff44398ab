// `npm run bench:lab`: how long `up` (to healthy) and `down` take with warm images, for the
// default lab and for a lab of 8 VRFs. Prints figures; asserts nothing.

import { startLab } from "../../orchestrator/api.ts";
import { dockerClient } from "../../orchestrator/docker/engine.ts";
import { ensureImages, tagsOf } from "../../orchestrator/docker/images.ts";
import { downLabs } from "../../orchestrator/docker/lab.ts";
import { DEFAULT_SEGMENTS, loadTopology, type Topology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";

const docker = dockerClient();
const images = tagsOf(await ensureImages(docker));
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);

const eightVrfs: Topology = {
  kea: "3.0",
  relay: { hostname: "relay" },
  segments: DEFAULT_SEGMENTS,
  towers: [],
  vrfs: Array.from({ length: 8 }, (_, i) => ({
    // RED and BLUE keep the embedded policy valid; the rest are unused by it.
    name: ["RED", "BLUE"][i] ?? `VRF${i + 1}`,
    // Every VRF runs BLUE's configuration: separate Keas, the same subnets, as timing needs.
    keaConfig: `${ROOT}/kea-configs/BLUE`,
    servers: 1,
    families: [4, 6] as (4 | 6)[],
    subnetSelection: "link-selection" as const,
    link4: "192.168.20.1",
    link6: "fd00:20::1",
    gateways: [],
    gateways6: [],
  })),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

for (const [label, topology] of [
  ["default lab (RED, BLUE)", await loadTopology()],
  ["8 VRFs", eightVrfs],
] as const) {
  const ups: number[] = [];
  const downs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const name = `bench-${process.pid}-${r}`;
    const t0 = performance.now();
    await startLab({
      docker,
      name,
      topology,
      images,
    });
    const t1 = performance.now();
    await downLabs(docker, name, images.client);
    const t2 = performance.now();
    ups.push((t1 - t0) / 1000);
    downs.push((t2 - t1) / 1000);
  }
  console.log(
    `${label}: up to healthy median ${median(ups).toFixed(1)} s (${ups.map((x) => x.toFixed(1)).join(", ")}), down median ${median(downs).toFixed(1)} s (${downs.map((x) => x.toFixed(1)).join(", ")}) over ${rounds} rounds`,
  );
}
