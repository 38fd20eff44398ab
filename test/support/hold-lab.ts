import { startLab } from "../../orchestrator/api.ts";

// A process that starts a lab through the library and holds it until it is killed: the reaper
// test (test/e2e/reaper.test.ts) kills it with SIGKILL. Its name is its first argument; the
// test run's images and labels come in DHCPLAB_HOLD_IMAGES and DHCPLAB_HOLD_LABELS (JSON).
const name = process.argv[2] ?? "";
const lab = await startLab({
  name,
  images: JSON.parse(process.env.DHCPLAB_HOLD_IMAGES ?? "{}"),
  labels: JSON.parse(process.env.DHCPLAB_HOLD_LABELS ?? "{}"),
});
process.stdout.write(`up ${lab.name}\n`);
// Held: the process ends only when it is killed.
setInterval(() => {}, 1 << 30);
