import { describe, expect, it } from "vitest";
import { Health } from "./health.ts";

describe("the relay's readiness", () => {
  it("is ready only when sockets are bound, the policy loaded and the last reload accepted, and names what is not", () => {
    const h = new Health();
    expect(h.report()).toMatchObject({
      ready: false,
      checks: { sockets: { ok: false, detail: "not bound yet" }, policy: { ok: false } },
    });
    h.set("policy", true);
    h.set("sockets", true);
    h.set("isolation", true);
    expect(h.report().ready).toBe(true);
    h.set("reload", false, "last reload refused: policy.yaml:3: rules[0].vrf: unknown VRF GREEN");
    expect(h.report()).toMatchObject({
      ready: false,
      checks: { reload: { ok: false, detail: /unknown VRF/ } },
    });
    h.set("reload", true);
    expect(h.report()).toEqual({
      ready: true,
      checks: { sockets: { ok: true }, policy: { ok: true }, reload: { ok: true }, isolation: { ok: true } },
    });
  });
});
