import { request } from "node:http";

// dhcplab's reaper: removes a lab when the process that started it dies without removing it (a
// CI job killed at its timeout, a test runner's worker killed, Ctrl-C twice). It runs in the
// relay's image beside the lab, with the Engine's socket, and holds its standard input open to
// the owner through the Engine (an attach). The Engine closes that input when the owner's
// connection ends, however it ends: the reaper then removes every container and network with
// the lab's label, itself last. The owner removes the reaper first when it takes the lab down
// itself, or keeps the lab on purpose.
//   DHCPLAB_REAP_LABEL  the label every object of the lab carries: dev.dhcplab.lab=NAME
//   DOCKER_SOCKET       the Engine's socket (default /var/run/docker.sock)

const LABEL = process.env.DHCPLAB_REAP_LABEL ?? "";
const SOCKET = process.env.DOCKER_SOCKET ?? "/var/run/docker.sock";

/** One call of the Engine's API over its socket; its JSON answer (none for 204). */
function engine<T>(method: string, path: string): Promise<{ status: number; body: T | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: SOCKET, method, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as T) : undefined });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

const filters = () => encodeURIComponent(JSON.stringify({ label: [LABEL] }));
const say = (msg: string) => process.stderr.write(`dhcplab-reaper: ${msg}\n`);

/** Removes the lab's containers (this one last: removing it ends the reaper) and its networks. */
async function reap(): Promise<void> {
  say(`the lab's owner is gone: removing everything labelled ${LABEL}`);
  const self = process.env.HOSTNAME ?? "";
  const { body: containers = [] } = await engine<{ Id: string }[]>(
    "GET",
    `/containers/json?all=1&filters=${filters()}`,
  );
  await Promise.all(
    containers
      .filter((c) => !c.Id.startsWith(self))
      .map((c) => engine("DELETE", `/containers/${c.Id}?force=1&v=1`)),
  );
  // A network is in use until the Engine has let go of its last endpoint: try for 10 s.
  for (const deadline = Date.now() + 10_000; ; ) {
    const { body: networks = [] } = await engine<{ Id: string }[]>("GET", `/networks?filters=${filters()}`);
    const left = (await Promise.all(networks.map((n) => engine("DELETE", `/networks/${n.Id}`)))).filter(
      (r) => r.status >= 400 && r.status !== 404,
    );
    if (left.length === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await engine("DELETE", `/containers/${self}?force=1&v=1`);
}

function main(): void {
  if (!/^[\w.-]+=[\w.-]+$/.test(LABEL))
    throw new Error(`DHCPLAB_REAP_LABEL ${JSON.stringify(LABEL)} is not LABEL=VALUE`);
  // Removed with its lab (SIGTERM, SIGKILL): nothing to do.
  process.on("SIGTERM", () => process.exit(0));
  process.stdin.on("data", () => {});
  process.stdin.on("end", () => {
    reap().then(
      () => process.exit(0),
      (err: Error) => {
        say(`reaping failed: ${err.message}`);
        process.exit(1);
      },
    );
  });
  say(`watching the owner of ${LABEL}`);
}

main();
