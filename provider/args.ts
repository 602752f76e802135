import type * as pulumi from "@pulumi/pulumi";

/** A value where every level may be an Output, a Promise or plain: what users pass as resource args. */
export type DeepInput<T> = pulumi.Input<
  T extends string | number | boolean | undefined | null ? T : { [K in keyof T]: DeepInput<T[K]> }
>;

/** Resource args derived from the zod input type of a schema. */
export type ArgsOf<T> = { [K in keyof T]: DeepInput<T[K]> };

/**
 * How to reach a host over SSH, as every resource (and the `TwoNodeXenHa` component) takes it:
 * each field a plain value or an Input of its own, and the whole object may be an Input too. So a
 * secret key read from config goes in as it is:
 * `connection: { host: "10.1.1.100", user: "root", privateKey: config.requireSecret("sshKey"), hostKey }`.
 * The shape of `@pulumi/command`'s `remote.Connection`, plus `hostKey` and `sudo`.
 */
export interface ConnectionArgs {
  /** Address or name of the host's SSH server: a host name, an IPv4 or an IPv6 address. */
  host: pulumi.Input<string>;
  /** SSH port. Default 22. */
  port?: pulumi.Input<number>;
  /** Login user. Default `root`. */
  user?: pulumi.Input<string>;
  /** Private key in OpenSSH or PEM form (a secret). One of privateKey or password is needed. */
  privateKey?: pulumi.Input<string>;
  /** Passphrase of the private key (a secret). Default none. */
  privateKeyPassword?: pulumi.Input<string>;
  /** Password for password authentication (a secret). One of privateKey or password is needed. */
  password?: pulumi.Input<string>;
  /**
   * Pinned host key, OpenSSH's `SHA256:` fingerprint (`ssh-keygen -lf`). Default none: the first key
   * seen is trusted and recorded in the state, and a different key later is refused.
   */
  hostKey?: pulumi.Input<string>;
  /** Run commands through `sudo -n` (a non-root user with passwordless sudo). Default false. */
  sudo?: pulumi.Input<boolean>;
  /** Seconds to wait for the SSH handshake. Default 20. */
  dialTimeoutSeconds?: pulumi.Input<number>;
}

