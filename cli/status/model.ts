/** The plain value a status screen is drawn from: the stack's view of the cluster and each node's answer. */
import type { ClusterState } from "./state";
import type { NodeSurvey } from "./survey";

/** One node's answer, or why there is none (unreachable, or not asked because it could not be verified). */
export type NodeReading = { ok: true; survey: NodeSurvey } | { ok: false; error: string; refused?: boolean };

export interface StatusModel {
  /** The stack's name for the header. */
  stack: string | undefined;
  cluster: ClusterState;
  /** By node name. */
  readings: Record<string, NodeReading>;
}

/** The order of the "Needs a person" list: what can lose data first. */
export const Rank = { twoGuests: 0, splitBrain: 1, node: 2, link: 3, drbd: 4, guest: 5, away: 6, heartbeat: 7, other: 8 } as const;

export interface AttentionItem {
  rank: number;
  text: string;
}

export function surveyOf(model: StatusModel, node: string): NodeSurvey | undefined {
  const r = model.readings[node];
  return r?.ok ? r.survey : undefined;
}

/** "ha1", "ha1 and ha2", "ha1, ha2 and ha3". */
export function listing(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}
