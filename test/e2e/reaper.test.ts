import { describe, it } from "vitest";
import { dockerClient } from "../../orchestrator/docker/engine.ts";
import { expectReapedAfterKill } from "../support/reaping.ts";

// A lab whose owning process dies without taking it down is removed by its reaper: the process
// that holds the lab is killed with SIGKILL (no handler runs), and everything of the lab goes.

describe("the lab's reaper", () => {
  it("removes every container and network of a lab whose process was killed with SIGKILL, within 30 s", async () => {
    // Kea RED, Kea BLUE, the relay and its reaper; the access and two backend networks.
    await expectReapedAfterKill(dockerClient(), `t${process.pid}-reaped`, { containers: 4, networks: 3 });
  }, 180_000);
});
