import type { LabPlan } from "../../model/plan.ts";
import type { Topology } from "../../model/topology.ts";
import type { LabInputs } from "../inputs.ts";
import type { HealthSpec, NetworkSpec } from "../spec.ts";

/** What every feature module reads to contribute its networks and nodes. */
export interface FeatureContext {
  topology: Topology;
  plan: LabPlan;
  inputs: LabInputs;
  /** The lab's networks, as the features declared them, with their subnets. */
  networks: readonly NetworkSpec[];
  /**
   * engine: dhcplab's deployer, which sets Kea's MAC (so the relay sends DHCPv6 to its
   * link-local address); compose: Compose on Engine API 1.41 cannot, so the relay reaches
   * each VRF's Kea through ff02::1:2 on its link.
   */
  target: "engine" | "compose";
  /** Extra environment for the relay (DHCPLAB_CPU_PROFILE, DHCPLAB_LOG_LEVEL). */
  relayEnv: Record<string, string>;
  monitoring: boolean;
}

/** A health check's timings in Docker's nanoseconds. */
export function health(test: string[], o: { interval: number; timeout: number; start: number }): HealthSpec {
  const ns = (s: number) => s * 1_000_000_000;
  return {
    test,
    intervalNs: ns(o.interval),
    timeoutNs: ns(o.timeout),
    startPeriodNs: ns(o.start),
    retries: 3,
  };
}
