// `npm run fuzz`: a million random and mutated inputs per family through the decoders.
// Seeds are the golden packets; FUZZ_COUNT and FUZZ_SEED change the run.

import { goldenPackets } from "../support/golden.ts";
import { fuzz } from "./mutate.ts";

const count = Number(process.env.FUZZ_COUNT ?? 1_000_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const seeds = goldenPackets();
let failed = false;
for (const family of [4, 6] as const) {
  const started = performance.now();
  const r = fuzz(
    family,
    count,
    seed,
    seeds.filter((s) => s.family === family).map((s) => s.bytes),
  );
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `DHCPv${family}: ${r.inputs} inputs (seed ${seed}) in ${seconds.toFixed(1)} s: ${r.decoded} decoded, ${r.rejected} refused with DecodeError, ${r.failures.length} other failures`,
  );
  for (const f of r.failures) console.log(`  FAILURE ${f.error}\n    input ${f.input}`);
  failed ||= r.failures.length > 0;
}
process.exitCode = failed ? 1 : 0;
