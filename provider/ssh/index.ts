import type { Props } from "../lifecycle";
import type { Connection } from "./connection";
import type { Host } from "./host";
import { connect } from "./pool";

/**
 * The host a single-host resource talks to, held to the pinned key, else to the key recorded in
 * its state on first use (`observedHostKey`), else to the key the stack already knows for that SSH
 * server (another resource's pin or record, or this run's first connection to it). Record
 * `host.hostKey` as `observedHostKey` in the outputs.
 */
export function hostOf(connection: Connection, state?: Props): Promise<Host> {
  const recorded = typeof state?.observedHostKey === "string" ? state.observedHostKey : undefined;
  return connect(connection, recorded);
}

export { closeAll, connect, connectionsOpened } from "./pool";
export type { Host } from "./host";
