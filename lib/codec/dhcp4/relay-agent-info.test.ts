import { describe, expect, it } from "vitest";
import { fromHex, hex, text, utf8 } from "../bytes.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { SUBOPT } from "./codes.ts";
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  relayAgentFields,
  subOptionsOf,
} from "./relay-agent-info.ts";

// An option 82 value carrying every sub-option dhcplab names, one a line.
const VALUE = fromHex(
  [
    "010d564944454f5f43495243554954", // 1 Circuit-ID "VIDEO_CIRCUIT" (RFC 3046 §3.1)
    "0206" + "00aa01000001", // 2 Remote-ID: 6 bytes (RFC 3046 §3.2)
    "0504c0a80a00", // 5 Link Selection 192.168.10.0 (RFC 3527 §3)
    "0603726564", // 6 Subscriber-ID "red" (RFC 3993 §3)
    "0b040a000001", // 11 Server ID Override 10.0.0.1 (RFC 5107 §4)
    "970400" + "524544", // 151 VSS: type 0 (NVT ASCII), "RED" (RFC 6607 §3.1)
    "9800", // 152 VSS Control, empty (RFC 6607 §3.2)
    "c80201ff", // 200: unknown, kept as bytes
  ].join(""),
);

describe("Relay Agent Information, option 82 (RFC 3046)", () => {
  it("decodes each sub-option and encodes back the same bytes", () => {
    const subs = decodeRelayAgentInfo(VALUE);
    expect(subs.map((s) => s.code)).toEqual([1, 2, 5, 6, 11, 151, 152, 200]);
    expect(hex(encodeRelayAgentInfo(subs))).toBe(hex(VALUE));
  });

  it("names Circuit-ID and Remote-ID (RFC 3046 §3.1, §3.2)", () => {
    const f = relayAgentFields(decodeRelayAgentInfo(VALUE));
    expect(text(f.circuitId ?? new Uint8Array())).toBe("VIDEO_CIRCUIT");
    expect(hex(f.remoteId ?? new Uint8Array())).toBe("00aa01000001");
  });

  it("names Link Selection (RFC 3527), Subscriber-ID (RFC 3993) and Server ID Override (RFC 5107)", () => {
    const f = relayAgentFields(decodeRelayAgentInfo(VALUE));
    expect(f.linkSelection).toBe("192.168.10.0");
    expect(f.subscriberId).toBe("red");
    expect(f.serverIdOverride).toBe("10.0.0.1");
  });

  it("names Virtual Subnet Selection and its control (RFC 6607)", () => {
    const f = relayAgentFields(decodeRelayAgentInfo(VALUE));
    expect(f.vss?.type).toBe(0);
    expect(text(f.vss?.info ?? new Uint8Array())).toBe("RED");
    expect(f.vssControl).toBe(true);
  });

  it("builds sub-options from fields, in code order", () => {
    const subs = subOptionsOf({
      circuitId: utf8("VIDEO_CIRCUIT"),
      remoteId: fromHex("00aa01000001"),
      linkSelection: "192.168.10.0",
      subscriberId: "red",
      serverIdOverride: "10.0.0.1",
      vss: { type: 0, info: utf8("RED") },
      vssControl: true,
    });
    expect(hex(encodeRelayAgentInfo(subs))).toBe(hex(VALUE.subarray(0, VALUE.length - 4)));
  });

  it("refuses a sub-option that overruns the option, at its code", () => {
    try {
      decodeRelayAgentInfo(fromHex("0105414243"));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DecodeError);
      expect(err).toMatchObject({ code: "overrun", offset: 0 });
    }
  });

  it("refuses to encode sub-options over the option's 255 bytes", () => {
    const big = [
      { code: SUBOPT.circuitId, data: new Uint8Array(200) },
      { code: SUBOPT.remoteId, data: new Uint8Array(60) },
    ];
    expect(() => encodeRelayAgentInfo(big)).toThrow(EncodeError);
  });
});
