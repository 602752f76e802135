/**
 * Fencing for Heartbeat in release-1 mode: the cluster-glue device that resets each node, the
 * `stonith_host` lines that configure it, who waits in a fence race, and DRBD's peer outdater
 * (dopd).
 */
import { isUnknown } from "../inputs";
import { literal, type Shell } from "../shell";
import { checkedString } from "../values";
import type { NodeIndex } from "./node-index";

const STONITH_TYPE = /^[a-z0-9_-]+(\/[a-z0-9_.-]+)?$/;

/** A cluster-glue STONITH type as `stonith -L` lists it: `external/ipmi`, `ipmilan`. */
export const stonithType = checkedString((v) =>
  STONITH_TYPE.test(v) && v.length <= 64 ? undefined : "must be a cluster-glue STONITH type as `stonith -L` lists it, such as external/ipmi",
);

/** External plugins receive their parameters as environment variables of these names. */
export const stonithParameterName = checkedString((v) =>
  /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(v) ? undefined : "must be a parameter name as `stonith -t TYPE -n` prints it (letters, digits and _, not starting with a digit)",
);

/**
 * Why a value cannot go on the `stonith_host` line, or undefined. Heartbeat zaps everything after
 * `#` on an ha.cf line and cluster-glue splits the rest at white space into positional parameters,
 * so a value is one non-empty word without `#`. The reasons never repeat the value: it may be a
 * password.
 */
export function stonithParameterValueProblem(v: string): string | undefined {
  if (v === "") return "must not be empty: Heartbeat reads the parameters by position, so an empty one would shift the rest";
  if (!/^[!-~]+$/.test(v)) return "must be one word of printable ASCII (no spaces or line breaks): Heartbeat splits the stonith_host line at white space";
  if (v.includes("#")) return "must not contain #: Heartbeat reads the rest of an ha.cf line after # as a comment";
  return v.length > 255 ? "must be at most 255 characters" : undefined;
}

export const stonithParameterValue = checkedString(stonithParameterValueProblem);

interface KnownStonithType {
  /** The parameters in the order the plugin's `getconfignames` prints them. */
  order: readonly string[];
  /** The parameter that names the node the device powers: one name, or a comma-separated `NAME[:ALIAS]` list. */
  names: { parameter: string; list: boolean };
  /** The parameter that makes the plugin wait that many seconds before a reset, if it has one. */
  delayParameter?: string;
}

/**
 * Types whose parameter order the package knows: external/ipmi as Debian bookworm's cluster-glue
 * 1.0.12 ships it (newer upstream versions insert `ipport`), and the lab's power switch
 * (lab/fence/xen-ha-lab-switch, with its `reset_delay`). The order is checked on the nodes before
 * ha.cf is written.
 */
export const KNOWN_STONITH_TYPES: Readonly<Record<string, KnownStonithType>> = {
  "external/ipmi": { order: ["hostname", "ipaddr", "userid", "passwd", "interface"], names: { parameter: "hostname", list: false } },
  "external/xen-ha-lab-switch": {
    order: ["hostlist", "switch_address", "switch_port", "secret_file", "reset_delay"],
    names: { parameter: "hostlist", list: true },
    delayParameter: "reset_delay",
  },
};

const knownType = (type: string): KnownStonithType | undefined => (Object.hasOwn(KNOWN_STONITH_TYPES, type) ? KNOWN_STONITH_TYPES[type] : undefined);

export interface Stonith {
  type: string;
  devices: readonly [Readonly<Record<string, string>>, Readonly<Record<string, string>>];
  parameterOrder?: readonly string[] | undefined;
  fenceDelaySeconds: number;
  delayParameter?: string | undefined;
}

/** The order the parameters go on the line: the program's, else the known one for the type. */
export function parameterOrderOf(s: Pick<Stonith, "type" | "parameterOrder">): readonly string[] | undefined {
  return s.parameterOrder ?? knownType(s.type)?.order;
}

/** The parameter the package fills from fenceDelaySeconds: the program's, else the known type's (with its known order). */
export function delayParameterOf(s: Pick<Stonith, "type" | "parameterOrder" | "delayParameter">): string | undefined {
  return s.delayParameter ?? (s.parameterOrder ? undefined : knownType(s.type)?.delayParameter);
}

export interface StonithProblem {
  /** Relative to the `stonith` input. */
  path: (string | number)[];
  message: string;
}

/** What keeps the parameters from being written by position, each with the field and the fix. */
export function stonithProblems(s: Stonith): StonithProblem[] {
  // A refused type is reported by itself, not as one whose order is unknown.
  if (!STONITH_TYPE.test(s.type)) return [];
  const order = parameterOrderOf(s);
  if (!order) {
    return [{
      path: ["parameterOrder"],
      message:
        `is needed for ${s.type}: the package knows the order of ${Object.keys(KNOWN_STONITH_TYPES).join(" and ")} only. ` +
        `List the parameter names in the order \`stonith -t ${s.type} -n\` prints them on the nodes`,
    }];
  }
  const problems: StonithProblem[] = [];
  const delay = delayParameterOf(s);
  order.forEach((name, i) => {
    if (order.indexOf(name) !== i) problems.push({ path: ["parameterOrder", i], message: `lists ${name} twice` });
  });
  if (s.fenceDelaySeconds > 0 && delay === undefined) {
    problems.push({
      path: ["fenceDelaySeconds"],
      message:
        `needs a delay parameter: Heartbeat release 1 has no fencing delay of its own, so the wait must come from the plugin` +
        `${s.parameterOrder ? "" : `, and ${s.type} takes none`}. Name the plugin's delay parameter in delayParameter, or leave fenceDelaySeconds at 0`,
    });
  }
  if (delay !== undefined && !order.includes(delay)) {
    problems.push({ path: ["delayParameter"], message: `must be one of the plugin's parameters (${order.join(" ")}): add it to parameterOrder where \`stonith -t ${s.type} -n\` lists it` });
  }
  const expected = order.filter((name) => name !== delay);
  s.devices.forEach((device, i) => {
    const missing = expected.filter((name) => !Object.hasOwn(device, name));
    if (missing.length > 0) {
      problems.push({ path: ["devices", i], message: `lacks ${missing.join(", ")}: Heartbeat reads the parameters by position, so each device needs all of ${expected.join(" ")}` });
    }
    for (const name of Object.keys(device)) {
      if (name === delay) {
        problems.push({ path: ["devices", i, name], message: "is the delay parameter, which the package sets from fenceDelaySeconds: remove it here" });
      } else if (!order.includes(name)) {
        const hint = s.parameterOrder ? "" : `; if the nodes' ${s.type} takes it, list every parameter in parameterOrder`;
        problems.push({ path: ["devices", i, name], message: `is not a parameter of ${s.type} (${order.join(" ")})${hint}` });
      }
    }
  });
  return problems;
}

/**
 * For the types that name the node they power: `devices[i]` must name `nodes[i]`, so swapped
 * devices are refused instead of making a node reset itself when it fences its peer.
 */
export function stonithNodeProblems(s: Pick<Stonith, "type" | "devices">, nodeNames: readonly [string, string]): StonithProblem[] {
  const names = knownType(s.type)?.names;
  if (!names) return [];
  return ([0, 1] as const).flatMap((i): StonithProblem[] => {
    const value = s.devices[i][names.parameter];
    if (typeof value !== "string" || isUnknown(value) || isUnknown(nodeNames[i])) return [];
    const named = names.list ? value.split(",").map((entry) => entry.split(":")[0]!) : [value];
    if (named.some((n) => n.toLowerCase() === nodeNames[i].toLowerCase())) return [];
    return [{
      path: ["devices", i, names.parameter],
      message: `must name ${nodeNames[i]}: devices[${i}] is the device that powers nodes[${i}], which its peer uses to reset it`,
    }];
  });
}

/** The node that wins a fence race: nodes[0] (the seed's ha1). */
export const PREFERRED_SURVIVOR: NodeIndex = 0;

/**
 * Seconds node `fencer` waits before resetting its peer. When both links fail, each node sees the
 * other dead and resets it; the one that is not the preferred survivor waits, so the survivor's
 * reset lands first and the waiting node never gets to send its own.
 */
export function fenceDelayOf(fencer: NodeIndex, fenceDelaySeconds: number): number {
  return fencer === PREFERRED_SURVIVOR ? 0 : fenceDelaySeconds;
}

/**
 * One `stonith_host HOSTFROM TYPE PARAMS…` line per node, HOSTFROM being the peer of the node the
 * device powers. Heartbeat builds a device only from the lines that name it as HOSTFROM (or `*`)
 * and keeps one device, so with per-node lines each node holds exactly the device that resets its
 * peer; `*` would hand both nodes both devices, the last one winning.
 */
export function renderStonithHostLines(s: Stonith, nodeNames: readonly [string, string]): string[] {
  const order = parameterOrderOf(s);
  if (!order) throw new Error(`stonith: no parameter order for ${s.type}`);
  const delay = delayParameterOf(s);
  return ([0, 1] as const).map((powered) => {
    const fencer: NodeIndex = powered === 0 ? 1 : 0;
    const values = order.map((name) => {
      if (name === delay) return String(fenceDelayOf(fencer, s.fenceDelaySeconds));
      const value = s.devices[powered][name];
      if (value === undefined) throw new Error(`stonith.devices[${powered}] lacks ${name}`);
      return value;
    });
    return `stonith_host ${nodeNames[fencer]} ${s.type} ${values.join(" ")}`;
  });
}

/** dopd as Debian bookworm's heartbeat package installs it (older packages: /usr/lib/heartbeat/dopd). */
export const DOPD_PATH = "/usr/libexec/heartbeat/dopd";

/** What ha.cf needs for DRBD's drbd-peer-outdater to reach the peer's dopd over Heartbeat's links. */
export const DOPD_LINES: readonly string[] = [`respawn hacluster ${DOPD_PATH}`, "apiauth dopd gid=haclient uid=hacluster"];

/**
 * dopd runs as hacluster and outdates a resource through drbdadm, whose drbdsetup and drbdmeta
 * need root: Heartbeat's README.dopd makes them setuid root, runnable only by root and the
 * haclient group (drbdadm warns about a fence-peer handler of drbd-peer-outdater otherwise).
 */
export function buildDopdPermissionsScript(): Shell {
  return literal(
    [
      "set -eu",
      'for f in /usr/lib/drbd/drbdsetup-84 /usr/lib/drbd/drbdsetup-83 "$(command -v drbdsetup || true)" "$(command -v drbdmeta || true)"; do',
      '  [ -n "$f" ] && [ -f "$f" ] && [ ! -L "$f" ] || continue',
      '  chgrp haclient "$f"',
      '  chmod 4750 "$f"',
      "done",
    ].join("\n"),
  );
}
