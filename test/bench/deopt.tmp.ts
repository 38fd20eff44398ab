import { writeFile } from "node:fs/promises";
import { startLab } from "../../orchestrator/api.ts";
import { runLoad } from "../../orchestrator/docker/clients.ts";
import { dockerClient } from "../../orchestrator/docker/engine.ts";
import { ensureImages, tagsOf } from "../../orchestrator/docker/images.ts";
import { labState } from "../../orchestrator/docker/lab.ts";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";

const docker = dockerClient();
const images = tagsOf(await ensureImages(docker, {}));
const lab = await startLab({
  docker,
  name: `deopt-${process.pid}`,
  topology: await loadTopology(),
  images,
  relayEnv: { DHCPLAB_V8_FLAGS: process.env.FLAGS ?? "--trace-opt --trace-deopt" },
});
try {
  const running = await labState(docker, lab.spec);
  const r = await runLoad(docker, running, images.client, {
    mac: "00:bb:01:00:00:00",
    family: 4,
    clients: 200,
    rate: 1000,
    duration: 10,
  });
  console.log(`completed ${completed(r.report)}`);
  const relay = docker.getContainer(lab.spec.relay.container);
  const logs = (await relay.logs({ stdout: true, stderr: true })) as Buffer;
  await writeFile("/tmp/relay-trace.log", logs);
} finally {
  await lab.down();
}
