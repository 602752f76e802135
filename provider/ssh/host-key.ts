import { createHash } from "node:crypto";
import type { HostKeyExpectation, HostKeySource } from "../errors";

/** OpenSSH's fingerprint of a raw public key blob: `SHA256:` and unpadded base64. */
export function fingerprintOf(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/** The key a host must present, and where that requirement came from (for the error's words). */
export interface ExpectedHostKey {
  key: string;
  expectation: HostKeyExpectation;
}

/**
 * The key a host must present: the user's pin when there is one, else the one recorded in this
 * resource's state on first use, else the one the stack knows for the endpoint (another
 * resource's pin or record, or a key this run has seen), else none yet (trust on first use).
 */
export function expectedHostKey(pinned: string | undefined, recorded: string | undefined, known: HostKeySource | undefined): ExpectedHostKey | undefined {
  if (pinned !== undefined) return { key: pinned, expectation: { from: "pin" } };
  if (recorded !== undefined) return { key: recorded, expectation: { from: "record" } };
  if (known !== undefined) return { key: known.key, expectation: { from: "known", source: known.source } };
  return undefined;
}
