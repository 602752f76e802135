/**
 * The thin layer that runs the counters' commands on the lab's nodes (through the system ssh with
 * the lab's key and pinned host keys, never through `timeout`, so that it is not counted itself).
 */
import { readFileSync } from "node:fs";
import { LAB_NODES, labConnection, labExec, type LabNodeName } from "../test/support/lab";
import type { Shell } from "../provider/shell";
import {
  buildInstallCommand,
  buildMarkCommand,
  buildReadCommand,
  buildRemoveCommand,
  countFromThisMachine,
  parseMark,
  parseReading,
  renderWrapper,
  WRAPPER_PATH,
  type CounterMark,
  type HostCount,
} from "./counters";
import type { Endpoint } from "./per-command";

async function run(node: LabNodeName, command: Shell, stdin?: string): Promise<string> {
  const r = await labExec(node, command.text, { timeoutMs: 120_000, ...(stdin !== undefined ? { stdin } : {}) });
  if (r.code !== 0) throw new Error(`${node}: ${command.display.split("\n").slice(0, 3).join(" / ")} … exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Puts the logging `timeout` in front of the real one on every node, and checks that root's PATH finds it. */
export async function installCounters(nodes: readonly LabNodeName[] = LAB_NODES): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      const resolved = (await run(node, buildInstallCommand(), renderWrapper())).trim();
      if (resolved !== WRAPPER_PATH) throw new Error(`${node}: timeout resolves to ${resolved}, not ${WRAPPER_PATH}: commands would not be counted`);
    }),
  );
}

export async function removeCounters(nodes: readonly LabNodeName[] = LAB_NODES): Promise<void> {
  await Promise.all(nodes.map((node) => run(node, buildRemoveCommand())));
}

export type Marks = Partial<Record<LabNodeName, CounterMark>>;

/** Where counting starts, on every node. */
export async function markCounters(nodes: readonly LabNodeName[] = LAB_NODES): Promise<Marks> {
  const entries = await Promise.all(nodes.map(async (node) => [node, parseMark(await run(node, buildMarkCommand()))] as const));
  return Object.fromEntries(entries);
}

/** What every node counted from this machine since its mark. */
export async function readCounters(marks: Marks): Promise<Partial<Record<LabNodeName, HostCount>>> {
  const entries = await Promise.all(
    (Object.entries(marks) as [LabNodeName, CounterMark][]).map(async ([node, mark]) => [node, countFromThisMachine(parseReading(await run(node, buildReadCommand(mark))), mark)] as const),
  );
  return Object.fromEntries(entries);
}

/** A node's SSH endpoint with the lab's key and the node's pinned host key, for connections of their own. */
export function labEndpoint(node: LabNodeName): Endpoint {
  const lab = labConnection();
  const n = lab.nodes[node];
  return { host: n.host, port: n.port, user: n.user, privateKey: readFileSync(lab.privateKeyPath, "utf8"), hostKey: n.hostKey };
}
