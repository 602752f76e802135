import { z } from "zod";
import { ValidationError } from "../errors";
import { formatPath, parseInputs } from "../inputs";
import { hostOrIPAddress } from "../values";

/** A pinned host key: OpenSSH's SHA256 fingerprint as `ssh-keygen -lf` prints it. */
export const hostKeyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA256 fingerprint such as "SHA256:abc…" (43 base64 characters, no padding); see `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host');

/** A login name as Debian's useradd takes it (at most 32 characters, no leading -). */
const loginName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, "must be a login name such as root or admin: letters, digits, _ . and -, at most 32 characters, not starting with - or a digit");

/** The fields of a connection, before the rule that one credential must be given. */
const connectionFields = z.object({
  /** Address or name of the host's SSH server: a host name, an IPv4 or an IPv6 address. */
  host: hostOrIPAddress,
  /** SSH port. Default 22. */
  port: z.number().int().min(1).max(65535).default(22),
  /** Login user. Default `root`. */
  user: loginName.default("root"),
  /** Private key in OpenSSH or PEM form (a secret). */
  privateKey: z.string().optional(),
  /** Passphrase of the private key (a secret). */
  privateKeyPassword: z.string().optional(),
  /** Password for password authentication (a secret). */
  password: z.string().optional(),
  /**
   * Pinned host key fingerprint. Without it the first key seen is trusted and recorded in the
   * resource's state; a different key later is refused.
   */
  hostKey: hostKeyFingerprint.optional(),
  /** Run commands through `sudo -n` (for a non-root user with passwordless sudo). Default false. */
  sudo: z.boolean().default(false),
  /** Seconds to wait for the SSH handshake. Default 20. */
  dialTimeoutSeconds: z.number().int().min(1).max(600).default(20),
});

/**
 * How to reach a host over SSH. The shape of `@pulumi/command`'s `remote.Connection`, plus
 * `hostKey` and `sudo`.
 */
export const connectionSchema = connectionFields.refine((c) => c.privateKey !== undefined || c.password !== undefined, {
  message: "needs privateKey or password",
  path: ["privateKey"],
});

export type ConnectionInput = z.input<typeof connectionSchema>;
export type Connection = z.output<typeof connectionSchema>;
/** Connection fields as written, the credentials optional (they may come from a secret later). */
export type ConnectionSettings = z.input<typeof connectionFields>;

/** The key the pool uses: one connection per user on one SSH endpoint. */
export function endpointOf(connection: Pick<Connection, "host" | "port" | "user">): string {
  return `${connection.user}@${connection.host}:${connection.port}`;
}

/** Where the host is, as shown in messages (no credentials). */
export function describeHost(connection: Pick<Connection, "host" | "port">): string {
  return connection.port === 22 ? connection.host : `${connection.host}:${connection.port}`;
}

/**
 * Checks connection settings that come from elsewhere than a resource's inputs, such as a stack's
 * YAML config, the way `check` would: unknown fields (a misspelt `hostKey`) and malformed pins are
 * refused, naming `where` (`xen-ha:connections[0]`) and the field. The credentials may be added
 * afterwards (from a secret), so they are not required here.
 */
export function checkConnectionSettings(raw: unknown, where: string): ConnectionSettings {
  const parsed = parseInputs(connectionFields, raw);
  if (parsed.ok) return raw as ConnectionSettings;
  const failures = parsed.failures.map((f) => ({ property: f.property === formatPath([]) ? where : `${where}.${f.property}`.replace(/\.\[/g, "["), reason: f.reason }));
  throw new ValidationError(where, failures);
}
