import type Docker from "dockerode";
import { containerFile, containerLogs, tarOf } from "../../orchestrator/docker/engine.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";

/** What headless Chromium made of a page: its DOM after load, its console messages, a screenshot (PNG). */
export interface PageView {
  dom: string;
  /** Console messages the page itself caused (source file:///...), as Chromium logs them. */
  console: string[];
  screenshot: Buffer;
}

/** Runs Chromium once on `page` (a path under /page, where `files` are copied), with no network. */
async function chromium(
  docker: Docker,
  image: string,
  files: [string, string][],
  args: string[],
): Promise<{ id: string; output: string; remove: () => Promise<void> }> {
  const c = await docker.createContainer({
    Image: image,
    Cmd: [...args, "--enable-logging=stderr", "--v=0"],
    Labels: { [LABEL.managed]: "true", [LABEL.role]: "browser" },
    HostConfig: { NetworkMode: "none" },
  });
  await c.putArchive(tarOf(files), { path: "/tmp" });
  await c.start();
  await c.wait();
  return { id: c.id, output: await containerLogs(docker, c.id), remove: () => c.remove({ force: true }) };
}

/** Opens `files[0]` in headless Chromium, offline: the DOM it rendered, its console, a screenshot. */
export async function viewPage(docker: Docker, image: string, files: [string, string][]): Promise<PageView> {
  const url = `file:///tmp/${files[0]?.[0]}`;
  const dumped = await chromium(docker, image, files, ["--dump-dom", url]);
  await dumped.remove();
  const shot = await chromium(docker, image, files, [
    "--window-size=1100,2600",
    "--screenshot=/tmp/shot.png",
    url,
  ]);
  try {
    const screenshot = await containerFile(docker, shot.id, "/tmp/shot.png");
    const console = [dumped.output, shot.output]
      .flatMap((o) => o.split("\n"))
      .filter((l) => /:CONSOLE/.test(l) && l.includes("file:///"));
    // The DOM is what --dump-dom printed: from <html to its end.
    const dom = dumped.output.slice(dumped.output.indexOf("<html"));
    return { dom, console, screenshot };
  } finally {
    await shot.remove();
  }
}
