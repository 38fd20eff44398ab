import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector";
import { setFlagsFromString } from "node:v8";
import type { Logger } from "pino";

/**
 * With DHCPLAB_CPU_PROFILE=FILE the relay profiles itself (V8's sampling profiler through the
 * inspector, as `node --cpu-prof` would, which NODE_OPTIONS does not allow) and writes a
 * .cpuprofile to FILE when it stops. Returns the function that stops and writes it.
 */
export async function startProfile(
  file: string | undefined,
  log: Logger,
): Promise<(() => Promise<void>) | undefined> {
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

/**
 * With DHCPLAB_V8_FLAGS="--trace-deopt ..." the relay sets V8 flags at start, for diagnosis
 * (NODE_OPTIONS refuses V8 flags); what they print goes to the relay's log.
 */
export function applyV8Flags(flags: string | undefined, log: Logger): void {
  if (!flags) return;
  setFlagsFromString(flags);
  log.warn({ flags }, "V8 flags set for diagnosis");
}
