// `npm run fuzz`: a million random and mutated inputs per family through the decoders, then
// through the relay paths (Relay4, Relay6 over a fake transport with the embedded policy).
// Seeds are the golden packets; FUZZ_COUNT and FUZZ_SEED change the run.
import { goldenPackets } from "../support/golden.ts";
import { fuzz } from "./mutate.ts";
import { fuzzRelayPath } from "./relay-paths.ts";

const count = Number(process.env.FUZZ_COUNT ?? 1_000_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const seeds = goldenPackets();
let failed = false;
const timed = <T>(run: () => T): [T, string] => {
  const started = performance.now();
  const r = run();
  return [r, ((performance.now() - started) / 1000).toFixed(1)];
};

for (const family of [4, 6] as const) {
  const [r, seconds] = timed(() =>
    fuzz(
      family,
      count,
      seed,
      seeds.filter((s) => s.family === family).map((s) => s.bytes),
    ),
  );
  console.log(
    `decode DHCPv${family}: ${r.inputs} inputs (seed ${seed}) in ${seconds} s: ${r.decoded} decoded, ${r.rejected} refused with DecodeError, ${r.failures.length} other failures`,
  );
  for (const f of r.failures) console.log(`  FAILURE ${f.error}\n    input ${f.input}`);
  failed ||= r.failures.length > 0;
}

for (const family of [4, 6] as const) {
  const [r, seconds] = timed(() => fuzzRelayPath(family, count, seed));
  console.log(
    `relay DHCPv${family}: ${r.inputs} datagrams (seed ${seed}) in ${seconds} s: ${r.relayed} relayed, ${r.dropped} dropped and counted, ${r.unaccounted.length} unaccounted, ${r.failures.length} threw`,
  );
  for (const f of r.failures) console.log(`  THREW (${f.side}) ${f.error}\n    input ${f.input}`);
  for (const u of r.unaccounted) console.log(`  UNACCOUNTED (${u.side}) input ${u.input}`);
  failed ||= r.failures.length > 0 || r.unaccounted.length > 0;
}
process.exitCode = failed ? 1 : 0;
