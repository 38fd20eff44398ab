import { createServer, type Server, type Socket } from "node:net";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";

// A port of a lab service, reachable from where dhcplab runs: a local TCP listener whose every
// connection is piped through the Engine's API (a docker exec) to the port inside the service's
// container, as `kubectl port-forward` does. The lab's networks are internal, so on a remote
// Engine nothing of them is reachable otherwise; on a local one, this is a loopback address for a
// container's port. The container needs bash (its /dev/tcp) and cat: every image of the lab has them.

/** A forwarded port: where it listens, until closed. */
export interface Forward {
  /** The local address and port it listens on. */
  host: string;
  port: number;
  close(): Promise<void>;
}

/**
 * The script each connection runs in the container: a connection to the port on its loopback,
 * copied both ways until either side ends, then both stop (bash's wait -n). bash cannot half-close
 * its connection: a client that shuts its sending side down before the answer (as HTTP clients
 * do not) loses the answer.
 */
export function pipeScript(port: number): string {
  return [
    `exec 3<>/dev/tcp/127.0.0.1/${port} || exit 1`,
    "cat <&3 & reader=$!",
    // Explicitly the exec's input: a background job's is /dev/null otherwise.
    "cat <&0 >&3 & writer=$!",
    "wait -n",
    'kill "$reader" "$writer" 2>/dev/null',
    "exit 0",
  ].join("\n");
}

/** Listens on `host`:`localPort` (0: any free port) and forwards to `port` in `container`. */
export async function forwardPort(
  docker: Docker,
  container: string,
  port: number,
  o: { host?: string; localPort?: number; onError?: (err: Error) => void } = {},
): Promise<Forward> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    pipe(docker, container, port, socket).catch((err: Error) => {
      o.onError?.(err);
      socket.destroy();
    });
  });
  const host = o.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.localPort ?? 0, host, () => resolve());
  });
  const address = server.address();
  return {
    host,
    port: typeof address === "object" && address ? address.port : (o.localPort ?? 0),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** One connection: an exec whose input is the socket's bytes and whose output goes back to it. */
async function pipe(docker: Docker, container: string, port: number, socket: Socket): Promise<void> {
  const exec = await docker.getContainer(container).exec({
    Cmd: ["bash", "-c", pipeScript(port)],
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: true });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(stream, stdout, stderr);
  stderr.resume();
  stdout.pipe(socket);
  socket.pipe(stream);
  // The container's side ended (the service closed, or the exec failed): so does the connection.
  stream.on("end", () => socket.end());
  stream.on("close", () => socket.end());
  stream.on("error", () => socket.destroy());
  // A connection closed or reset from this side: the exec's input ends, and so does the exec
  // (destroying the socket does not end what it was piped into).
  socket.on("close", () => stream.destroy());
}
