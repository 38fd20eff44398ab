import { pino } from "pino";
import { type Link, linkName, type Transport } from "../../relay/agent/links.ts";
import { DEFAULT_POLICY } from "../../relay/policy/default-policy.ts";
import { type Policy, parsePolicy } from "../../relay/policy/policy.ts";
import { goldenPackets } from "./golden.ts";

/** A datagram a fake transport was asked to send, and the link it was to leave by. */
export interface Sent {
  bytes: Uint8Array;
  port: number;
  address: string;
  via: string;
}

/**
 * A transport that records instead of sending; unit tests of the relay paths use it. Sends to an
 * address in `unreachable` fail, as a real socket's callback reports them.
 */
export class FakeTransport implements Transport {
  readonly sent: Sent[] = [];
  readonly unreachable = new Set<string>();
  send(bytes: Uint8Array, port: number, address: string, via: Link, done: (err?: Error) => void): void {
    if (this.unreachable.has(address)) {
      done(new Error(`send ${address}: EHOSTUNREACH`));
      return;
    }
    this.sent.push({ bytes: bytes.slice(), port, address, via: linkName(via) });
    done();
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** A silent logger. */
export const quietLog = pino({ level: "silent" });

/** The default policy with some top-level settings changed (e.g. { existingOption82: "append" }). */
export function policyWith(settings: Record<string, string | number> = {}): Policy {
  let text = DEFAULT_POLICY;
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key}: .*$`, "m");
    text = line.test(text) ? text.replace(line, `${key}: ${value}`) : `${text}\n${key}: ${value}\n`;
  }
  return parsePolicy(text, "test-policy.yaml", ["RED", "BLUE"]);
}

/** A golden packet's bytes by name. */
export function golden(name: string): Uint8Array {
  const p = goldenPackets().find((g) => g.name === name);
  if (!p) throw new Error(`no golden packet ${name}`);
  return p.bytes.slice();
}
