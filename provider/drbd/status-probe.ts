/** The resource's state on one node, read from one run of `buildStatusProbeScript`. */
import { parseAdjustDryRun } from "./adjust-dry-run";
import { probeMarker, PROBE_SECTIONS, type ProbeSection } from "./commands";
import { parseRunningIdentity, type RunningIdentity } from "./running-identity";
import { parseDrbdStatus, parseProcDrbd, tabFields, UNCONFIGURED, type DrbdNodeStatus } from "./status";

export interface NodeProbe {
  /** `uname -n`: must equal the node's `hostname` input. */
  nodename: string;
  /** Version of the DRBD kernel module, loaded or installed; empty when there is none. */
  moduleVersion: string;
  status: DrbdNodeStatus;
  /** The resource is up in the kernel under this name. */
  up: boolean;
  /** The minor is configured in the kernel, but not for this resource: another one holds it. */
  minorTaken: boolean;
  /** The installed /etc/drbd.d/NAME.res, when there is one. */
  installedConfig?: string;
  /** What the kernel runs the resource on (minor, disks, addresses), when it is up. */
  identity?: RunningIdentity;
  /** The option changes `drbdadm adjust` would make to the running resource (see `parseAdjustDryRun`), when there are any. */
  runtimeDrift?: string[];
}

/**
 * Splits the output of `buildStatusProbeScript` and reads the resource's state from it:
 * /proc/drbd's line for the minor when there is one (it has the sync progress), else
 * `drbdsetup status`.
 */
export function parseStatusProbe(output: string, resource: { name: string; minor: number }): NodeProbe {
  const sections = splitProbe(output);
  const head = tabFields(sections.head);
  const proc = parseProcDrbd(sections.proc).devices.get(resource.minor);
  const adm = parseDrbdStatus(sections.status.replace(/^exit\t\d+$/m, ""));
  const up = adm?.name === resource.name;
  let base: DrbdNodeStatus = { ...UNCONFIGURED };
  if (proc) {
    const { minor: _minor, protocol: _protocol, outOfSyncKiB: _oos, ...status } = proc;
    base = status;
  } else if (adm && up) {
    const { name: _name, suspended: _suspended, ...status } = adm;
    base = status;
  }
  const splitBrain = base.connection === "StandAlone" && sections.kernel.includes("Split-Brain detected but unresolved");
  const runtimeDrift = parseAdjustDryRun(sections.adjust);
  const identity = up ? parseRunningIdentity(sections.show) : undefined;
  return {
    nodename: head.nodename ?? "",
    moduleVersion: head.module ?? "",
    status: { ...base, splitBrain },
    up,
    minorTaken: proc !== undefined && proc.connection !== "Unconfigured" && !up,
    ...(sections.config !== "" ? { installedConfig: sections.config } : {}),
    ...(identity ? { identity } : {}),
    ...(runtimeDrift.length > 0 ? { runtimeDrift } : {}),
  };
}

function splitProbe(output: string): Record<"head" | ProbeSection, string> {
  const out: Record<"head" | ProbeSection, string> = { head: "", proc: "", status: "", show: "", kernel: "", adjust: "", config: "" };
  let current: "head" | ProbeSection = "head";
  for (const line of output.split(/(?<=\n)/)) {
    const section = PROBE_SECTIONS.find((s) => line === `${probeMarker(s)}\n`);
    if (section) current = section;
    else out[current] += line;
  }
  return out;
}
