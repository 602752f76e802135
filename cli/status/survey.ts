/**
 * What one node says about itself, in one round trip: its name, its domains (`xl list`, or
 * `xm list` where xl is missing), /proc/drbd, Heartbeat's view (`cl_status`), and whether it
 * reaches its peer on the public and the crossover link. Pure: the script is built here and its
 * output read here; report.ts sends it.
 */
import { parseProcDrbd, type ProcDrbd } from "../../provider/drbd/status";
import { type ResourceHolding } from "../../provider/heartbeat/holding";
import { parseHeartbeatProbe } from "../../provider/heartbeat/status";
import { joinLines, literal, sh, type Shell } from "../../provider/shell";
import { parseDomainList, type DomainEntry } from "../../provider/xen/list";

const MARK = "--8<-- status";
const LIST_TIMEOUT_SECONDS = 10;

/** The peer's addresses this node pings; a missing one is not probed. */
export interface LinkTargets {
  publicAddress?: string | undefined;
  crossoverAddress?: string | undefined;
}

export type LinkName = "public" | "crossover";
/** `unknown`: the node has no `ping`. */
export type LinkState = "up" | "cut" | "unknown";

export type HeartbeatView =
  | { state: "absent" }
  | { state: "stopped" }
  | { state: "running"; resources: ResourceHolding; nodeStatus: Record<string, string> };

export interface NodeSurvey {
  /** `uname -n`. */
  nodename: string;
  /** The toolstack that answered, or undefined when neither xl nor xm is installed. */
  toolstack: "xl" | "xm" | undefined;
  /** The domains, or what went wrong listing them. */
  domains: { ok: true; list: DomainEntry[] } | { ok: false; error: string };
  /** /proc/drbd read, or undefined when the DRBD module is not loaded. */
  drbd: { ok: true; proc: ProcDrbd; finishSeconds: Record<number, number> } | { ok: false; error: string } | undefined;
  heartbeat: HeartbeatView;
  links: { link: LinkName; address: string; state: LinkState }[];
  /** The kernel's boot id; "" when it could not be read. */
  bootId: string;
}

/** The survey script; `procDrbd` is a parameter only so tests can run it against a fixture. */
export function buildSurveyScript(targets: LinkTargets, procDrbd = "/proc/drbd"): Shell {
  const links = (["public", "crossover"] as const).flatMap((link) => {
    const address = link === "public" ? targets.publicAddress : targets.crossoverAddress;
    return address ? [sh`probe_link ${link} ${address}`] : [];
  });
  return joinLines([
    literal("set -u"),
    literal(`echo '${MARK} uname'`),
    literal("uname -n"),
    literal(`echo '${MARK} boot'`),
    literal("cat /proc/sys/kernel/random/boot_id 2>/dev/null || true"),
    literal("if command -v xl >/dev/null 2>&1; then tool=xl; elif command -v xm >/dev/null 2>&1; then tool=xm; else tool=none; fi"),
    literal(`echo "${MARK} domains $tool"`),
    literal(`if [ "$tool" != none ]; then`),
    // A hung toolstack (xenstored stuck) must not cost the rest of the survey.
    literal(`  timeout ${LIST_TIMEOUT_SECONDS} "$tool" list`),
    literal(`  echo "${MARK} domains-exit $?"`),
    literal("fi"),
    sh`if [ -r ${procDrbd} ]; then`,
    literal(`  echo '${MARK} drbd'`),
    sh`  cat ${procDrbd}`,
    literal("else"),
    literal(`  echo '${MARK} drbd absent'`),
    literal("fi"),
    literal(`echo '${MARK} heartbeat'`),
    literal("if ! command -v cl_status >/dev/null 2>&1; then"),
    literal(`  printf 'heartbeat\\tabsent\\n'`),
    literal("elif cl_status hbstatus >/dev/null 2>&1; then"),
    literal(`  printf 'heartbeat\\trunning\\n'`),
    literal(`  printf 'resources\\t%s\\n' "$(cl_status rscstatus 2>/dev/null || true)"`),
    literal("  for n in $(cl_status listnodes 2>/dev/null || true); do"),
    literal(`    printf 'node\\t%s\\t%s\\n' "$n" "$(cl_status nodestatus "$n" 2>/dev/null || true)"`),
    literal("  done"),
    literal("else"),
    literal(`  printf 'heartbeat\\tstopped\\n'`),
    literal("fi"),
    literal(`echo '${MARK} links'`),
    literal("probe_link() {"),
    literal("  if ! command -v ping >/dev/null 2>&1; then s=unknown"),
    literal(`  elif ping -c1 -W1 "$2" >/dev/null 2>&1; then s=up`),
    literal("  else s=cut"),
    literal("  fi"),
    literal(`  printf 'link\\t%s\\t%s\\t%s\\n' "$1" "$2" "$s"`),
    literal("}"),
    ...links,
  ]);
}

/** Reads the survey's output; `stderr` is the script's, which only the domain listing writes to. */
export function parseSurvey(stdout: string, stderr = ""): NodeSurvey {
  const sections = splitSections(stdout);
  const domainsHead = sections.find((s) => s.name === "domains");
  const tool = domainsHead?.args[0];
  const exit = sections.find((s) => s.name === "domains-exit")?.args[0];
  const drbdSection = sections.find((s) => s.name === "drbd");
  return {
    nodename: (sections.find((s) => s.name === "uname")?.body ?? "").trim(),
    bootId: (sections.find((s) => s.name === "boot")?.body ?? "").trim(),
    toolstack: tool === "xl" || tool === "xm" ? tool : undefined,
    domains: domainsOf(tool, exit, domainsHead?.body ?? "", stderr),
    drbd: drbdSection === undefined || drbdSection.args[0] === "absent" ? undefined : procDrbdOf(drbdSection.body),
    heartbeat: heartbeatOf(sections.find((s) => s.name === "heartbeat")?.body ?? ""),
    links: linksOf(sections.find((s) => s.name === "links")?.body ?? ""),
  };
}

interface Section {
  name: string;
  args: string[];
  body: string;
}

function splitSections(text: string): Section[] {
  const sections: Section[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith(`${MARK} `)) {
      const [name = "", ...args] = line.slice(MARK.length + 1).trim().split(/\s+/);
      sections.push({ name, args, body: "" });
    } else if (sections.length > 0) {
      sections[sections.length - 1]!.body += `${line}\n`;
    }
  }
  return sections;
}

function domainsOf(tool: string | undefined, exit: string | undefined, body: string, stderr: string): NodeSurvey["domains"] {
  if (tool === "none") return { ok: false, error: "neither xl nor xm is installed" };
  if (tool === undefined || exit === undefined) return { ok: false, error: "the survey ended before the domain list" };
  const why = stderr.trim().split("\n")[0] ?? "";
  if (exit === "124") return { ok: false, error: `${tool} list did not answer within ${LIST_TIMEOUT_SECONDS} s` };
  if (exit !== "0") return { ok: false, error: `${tool} list failed with exit code ${exit}${why ? `: ${why}` : ""}` };
  try {
    return { ok: true, list: parseDomainList(body) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

function procDrbdOf(body: string): NodeSurvey["drbd"] {
  try {
    return { ok: true, proc: parseProcDrbd(body), finishSeconds: parseSyncFinish(body) };
  } catch (err) {
    return { ok: false, error: `cannot read /proc/drbd: ${(err as Error).message}` };
  }
}

/** The estimated seconds left of each resync, by minor: /proc/drbd's `finish: H:MM:SS` line. */
export function parseSyncFinish(text: string): Record<number, number> {
  const out: Record<number, number> = {};
  let minor: number | undefined;
  for (const line of text.split("\n")) {
    const device = /^\s*(\d+): cs:/.exec(line);
    if (device) minor = Number(device[1]);
    const finish = /\bfinish: (\d+):(\d{1,2}):(\d{1,2})\b/.exec(line);
    if (finish && minor !== undefined) out[minor] = Number(finish[1]) * 3600 + Number(finish[2]) * 60 + Number(finish[3]);
  }
  return out;
}

function heartbeatOf(body: string): HeartbeatView {
  if (/^heartbeat\tabsent$/m.test(body)) return { state: "absent" };
  const report = parseHeartbeatProbe(body);
  return report.heartbeatRunning ? { state: "running", resources: report.resources, nodeStatus: report.nodeStatus } : { state: "stopped" };
}

function linksOf(body: string): NodeSurvey["links"] {
  return body.split("\n").flatMap((line) => {
    const [tag, link, address = "", state] = line.split("\t");
    if (tag !== "link" || (link !== "public" && link !== "crossover")) return [];
    return [{ link, address, state: state === "up" || state === "cut" ? state : "unknown" }];
  });
}
