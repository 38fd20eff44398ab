import type Docker from "dockerode";
import { afterAll, beforeAll, beforeEach, inject } from "vitest";
import { type Lab, startLab } from "../../orchestrator/api.ts";
import { dockerClient } from "../../orchestrator/docker/engine.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import type { Topology } from "../../orchestrator/model/topology.ts";
import { readCaptures, saveArtifacts, startCaptures } from "./artifacts.ts";
import { type UdpDatagram, udpDatagrams } from "./pcap.ts";

/**
 * A lab started for one test file: the library's Lab (what a user of dhcplab has), unique name,
 * labelled with the test run, removed at the end; and what a test needs besides.
 */
export type TestLab = Lab & {
  /** The lab's Docker Engine. */
  docker: Docker;
  clientImage: string;
  /** Saves logs and packet captures under test-results/<testName>/; returns the folder. */
  saveArtifacts(testName: string): Promise<string>;
  /** The DHCP datagrams on a lab network so far ("access", or a VRF's name in lower case), seen from the relay. */
  captured(network: string): Promise<UdpDatagram[]>;
};

/** A Lab with extras: the extras' members first, then the Lab's (its methods bound to it). */
function withExtras<T extends object>(lab: Lab, extras: T): Lab & T {
  return new Proxy(extras, {
    get(target, prop) {
      if (prop in target) return Reflect.get(target, prop);
      const v = Reflect.get(lab, prop);
      return typeof v === "function" ? v.bind(lab) : v;
    },
    has: (target, prop) => prop in target || prop in lab,
  }) as Lab & T;
}

/**
 * Registers, for every test of the calling file, a handler that saves the lab's logs and
 * captures when the test fails, and marks the lab failed (DHCPLAB_KEEP_LAB=on-failure then
 * leaves it up). `lab` is read when a test fails (the file's beforeAll sets it).
 */
export function keepArtifactsOnFailure(lab: () => TestLab | undefined): void {
  beforeEach(({ task, onTestFailed }) => {
    onTestFailed(async () => {
      const l = lab();
      if (!l) return;
      l.fail(`test failed: ${task.name}`);
      const dir = await l.saveArtifacts(`${task.file?.name.replace(/^.*\//, "") ?? "test"}-${task.name}`);
      console.error(`logs and packet captures of the failed test: ${dir}`);
    });
  });
}

/** Starts a complete lab for a test file through the library, on the test run's images. */
export async function startTestLab(
  file: string,
  topology?: Topology,
  labels: Record<string, string> = {},
  o: { monitoring?: boolean } = {},
): Promise<TestLab> {
  const docker = dockerClient();
  const images = inject("imageTags");
  const name = `t${process.pid}-${file}`
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "-")
    .slice(0, 40);
  const runLabels = { ...inject("testRun").labels, ...labels };
  // The default images come from the global setup; a second Kea version (or Prometheus) is
  // built (once) by the first file whose lab needs it.
  const lab = await startLab({ docker, name, topology, labels: runLabels, monitoring: o.monitoring, images });
  const captureId = await startCaptures(docker, lab.spec, images.client, runLabels);
  return withExtras(lab, {
    docker,
    clientImage: images.client,
    saveArtifacts: (testName: string) => saveArtifacts(docker, lab.spec, captureId, testName),
    captured: async (network: string) => {
      const pcap = (await readCaptures(docker, captureId)).get(`${network}.pcap`);
      return pcap && pcap.length > 24 ? udpDatagrams(pcap) : [];
    },
  });
}

/** The labels every object of a lab carries. */
export const labLabel = (name: string) => `${LABEL.lab}=${name}`;

/**
 * The lab of the calling test file: started before its tests, removed after them (also when
 * they fail), with a failed test's logs and captures kept. Its members read the started lab,
 * so they are valid inside hooks and tests.
 */
export function useTestLab(
  file: string,
  topology?: () => Promise<Topology>,
  o: { monitoring?: boolean } = {},
): TestLab {
  let started: TestLab | undefined;
  beforeAll(async () => {
    started = await startTestLab(file, topology ? await topology() : undefined, {}, o);
  });
  afterAll(async () => {
    await started?.down();
  });
  keepArtifactsOnFailure(() => started);
  // The file's lab, read when a test or hook uses it (beforeAll has started it by then).
  return new Proxy({} as TestLab, {
    get(_, prop) {
      if (!started) throw new Error(`the ${file} lab did not start`);
      const v = Reflect.get(started, prop);
      return typeof v === "function" ? v.bind(started) : v;
    },
  });
}
