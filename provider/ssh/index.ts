import type { Props } from "../lifecycle";
import type { Connection } from "./connection";
import type { Host } from "./host";
import { connect } from "./pool";

/**
 * The host a resource talks to, held to the pinned key or to the key recorded in its state on
 * first use (`observedHostKey`).
 */
export function hostOf(connection: Connection, state?: Props): Promise<Host> {
  const recorded = typeof state?.observedHostKey === "string" ? state.observedHostKey : undefined;
  return connect(connection, recorded);
}

export { closeAll, connectionsOpened } from "./pool";
export type { Host } from "./host";
