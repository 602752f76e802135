import { z } from "zod";

/** A pinned host key: OpenSSH's SHA256 fingerprint as `ssh-keygen -lf` prints it. */
export const hostKeyFingerprint = z
  .string()
  .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must be an OpenSSH SHA256 fingerprint such as "SHA256:abc…" (43 base64 characters, no padding); see `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host');

/**
 * How to reach a host over SSH. The shape of `@pulumi/command`'s `remote.Connection`, plus
 * `hostKey` and `sudo`.
 */
export const connectionSchema = z
  .object({
    /** Address or name of the host's SSH server. */
    host: z.string().min(1, "must name the host's SSH address"),
    /** SSH port. Default 22. */
    port: z.number().int().min(1).max(65535).default(22),
    /** Login user. Default `root`. */
    user: z.string().min(1).default("root"),
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
  })
  .refine((c) => c.privateKey !== undefined || c.password !== undefined, {
    message: "needs privateKey or password",
    path: ["privateKey"],
  });

export type ConnectionInput = z.input<typeof connectionSchema>;
export type Connection = z.output<typeof connectionSchema>;

/** The key the pool uses: one connection per user on one SSH endpoint. */
export function endpointOf(connection: Pick<Connection, "host" | "port" | "user">): string {
  return `${connection.user}@${connection.host}:${connection.port}`;
}

/** Where the host is, as shown in messages (no credentials). */
export function describeHost(connection: Pick<Connection, "host" | "port">): string {
  return connection.port === 22 ? connection.host : `${connection.host}:${connection.port}`;
}
