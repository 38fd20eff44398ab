import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { type Policy, parsePolicy } from "../../lib/policy/policy.ts";
import type { RelayConfig } from "./config.ts";
import type { Counters } from "./counters.ts";
import type { Health } from "./health.ts";

/** Reads the configured policy file, or the embedded default, compiled against the relay's VRFs. */
async function readPolicy(config: RelayConfig): Promise<Policy> {
  const vrfs = config.vrfs.map((v) => v.name);
  if (!config.policy) return parsePolicy(DEFAULT_POLICY, "(embedded default policy)", vrfs);
  return parsePolicy(await readFile(config.policy, "utf8"), config.policy, vrfs);
}

/** The running policy: loaded at start, reloaded on demand; a refused reload keeps the last good one. */
export class PolicySource {
  private constructor(
    private current: Policy,
    private readonly o: { config: RelayConfig; counters: Counters; health: Health; log: Logger },
  ) {}

  /** Loads the policy; a bad one stops the start (throws ConfigError with file, line and field). */
  static async load(o: { config: RelayConfig; counters: Counters; health: Health; log: Logger }) {
    const source = new PolicySource(await readPolicy(o.config), o);
    o.health.set("policy", true);
    return source;
  }

  /** The policy in force. */
  readonly get = (): Policy => this.current;

  /** Reads the policy again; counts and logs the result, and tells the health check. */
  async reload(): Promise<void> {
    const { counters, health, log } = this.o;
    try {
      this.current = await readPolicy(this.o.config);
      counters.inc("dhcplab_relay_policy_reloads_total", { result: "ok" });
      health.set("reload", true);
      log.info({ policy: this.current.file, rules: this.current.ruleNames }, "policy reloaded");
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      counters.inc("dhcplab_relay_policy_reloads_total", { result: "refused" });
      health.set("reload", false, `last reload refused: ${error}`);
      log.error({ error }, "policy reload refused; the running policy stays");
    }
  }
}
