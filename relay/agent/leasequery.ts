import { randomBytes, randomInt } from "node:crypto";
import { connect } from "node:net";
import { type Dhcp4Message, decodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { messageType } from "../../lib/codec/dhcp4/options.ts";
import {
  BULK_ONLY4,
  bulkLeaseQuery4,
  bulkLeaseQuery6,
  bulkLeaseQueryAnswer4,
  bulkLeaseQueryAnswer6,
  header6,
  LEASEQUERY4,
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
// Relay4 hands the answer here), and by Remote-ID or Relay-ID as bulk leasequery over TCP (RFC
// 6926); DHCPv6 as bulk leasequery over TCP to each server's port 547 (RFC 5460).

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
    if (q.by === "remote-id" || q.by === "relay-id")
      return this.bulk4(vrf, { by: q.by, value: q.value, xid });
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

  /** A DHCPv4 bulk leasequery (RFC 6926) over TCP from the relay's backend address to each server. */
  private async bulk4(
    vrf: ResolvedVrf,
    q: { by: "remote-id" | "relay-id"; value: string; xid: number },
  ): Promise<ServerAnswer[]> {
    const servers = vrf.bulkLeasequery4;
    if (servers.length === 0)
      throw new Error(
        `VRF ${vrf.name} takes no DHCPv4 bulk lease queries (by ${[...BULK_ONLY4].join(" or ")}): its kea-dhcp4 loads no lease_query hook with bulk-query-enabled`,
      );
    const query = bulkLeaseQuery4(q);
    const answers = await Promise.all(
      servers.map(async (s): Promise<ServerAnswer | undefined> => {
        const messages = await overTcp(s.address, s.port, vrf.ipv4 as string, query, isDone4);
        return (
          messages && { server: s.address, ...bulkLeaseQueryAnswer4(messages.map((m) => decodeDhcp4(m))) }
        );
      }),
    );
    return answers.filter((a): a is ServerAnswer => a !== undefined);
  }

  private async query6(vrf: ResolvedVrf, q: LeaseQuery & { family: 6 }): Promise<ServerAnswer[]> {
    const servers = vrf.bulkLeasequery6;
    if (!vrf.ipv6 || servers.length === 0)
      throw new Error(
        `VRF ${vrf.name} takes no DHCPv6 lease queries: its kea-dhcp6 loads no lease_query hook with bulk-query-enabled`,
      );
    const answers = await Promise.all(
      servers.map(async (s): Promise<ServerAnswer | undefined> => {
        const query = bulkLeaseQuery6(q, this.duid, randomInt(1, 0xffffff));
        const done = (m: Uint8Array) => header6(m).type === LEASEQUERY6.DONE;
        const messages = await overTcp(s.address, s.port, vrf.ipv6 as string, query, done);
        return messages && { server: s.address, ...bulkLeaseQueryAnswer6(messages) };
      }),
    );
    return answers.filter((a): a is ServerAnswer => a !== undefined);
  }
}

/** Whether a DHCPv4 message's bytes are a DHCPLEASEQUERYDONE (RFC 6926 §6.2.1). */
function isDone4(bytes: Uint8Array): boolean {
  try {
    return messageType(decodeDhcp4(bytes)) === LEASEQUERY4.DONE;
  } catch {
    return false;
  }
}

/**
 * One bulk leasequery over TCP from `local` (RFC 5460 §5, RFC 6926 §6): the query, then the
 * server's messages until `done` says one ends it, or the connection ends. Undefined when the
 * server sent nothing in time.
 */
function overTcp(
  server: string,
  port: number,
  local: string,
  query: Uint8Array,
  done: (message: Uint8Array) => boolean,
): Promise<Uint8Array[] | undefined> {
  return new Promise((resolve) => {
    const messages: Uint8Array[] = [];
    let stream: Uint8Array = new Uint8Array(0);
    const socket = connect({ host: server, port, localAddress: local });
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(messages.length > 0 ? messages : undefined);
    };
    const timer = setTimeout(finish, ANSWER_MS);
    socket.on("connect", () => socket.write(query));
    socket.on("data", (chunk: Buffer) => {
      const split = splitFramed(Buffer.concat([stream, chunk]));
      stream = split.rest;
      for (const m of split.messages) {
        messages.push(m);
        if (done(m)) return finish();
      }
    });
    socket.on("end", finish);
    socket.on("error", finish);
  });
}
