/**
 * What a Corosync node reports (buildCorosyncProbeScript), read back into facts, and how they
 * differ from the inputs. Pure.
 */
import { createHash } from "node:crypto";
import { corosyncPaths, renderCorosyncConf, stackServices } from "./render";
import { quorumModeOf, type CorosyncClusterInputs } from "./schema";

export interface FileFacts {
  sha256: string;
  mode: string;
}

export interface ServiceFacts {
  active: string;
  enabled: string;
}

export interface QuorumMember {
  nodeId: number;
  votes: number;
  name: string;
}

/** votequorum's view from one node (`corosync-quorumtool -s`), while corosync runs. */
export interface QuorumFacts {
  quorate: boolean;
  expectedVotes: number;
  totalVotes: number;
  flags: string[];
  members: QuorumMember[];
  /** The arbiter's vote counts (a `Qdevice` row with votes). */
  arbiterVotes: number;
}

export interface CorosyncNodeReport {
  nodeName: string;
  files: Record<string, FileFacts | null>;
  services: Record<string, ServiceFacts>;
  packages: Record<string, boolean>;
  bootId: string;
  quorum: QuorumFacts | undefined;
}

export function parseCorosyncProbe(output: string): CorosyncNodeReport {
  const r: CorosyncNodeReport = { nodeName: "", files: {}, services: {}, packages: {}, bootId: "", quorum: undefined };
  const quorumLines: string[] = [];
  for (const line of output.split("\n")) {
    const [tag, a = "", b = "", c = ""] = line.split("\t");
    switch (tag) {
      case "uname":
        r.nodeName = a.trim();
        break;
      case "file":
        r.files[a] = b ? { sha256: b, mode: c.trim().padStart(4, "0") } : null;
        break;
      case "service":
        r.services[a] = { active: b.trim(), enabled: c.trim() };
        break;
      case "package":
        r.packages[a] = b.trim() !== "" && b.trim() !== "0";
        break;
      case "boot":
        r.bootId = a.trim();
        break;
      case "quorum":
        quorumLines.push(line.slice("quorum\t".length));
        break;
    }
  }
  if (quorumLines.length > 0) r.quorum = parseQuorumStatus(quorumLines.join("\n"));
  return r;
}

/** `corosync-quorumtool -s`: its `Key: value` lines and the membership table. */
export function parseQuorumStatus(text: string): QuorumFacts {
  const value = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, "m").exec(text)?.[1]?.trim() ?? "";
  const members: QuorumMember[] = [];
  let arbiterVotes = 0;
  let inTable = false;
  for (const line of text.split("\n")) {
    if (/^\s*Nodeid\s+Votes/.test(line)) {
      inTable = true;
      continue;
    }
    if (!inTable) continue;
    const cols = line.trim().split(/\s+/);
    if (cols.length < 3 || !/^\d+$/.test(cols[0]!) || !/^\d+$/.test(cols[1]!)) continue;
    const votes = Number(cols[1]);
    // The qdevice's row: node id 0, named Qdevice.
    if (cols[0] === "0" && cols[cols.length - 1] === "Qdevice") {
      arbiterVotes = votes;
      continue;
    }
    // Columns after the votes: the qdevice state (A,V,NMW) when a qdevice is configured, the name, "(local)".
    const rest = cols.slice(2).filter((c) => c !== "(local)");
    members.push({ nodeId: Number(cols[0]), votes, name: rest[rest.length - 1] ?? "" });
  }
  return {
    quorate: value("Quorate") === "Yes",
    expectedVotes: Number(value("Expected votes")) || 0,
    totalVotes: Number(value("Total votes")) || 0,
    flags: value("Flags").split(/\s+/).filter((f) => f !== ""),
    members,
    arbiterVotes,
  };
}

export const sha256Of = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

/** What on one node differs from the inputs: the entries are phrases for the drift output. */
export function corosyncDrift(c: CorosyncClusterInputs, report: CorosyncNodeReport): string[] {
  const drift: string[] = [];
  const conf = report.files[corosyncPaths.conf];
  if (!conf) drift.push("corosync.conf missing");
  else if (conf.sha256 !== sha256Of(renderCorosyncConf(c))) drift.push("corosync.conf differs");
  const key = report.files[corosyncPaths.authkey];
  if (!key) drift.push("authkey missing");
  else {
    if (key.sha256 !== sha256Of(c.authKey)) drift.push("authkey differs");
    if (key.mode !== "0400") drift.push(`authkey mode ${key.mode}`);
  }
  for (const s of stackServices(c)) {
    const facts = report.services[s];
    if (facts?.active !== "active") drift.push(`${s} not running`);
    if (c.startAtBoot && facts?.enabled !== "enabled") drift.push(`${s} not enabled at boot`);
  }
  return drift;
}

/** Why the cluster is not yet formed as the inputs say, from every node's report; empty when it is. */
export function membershipProblems(c: CorosyncClusterInputs, reports: readonly (CorosyncNodeReport | undefined)[]): string[] {
  const problems: string[] = [];
  const names = c.nodes.map((n) => n.name);
  reports.forEach((r, i) => {
    const node = c.nodes[i]!.name;
    if (!r?.quorum) return problems.push(`${node}: corosync does not answer`);
    if (!r.quorum.quorate) problems.push(`${node}: not quorate`);
    const seen = r.quorum.members.map((m) => m.name);
    const missing = names.filter((n) => !seen.includes(n));
    if (missing.length > 0) problems.push(`${node} does not see ${missing.join(", ")}`);
    if (quorumModeOf(c) === "arbiter" && r.quorum.arbiterVotes < 1) problems.push(`${node}: the arbiter's vote is not counted (corosync-qdevice-tool -s says why)`);
    return undefined;
  });
  return problems;
}
