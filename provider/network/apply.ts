/**
 * The job that applies new interface settings on a node (pure: script text and commands out). It
 * runs detached from the SSH session and restores the old settings unless the provider confirms
 * it still reaches the node.
 */
import { joinLines, literal, sh, type Shell } from "../shell";
import { shellFileBody } from "../shell-file";
import { stateDirectory } from "./render";

/** How new interface settings are applied on a node, decided by `planInterfacesApply`. */
export interface InterfacesApplyPlan {
  /** Names the job's script, status, log and confirmation files. Letters, digits, _ and -. */
  jobId: string;
  /** Files to install, each from where the lifecycle staged it; the old ones are kept until confirmed. */
  files: { live: string; staged: string }[];
  /** Interfaces whose current settings are taken down first, in this order. */
  takeDown: string[];
  /** Devices left without IPv4 addresses once down (a NIC about to become a bridge port). */
  flush: string[];
  /** Interfaces brought up with the new settings, in this order. */
  bringUp: string[];
  /** Seconds to wait for the provider's confirmation before restoring the old settings; 0 waits for none. */
  confirmSeconds: number;
}

/** The files of one job; `directory` is for tests. */
export function jobFiles(jobId: string, directory: string = stateDirectory) {
  if (!/^[A-Za-z0-9_-]+$/.test(jobId)) throw new Error(`job id ${JSON.stringify(jobId)} may hold only letters, digits, _ and -`);
  const base = `${directory}/${jobId}`;
  return { script: `${base}.sh`, status: `${base}.status`, log: `${base}.log`, confirm: `${base}.confirm`, backup: `${base}.backup` };
}

/**
 * The script that applies new interface settings, as the content of a file the lifecycle uploads
 * and starts with `buildStartJobCommand`. It runs detached from the SSH session, so a connection
 * that drops while the public address moves onto the bridge does not stop it half way; and unless
 * the provider confirms it still reaches the node, it puts the old settings back.
 */
export function renderInterfacesApplyScript(plan: InterfacesApplyPlan, directory: string = stateDirectory): string {
  const f = jobFiles(plan.jobId, directory);
  for (const file of plan.files) {
    if (/[\t\n]/.test(file.live + file.staged)) throw new Error(`interface file paths may not hold a tab or a line break: ${JSON.stringify(file)}`);
  }
  return `${joinLines([
    literal("#!/bin/sh"),
    literal("# Applies NodeNetwork's interface settings; written by pulumi-xen-ha."),
    literal("set -u"),
    sh`STATUS=${f.status}`,
    sh`CONFIRM=${f.confirm}`,
    sh`BACKUP=${f.backup}`,
    sh`LOG=${f.log}`,
    sh`FILES=${plan.files.map((file) => `${file.live}\t${file.staged}`).join("\n")}`,
    sh`TAKE_DOWN=${plan.takeDown.join(" ")}`,
    sh`FLUSH=${plan.flush.join(" ")}`,
    sh`BRING_UP=${plan.bringUp.join(" ")}`,
    sh`CONFIRM_SECONDS=${plan.confirmSeconds}`,
  ]).text}\n${shellFileBody(__dirname, "interfaces-apply.sh")}`;
}

/**
 * Starts an uploaded job script outside the SSH session: as a transient systemd unit where systemd
 * runs, else in its own session. Returns at once; poll with `buildJobStatusCommand`.
 */
export function buildStartJobCommand(jobId: string): Shell {
  const f = jobFiles(jobId);
  return joinLines([
    literal("set -eu"),
    sh`rm -f ${f.status} ${f.confirm}`,
    literal("if command -v systemd-run >/dev/null 2>&1 && [ -d /run/systemd/system ]; then"),
    sh`  systemd-run --quiet --collect --unit=${`pulumi-xen-ha-${jobId}`} sh ${f.script}`,
    literal("else"),
    sh`  setsid sh ${f.script} </dev/null >/dev/null 2>&1 &`,
    literal("fi"),
  ]);
}

/** Prints the job's status line (`pending` before it wrote one), then the tail of its log. */
export function buildJobStatusCommand(jobId: string): Shell {
  const f = jobFiles(jobId);
  return joinLines([sh`cat ${f.status} 2>/dev/null || echo pending`, literal("echo '--8<--'"), sh`tail -n 40 ${f.log} 2>/dev/null || true`]);
}

/** Tells a waiting job that the provider reached the node with the new settings. */
export function buildConfirmJobCommand(jobId: string): Shell {
  return sh`touch ${jobFiles(jobId).confirm}`;
}

export type JobPhase = "pending" | "applying" | "applied" | "confirmed" | "rolling-back" | "rolled-back";

export interface JobStatus {
  phase: JobPhase;
  /** Why it rolled back. */
  reason: string;
  log: string;
}

export function parseJobStatus(output: string): JobStatus {
  const [head = "", log = ""] = output.split("\n--8<--\n");
  const line = head.trim().split("\n")[0] ?? "";
  const [word = "", ...rest] = line.split(":");
  const phases: readonly JobPhase[] = ["pending", "applying", "applied", "confirmed", "rolling-back", "rolled-back"];
  const phase = phases.find((p) => p === word.trim()) ?? "pending";
  return { phase, reason: rest.join(":").trim(), log: log.trimEnd() };
}
