import { describe, expect, it } from "vitest";
import { radvdConfig } from "./radvd.ts";

describe("router advertisements", () => {
  it("set M and O as configured and announce the client subnets on-link, not for SLAAC (RFC 4861 §4.2, §4.6.2)", () => {
    const text = radvdConfig({ managed: true, other: false, prefixes: true, interval: 30, lifetime: 1800 }, [
      { dev: "eth0", prefixes: ["fd00:10::/64"] },
      { dev: "eth3", prefixes: [] },
    ]);
    expect(text).toContain(
      "interface eth0 {\n  AdvSendAdvert on;\n  AdvManagedFlag on;\n  AdvOtherConfigFlag off;",
    );
    expect(text).toContain("MinRtrAdvInterval 10;\n  MaxRtrAdvInterval 30;");
    expect(text).toContain("  prefix fd00:10::/64 {\n    AdvOnLink on;\n    AdvAutonomous off;\n  };");
    expect(text).toMatch(/interface eth3 \{[^}]*\};$/);
    expect(text).toContain("AdvDefaultLifetime 1800;");
    expect(
      radvdConfig({ managed: false, other: false, prefixes: false, interval: 4, lifetime: 0 }, [
        { dev: "eth0", prefixes: [] },
      ]),
    ).toContain("MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 4;\n  AdvDefaultLifetime 0;");
  });
});
