import { createHash } from "node:crypto";
import { HostKeyMismatchError } from "../errors";

/** OpenSSH's fingerprint of a raw public key blob: `SHA256:` and unpadded base64. */
export function fingerprintOf(keyBlob: Buffer): string {
  return "SHA256:" + createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "");
}

/**
 * The key a host must present: the user's pin when there is one, else the one recorded in state
 * on first use, else none yet (trust on first use).
 */
export function expectedHostKey(pinned: string | undefined, recorded: string | undefined): string | undefined {
  return pinned ?? recorded;
}

export function verifyHostKey(host: string, expected: string | undefined, presented: string): void {
  if (expected !== undefined && expected !== presented) {
    throw new HostKeyMismatchError(host, expected, presented);
  }
}
