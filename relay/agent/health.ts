/** What must hold for the relay to be ready, each with the reason it does not. */
export interface HealthReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

/**
 * The relay's readiness: every socket bound, the policy loaded, the last reload accepted, IP
 * forwarding off or behind its chain (the relay must not route between VRFs), and each VRF's
 * routing table in place.
 * `/healthz` answers 200 only when all hold, and says which did not.
 */
export class Health {
  private readonly checks = new Map<string, { ok: boolean; detail?: string }>([
    ["sockets", { ok: false, detail: "not bound yet" }],
    ["policy", { ok: false, detail: "not loaded yet" }],
    ["reload", { ok: true }],
    ["isolation", { ok: false, detail: "not checked yet" }],
  ]);

  /** Sets a check; "router-advertisements" exists only where the relay sends them. */
  set(
    check: "sockets" | "policy" | "reload" | "isolation" | "routing" | "router-advertisements",
    ok: boolean,
    detail?: string,
  ): void {
    this.checks.set(check, ok ? { ok } : { ok, detail });
  }

  report(): HealthReport {
    const checks = Object.fromEntries(this.checks);
    return { ready: [...this.checks.values()].every((c) => c.ok), checks };
  }
}
