import { randomBytes, randomInt } from "node:crypto";
import { connect } from "node:net";
import type { Dhcp4Message } from "../../lib/codec/dhcp4/message.ts";
import {
  bulkLeaseQuery6,
  bulkLeaseQueryAnswer6,
  header6,
  LEASEQUERY6,
  type LeaseQuery,
  type LeaseQueryAnswer,
  leaseQuery4,
  leaseQueryAnswer4,
  splitFramed,
} from "../../lib/leasequery.ts";
import type { ResolvedVrf } from "./resolve.ts";

// The relay as a lease query requester (RFC 4388, RFC 5007, RFC 5460): it asks a VRF's servers
// from its own address on the VRF's backend, which their lease_query hook lists as a requester.
// DHCPv4 over UDP through the relay's own sockets (the server answers to giaddr, port 67, where
// Relay4 hands the answer here); DHCPv6 as bulk leasequery over TCP to each server's port 547.

/** One server's answer to a lease query. */
export interface ServerAnswer extends LeaseQueryAnswer {
  server: string;
}

/** How long a server has to answer. */
const ANSWER_MS = 3000;

/** A lease query's pending answers, by transaction id. */
interface Pending {
  vrf: string;
  answers: ServerAnswer[];
  expected: number;
  done: () => void;
}

/** The relay's lease queries. */
export class LeaseQuerier {
  private readonly pending = new Map<number, Pending>();
  /** The relay's DUID as a requester (DUID-LL of a random locally administered MAC, RFC 8415 §11.4). */
  private readonly duid = Uint8Array.of(0, 3, 0, 1, 0x02, ...randomBytes(5));

  constructor(
    private readonly vrfs: readonly ResolvedVrf[],
    /** Sends a DHCPv4 lease query to a VRF's servers (Relay4's path: counted, through the VRF's link). */
    private readonly send4: (vrf: string, bytes: Uint8Array) => void,
  ) {}

  /** Asks every server of the VRF; each one's answer, or none from a server that did not answer in time. */
  async query(vrfName: string, q: LeaseQuery): Promise<ServerAnswer[]> {
    const vrf = this.vrfs.find((v) => v.name.toLowerCase() === vrfName.toLowerCase());
    if (!vrf) throw new Error(`no VRF ${vrfName}: the relay has ${this.vrfs.map((v) => v.name).join(", ")}`);
    return q.family === 4 ? this.query4(vrf, q) : this.query6(vrf, q);
  }

  private query4(vrf: ResolvedVrf, q: LeaseQuery & { family: 4 }): Promise<ServerAnswer[]> {
    if (!vrf.ipv4 || vrf.servers4.length === 0) throw new Error(`VRF ${vrf.name} has no DHCPv4 servers`);
    const xid = randomInt(1, 0x7fffffff);
    const bytes = leaseQuery4({ by: q.by, value: q.value, giaddr: vrf.ipv4, xid });
    return new Promise((resolve) => {
      const answers: ServerAnswer[] = [];
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(xid);
        resolve(answers);
      };
      const timer = setTimeout(done, ANSWER_MS);
      this.pending.set(xid, { vrf: vrf.name, answers, expected: vrf.servers4.length, done });
      this.send4(vrf.name, bytes);
    });
  }

  /**
   * A DHCPv4 lease query's answer from a server of `vrf`: taken when it answers a pending query
   * (true), else left to the relay to drop (false).
   */
  answer4(m: Dhcp4Message, source: string, vrf: string): boolean {
    const p = this.pending.get(m.xid);
    if (!p || p.vrf !== vrf) return false;
    p.answers.push({ server: source, ...leaseQueryAnswer4(m) });
    if (p.answers.length >= p.expected) p.done();
    return true;
  }

  private async query6(vrf: ResolvedVrf, q: LeaseQuery & { family: 6 }): Promise<ServerAnswer[]> {
    const servers = vrf.bulkLeasequery6;
    if (!vrf.ipv6 || servers.length === 0)
      throw new Error(
        `VRF ${vrf.name} takes no DHCPv6 lease queries: its kea-dhcp6 loads no lease_query hook with bulk-query-enabled`,
      );
    const answers = await Promise.all(
      servers.map((s) =>
        bulk6(
          s.address,
          s.port,
          vrf.ipv6 as string,
          bulkLeaseQuery6(q, this.duid, randomInt(1, 0xffffff)),
        ).then((a): ServerAnswer | undefined => a && { server: s.address, ...a }),
      ),
    );
    return answers.filter((a): a is ServerAnswer => a !== undefined);
  }
}

/**
 * One bulk leasequery over TCP from `local` (RFC 5460 §5): the query, then the server's messages
 * until LEASEQUERY-DONE, or a REPLY that ends it (a query it refused), or the connection's end.
 * Undefined when the server did not answer in time.
 */
function bulk6(
  server: string,
  port: number,
  local: string,
  query: Uint8Array,
): Promise<LeaseQueryAnswer | undefined> {
  return new Promise((resolve) => {
    const messages: Uint8Array[] = [];
    let stream: Uint8Array = new Uint8Array(0);
    const socket = connect({ host: server, port, localAddress: local });
    const finish = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered ? bulkLeaseQueryAnswer6(messages) : undefined);
    };
    const timer = setTimeout(() => finish(messages.length > 0), ANSWER_MS);
    socket.on("connect", () => socket.write(query));
    socket.on("data", (chunk: Buffer) => {
      const split = splitFramed(Buffer.concat([stream, chunk]));
      stream = split.rest;
      for (const m of split.messages) {
        messages.push(m);
        if (header6(m).type === LEASEQUERY6.DONE) return finish(true);
      }
    });
    socket.on("end", () => finish(messages.length > 0));
    socket.on("error", () => finish(messages.length > 0));
  });
}
