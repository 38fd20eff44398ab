import type { Datapath, DatapathOptions } from "./datapath.ts";
import type { Transport } from "./links.ts";
import {
  adoptSockets,
  closeSockets,
  type LinkSocket,
  listen,
  type Receive,
  type SocketSpec,
  SocketTransport,
} from "./sockets.ts";

/** The fallback datapath (`datapath: node`): Node's dgram over the launcher's sockets. */
export class NodeDatapath implements Datapath {
  readonly kind = "node";
  /** Node's dgram frames nothing itself: its replies to clients go to the limited broadcast. */
  readonly framing = [];
  private readonly transports: Record<4 | 6, Transport>;

  private constructor(private readonly sockets: readonly LinkSocket[]) {
    this.transports = {
      4: new SocketTransport(sockets.filter((s) => s.family === 4)),
      6: new SocketTransport(sockets.filter((s) => s.family === 6)),
    };
  }

  static async open(specs: readonly SocketSpec[], o: DatapathOptions): Promise<NodeDatapath> {
    return new NodeDatapath(await adoptSockets(specs, o));
  }

  get links() {
    return this.sockets.map((s) => ({ ifname: s.ifname, family: s.family, link: s.link }));
  }

  transport(family: 4 | 6): Transport {
    return this.transports[family];
  }

  listen(family: 4 | 6, receive: Receive): void {
    listen(
      this.sockets.filter((s) => s.family === family),
      receive,
    );
  }

  joinAccess6(group: string): void {
    for (const s of this.sockets) {
      if (s.family === 6 && s.link.side === "access") s.socket.addMembership(group, `::%${s.ifname}`);
    }
  }

  close(): Promise<void> {
    return closeSockets(this.sockets);
  }
}
