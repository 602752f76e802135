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

/** One host of a cluster resource: its position in the resource's `nodes` and its name there. */
export interface NamedHost {
  index: number;
  name: string;
  host: Host;
}

/** A cluster's nodes at once, in order, each held to the key recorded for it at the same position (`observedHostKeys`). */
export async function namedHostsOf(nodes: readonly { name: string; connection: Connection }[], recorded: readonly (string | undefined)[] = []): Promise<NamedHost[]> {
  const hosts = await Promise.all(nodes.map((n, i) => connect(n.connection, recorded[i])));
  return hosts.map((host, index) => ({ index, name: nodes[index]!.name, host }));
}

export { closeAll, connect, connectionsOpened } from "./pool";
export type { Host } from "./host";
