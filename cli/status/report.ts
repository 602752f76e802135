/**
 * The status report: the stack's view of the cluster, each node asked once over the package's own
 * SSH layer (held to the host key the stack pinned or recorded), and the screen drawn from both.
 * The only part of the status view that talks to hosts.
 */
import { closeAll, connect } from "../../provider/ssh/pool";
import type { NodeReading, StatusModel } from "./model";
import { assess } from "./assess";
import { renderAssessment } from "./render";
import { clusterFromDeployment, type ClusterNode } from "./state";
import { buildSurveyScript, parseSurvey } from "./survey";

export interface StatusOptions {
  /** The stack's name for the header. Default: the one in the resources' URNs. */
  stack?: string;
  /** The time shown in the header. Default: now. */
  now?: Date;
  /** Seconds to wait for each SSH handshake (the stack's own setting when shorter). Default 5. */
  dialTimeoutSeconds?: number;
  /** Seconds one node may take to connect and answer before it is shown as not answering. Default 30. */
  nodeDeadlineSeconds?: number;
  /** Leave the SSH connections open for the next report (`--watch`). Default false: all are closed. */
  keepConnections?: boolean;
}

export interface StatusReport {
  /** The screen, ending in a newline. */
  text: string;
  /** What needs a person; empty when all is well. */
  needsPerson: string[];
  /** 0 when nothing needs a person, 1 when something does. */
  exitCode: 0 | 1;
  model: StatusModel;
}

const SURVEY_TIMEOUT_MS = 20_000;

/**
 * Reads the cluster of a deployment (`pulumi stack export --show-secrets`, or the Automation
 * API's `stack.exportStack()`) live from its hosts and draws the status screen. A node that cannot
 * be reached is shown as such, never thrown; only a deployment that cannot be read throws.
 */
export async function statusReport(deployment: unknown, options: StatusOptions = {}): Promise<StatusReport> {
  const cluster = clusterFromDeployment(deployment);
  if (cluster.nodes.length === 0) throw new Error("the stack holds no pulumi-xen-ha resource with a connection: nothing to ask");
  try {
    const readings = await Promise.all(cluster.nodes.map((n) => readNode(n, options)));
    const model: StatusModel = {
      stack: options.stack ?? cluster.stack,
      cluster,
      readings: Object.fromEntries(cluster.nodes.map((n, i) => [n.name, readings[i]!])),
    };
    const assessment = assess(model);
    return {
      text: renderAssessment(model.stack, assessment, options.now ?? new Date()),
      needsPerson: assessment.attention,
      exitCode: assessment.attention.length === 0 ? 0 : 1,
      model,
    };
  } finally {
    if (!options.keepConnections) await closeAll();
  }
}

async function readNode(node: ClusterNode, options: StatusOptions): Promise<NodeReading> {
  if (node.refusal !== undefined || node.connection === undefined || node.hostKey === undefined) {
    return { ok: false, refused: true, error: node.refusal ?? `no verified way to reach ${node.endpoint}` };
  }
  const connection = { ...node.connection, dialTimeoutSeconds: Math.min(node.connection.dialTimeoutSeconds, options.dialTimeoutSeconds ?? 5) };
  const deadlineMs = (options.nodeDeadlineSeconds ?? 30) * 1000;
  const ask = async (): Promise<NodeReading> => {
    // The pin is in the connection; a key recorded in the state holds the host the same way.
    const host = await connect(connection, node.hostKey);
    const script = buildSurveyScript({ publicAddress: node.peer.publicAddress, crossoverAddress: node.peer.crossoverAddress });
    const result = await host.exec(script, { timeoutMs: SURVEY_TIMEOUT_MS, okExitCodes: "any" });
    return { ok: true, survey: parseSurvey(result.stdout, result.stderr) };
  };
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<NodeReading>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `${node.name}: no answer within ${deadlineMs / 1000} s` }), deadlineMs);
  });
  try {
    return await Promise.race([ask().catch((err: unknown) => ({ ok: false as const, error: firstLine(err) })), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "unknown error";
}
