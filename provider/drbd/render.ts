/**
 * drbd.conf text for a resource and for the node-wide global/common settings. The same text goes
 * to both nodes: each node picks its own `on` section by `uname -n`.
 */
import { isIP } from "node:net";
import { parseRateKiB, type DrbdNodeInputs, type DrbdResourceInputs, type MetaDisk } from "./schema";

export const MAIN_CONFIG_PATH = "/etc/drbd.conf";
export const CONFIG_DIR = "/etc/drbd.d";
export const GLOBAL_COMMON_PATH = `${CONFIG_DIR}/global_common.conf`;

export function resourceConfigPath(name: string): string {
  return `${CONFIG_DIR}/${name}.res`;
}

/** Settings every resource on a node shares through global_common.conf. */
export interface GlobalCommonSettings {
  usageCount: DrbdResourceInputs["usageCount"];
  /** Default resync rate for resources that set none (each of ours sets its own). */
  resyncRate: string | number;
  drbdVersion: DrbdResourceInputs["drbdVersion"];
}

export function globalSettingsOf(r: DrbdResourceInputs): GlobalCommonSettings {
  return { usageCount: r.usageCount, resyncRate: r.resyncRate, drbdVersion: r.drbdVersion };
}

/**
 * `90M`, `92160` and `92160K` are one rate; writing the largest exact unit keeps the file the same
 * whichever form the input used.
 */
export function formatRate(rate: string | number): string {
  const kib = parseRateKiB(rate);
  if (kib === undefined) throw new Error(`not a DRBD rate: ${rate}`);
  if (kib % (1024 * 1024) === 0) return `${kib / (1024 * 1024)}G`;
  if (kib % 1024 === 0) return `${kib / 1024}M`;
  return `${kib}K`;
}

type Line = string | Section;
interface Section {
  head: string;
  body: Line[];
}

const section = (head: string, body: Line[]): Section => ({ head, body });

function format(lines: readonly Line[], depth = 0): string {
  const indent = "\t".repeat(depth);
  return lines
    .map((line) =>
      typeof line === "string" ? `${indent}${line}\n` : `${indent}${line.head} {\n${format(line.body, depth + 1)}${indent}}\n`,
    )
    .join("");
}

function header(what: string): string {
  return `# ${what}, managed by pulumi-xen-ha.\n# Identical on both nodes; changes made here are overwritten.\n`;
}

/** The global/common file: usage counter and the default resync rate. */
export function renderGlobalCommon(g: GlobalCommonSettings): string {
  const rate = formatRate(g.resyncRate);
  const common = g.drbdVersion === "8.3" ? section("syncer", [`rate ${rate};`]) : section("disk", [`resync-rate ${rate};`]);
  return header("DRBD global and common settings") + format([section("global", [`usage-count ${g.usageCount};`]), section("common", [common])]);
}

/** One resource file, /etc/drbd.d/NAME.res, in the dialect of the resource's `drbdVersion`. */
export function renderResource(r: DrbdResourceInputs): string {
  const rate = formatRate(r.resyncRate);
  const startup = section("startup", [`wfc-timeout ${r.wfcTimeout};`, `degr-wfc-timeout ${r.degrWfcTimeout};`]);
  const netTuning = [
    `after-sb-0pri ${r.afterSb0pri};`,
    `after-sb-1pri ${r.afterSb1pri};`,
    `timeout ${r.timeout};`,
    `connect-int ${r.connectInt};`,
    `ping-int ${r.pingInt};`,
    ...(r.pingTimeout === undefined ? [] : [`ping-timeout ${r.pingTimeout};`]),
    `max-buffers ${r.maxBuffers};`,
    `max-epoch-size ${r.maxEpochSize};`,
  ];
  const hosts = r.nodes.map(hostSection);
  const fencing = r.fencing === undefined ? [] : [`fencing ${r.fencing};`];
  // The schema keeps quotes, backslashes, semicolons and line breaks out of handler commands.
  const handlerLines = [
    ...(r.handlers?.fencePeer === undefined ? [] : [`fence-peer "${r.handlers.fencePeer}";`]),
    ...(r.handlers?.afterResyncTarget === undefined ? [] : [`after-resync-target "${r.handlers.afterResyncTarget}";`]),
  ];
  const handlers = handlerLines.length === 0 ? [] : [section("handlers", handlerLines)];
  // 8.3 has protocol at resource level, a flag for two primaries and the rate in `syncer`; 8.4
  // moved them into `net` and `disk` (its drbdadm still reads the 8.3 form, rewriting it).
  const body: Line[] =
    r.drbdVersion === "8.3"
      ? [
          `protocol ${r.protocol};`,
          ...handlers,
          startup,
          section("disk", [`on-io-error ${r.onIoError};`, ...fencing]),
          section("net", [...(r.allowTwoPrimaries ? ["allow-two-primaries;"] : []), ...netTuning]),
          section("syncer", [`rate ${rate};`]),
          ...hosts,
        ]
      : [
          ...handlers,
          startup,
          section("disk", [`on-io-error ${r.onIoError};`, ...fencing, `resync-rate ${rate};`]),
          section("net", [`protocol ${r.protocol};`, `allow-two-primaries ${r.allowTwoPrimaries ? "yes" : "no"};`, ...netTuning]),
          ...hosts,
        ];
  return header(`DRBD resource ${r.name}`) + format([section(`resource ${r.name}`, body)]);
}

function hostSection(n: DrbdNodeInputs): Section {
  return section(`on ${n.hostname}`, [
    `address ${formatAddress(n.address, n.port)};`,
    `device ${n.device};`,
    `disk ${n.disk};`,
    `meta-disk ${formatMetaDisk(n.metaDisk)};`,
  ]);
}

export function formatAddress(address: string, port: number): string {
  return isIP(address) === 6 ? `ipv6 [${address}]:${port}` : `${address}:${port}`;
}

export function formatMetaDisk(meta: MetaDisk): string {
  return meta === "internal" ? "internal" : `${meta.device}[${meta.index}]`;
}

/** /etc/drbd.conf as drbd-utils ships it: the global file, then every resource file. */
export function renderMainConfig(): string {
  return `# DRBD configuration: the global/common file, then one file per resource.\ninclude "drbd.d/global_common.conf";\ninclude "drbd.d/*.res";\n`;
}

/**
 * Whether an existing /etc/drbd.conf already reads our files (the packaged one does, with relative
 * or absolute paths); when it does, it is left alone.
 */
export function includesOurFiles(mainConfig: string): boolean {
  const includes = [...mainConfig.replace(/#.*$/gm, "").matchAll(/include\s+"([^"]+)"\s*;/g)].map((m) => m[1]!.replace(/^\/etc\//, ""));
  return includes.includes("drbd.d/global_common.conf") && includes.includes("drbd.d/*.res");
}
