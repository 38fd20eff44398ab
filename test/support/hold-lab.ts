import { startLab } from "../../orchestrator/api.ts";

// A process that starts a lab through the library and holds it until it is killed: the reaper
// tests (test/e2e/reaper.test.ts, engines.test.ts) kill it with SIGKILL. Its name is its first
// argument, its topology file the second (the default lab without); the test run's images and
// labels come in DHCPLAB_HOLD_IMAGES and DHCPLAB_HOLD_LABELS (JSON). Its Engine is DOCKER_HOST's.
const name = process.argv[2] ?? "";
const lab = await startLab({
  name,
  ...(process.argv[3] ? { topology: process.argv[3] } : {}),
  images: JSON.parse(process.env.DHCPLAB_HOLD_IMAGES ?? "{}"),
  labels: JSON.parse(process.env.DHCPLAB_HOLD_LABELS ?? "{}"),
});
process.stdout.write(`up ${lab.name}\n`);
// Held: the process ends only when it is killed.
setInterval(() => {}, 1 << 30);
