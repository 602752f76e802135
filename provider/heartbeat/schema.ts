/**
 * Inputs of a two-node Heartbeat cluster in v1 mode (`haresources`), with the seed's values as
 * defaults, and the checks that need more than one field to decide.
 */
import { z } from "zod";
import { connectionSchema } from "../ssh/connection";
import type { NodeIndex } from "./node-index";
import { stonithNodeProblems, stonithParameterName, stonithParameterValue, stonithProblems, stonithType } from "./fencing";
import { domUName } from "../xen/schema";
import { absolutePath, absolutePathProblem, checkedString, hostName, hostOrIPv4Address, interfaceName, ipv4Address } from "../values";

/** A node name as `uname -n` prints it: Heartbeat matches `node` lines and haresources against it. */
export const heartbeatNodeName = hostName;

/** A host name or address the dom0 resolves (xl hands it to sh unquoted, so name characters only). */
const peerAddress = hostOrIPv4Address;

/**
 * The resource scripts Debian's heartbeat package (and drbd-utils' drbddisk) install in
 * /etc/ha.d/resource.d: a group of that name would overwrite one, and removing the group would
 * delete it. Compared ignoring case, so no group differs from one of them by case alone.
 */
export const STOCK_RESOURCE_SCRIPTS = [
  "IPaddr", "IPaddr2", "IPsrcaddr", "IPv6addr", "LVM", "LinuxSCSI", "MailTo", "OCF", "Raid1", "SendArp", "ServeRAID", "WAS",
  "WinPopup", "Xinetd", "apache", "db2", "drbddisk", "Filesystem", "hto-mapfuncs", "ids", "portblock", "AudibleAlarm", "Delay", "ICP",
] as const;

const stockScripts = new Set(STOCK_RESOURCE_SCRIPTS.map((n) => n.toLowerCase()));

/** The resource script's name: a new file in /etc/ha.d/resource.d, never one of the package's. */
export const resourceGroupName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "must be a script name of letters, digits, _ and -, starting with a letter or digit")
  .refine((n) => !stockScripts.has(n.toLowerCase()), {
    message: `is the name of a resource script the heartbeat package installs in /etc/ha.d/resource.d (${STOCK_RESOURCE_SCRIPTS.join(", ")}); choose another, such as xendomainsHA1`,
  });

/** Where the groups' directories live: under xendomains' own /etc/xen/auto, one level down. */
export const AUTO_DIRECTORY_PARENT = "/etc/xen/auto";

/**
 * A group's directory of DomU links: `/etc/xen/auto/NAME`, exactly one level below /etc/xen/auto.
 * Updates and deletes remove every symlink in it that names no DomU of the group, so it must be a
 * directory this package owns: not /etc/xen/auto itself (the stock xendomains' links), and no
 * path elsewhere or deeper.
 */
const AUTO_DIRECTORY = new RegExp(`^${AUTO_DIRECTORY_PARENT}/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$`);
export const autoDirectory = checkedString((p) =>
  absolutePathProblem(p) ??
  (AUTO_DIRECTORY.test(p)
    ? undefined
    : `must be a directory directly under ${AUTO_DIRECTORY_PARENT}/, such as ${AUTO_DIRECTORY_PARENT}/HA1 (one name of letters, digits, _ . -): ` +
      "the provider removes stray symlinks from it, so it must be one it owns, not /etc/xen/auto itself nor a path elsewhere"),
);

/** Domain names as the DomU resource accepts them; they also name the links in /etc/xen/auto/HAn. */
export const domainName = domUName;

/** Seconds in Heartbeat's time syntax; fractions are written in milliseconds (`500ms`). */
const seconds = z.number().positive().max(3600);

/**
 * The shared secret. authkeys is read with scanf's `%s`, so it is one word; `#` would start a
 * comment.
 */
export const authKey = z
  .string()
  .min(8, "must be at least 8 characters")
  .max(255)
  .regex(/^[!-~]+$/, "must be one word of printable ASCII characters (no spaces)")
  .refine((k) => !k.startsWith("#"), "must not start with #");

export const heartbeatNodeSchema = z.object({
  /** How to reach this node's dom0 over SSH. */
  connection: connectionSchema,
  /** The node's name as `uname -n` prints it (the seed's `ha1.domain.local`). */
  name: heartbeatNodeName,
  /** Its public address (the seed's 10.1.1.100). */
  publicAddress: ipv4Address,
  /** Its crossover address (the seed's 192.168.1.100). */
  crossoverAddress: ipv4Address,
  /** Its name on the crossover link, which the peer migrates to. Default: the short name followed by `X` (the seed's `ha1X`). */
  crossoverName: peerAddress.optional(),
});

export const resourceGroupSchema = z.object({
  /** The resource script's name in /etc/ha.d/resource.d and haresources (the seed's `xendomainsHA1`). */
  name: resourceGroupName,
  /** The directory whose links name the group's DomUs (the seed's `/etc/xen/auto/HA1`): directly under /etc/xen/auto/. */
  autoDirectory,
});

export const clusterDomainSchema = z.object({
  /** The DomU's name (`xl list` shows it; the seed's `test`). */
  name: domainName,
  /** Its config file. Default `/etc/xen/NAME.cfg`. */
  config: absolutePath.optional(),
  /** The node it runs on when both are up: one of `nodes[].name`. */
  home: heartbeatNodeName,
});

/** The parameters of one STONITH device, by the names `stonith -t TYPE -n` prints; any value may be a secret. */
const stonithDevice = z.record(stonithParameterName, stonithParameterValue);

export const stonithSchema = z
  .object({
    /** The cluster-glue STONITH type, as `stonith -L` lists it: `external/ipmi`, or the lab's `external/xen-ha-lab-switch`. */
    type: stonithType,
    /**
     * In `nodes` order, the parameters of the device that powers each node (its BMC, its outlet):
     * the peer uses it to reset that node. Parameter name to value, such as
     * `{ hostname: "ha1.domain.local", ipaddr: "10.1.2.100", userid: "admin", passwd: secret, interface: "lanplus" }`.
     */
    devices: z.tuple([stonithDevice, stonithDevice]),
    /**
     * The parameter names in the order `stonith -t TYPE -n` prints them: Heartbeat passes them by
     * position. Default: known for external/ipmi and external/xen-ha-lab-switch; required for other types.
     */
    parameterOrder: z.array(stonithParameterName).min(1, "needs at least one parameter").optional(),
    /**
     * Seconds nodes[1] waits before resetting nodes[0] when both links fail, so nodes[0] survives a
     * fence race. Needs a delay parameter in the plugin (`delayParameter`). Default 0 (no wait).
     */
    fenceDelaySeconds: z.number().int("must be whole seconds").min(0).max(600).default(0),
    /**
     * The plugin's parameter that makes it wait that many seconds before a reset; the package fills
     * it in. Default: `reset_delay` for external/xen-ha-lab-switch without parameterOrder; none otherwise.
     */
    delayParameter: stonithParameterName.optional(),
  })
  .superRefine((s, ctx) => {
    for (const p of stonithProblems(s)) ctx.addIssue({ code: "custom", path: p.path, message: p.message });
  });

const SEED_GROUPS = [
  { name: "xendomainsHA1", autoDirectory: "/etc/xen/auto/HA1" },
  { name: "xendomainsHA2", autoDirectory: "/etc/xen/auto/HA2" },
];

export const heartbeatClusterSchema = z
  .object({
    /** The two nodes; the first one's group is the seed's HA1. */
    nodes: z.tuple([heartbeatNodeSchema, heartbeatNodeSchema]),
    /** Shared secret of authkeys (a secret; the seed's `SecretKey123!!!`). */
    authKey,
    /** authkeys signature method. Default `sha1` (the seed's). */
    authMethod: z.enum(["sha1", "md5"]).default("sha1"),
    /**
     * Which links carry heartbeats. Default both: with the public link alone (the seed's), losing
     * that link makes each node think the other dead and start its guests.
     */
    links: z
      .array(z.enum(["public", "crossover"]))
      .min(1, "needs at least one link")
      .refine((l) => new Set(l).size === l.length, "lists a link twice")
      .default(["public", "crossover"]),
    /** The interface holding the public address: the bridge when the guests' bridge carries it. Default `xenbr0`. */
    publicInterface: interfaceName.default("xenbr0"),
    /** The crossover NIC. Default `eth1`. */
    crossoverInterface: interfaceName.default("eth1"),
    /** syslog facility. Default `local0`. */
    logFacility: z.string().regex(/^[a-z0-9]{1,16}$/, "must be a syslog facility such as local0").default("local0"),
    /** UDP port of the heartbeats. Default 694. */
    udpPort: z.number().int().min(1).max(65535).default(694),
    /** Seconds between heartbeats. Default 1. */
    keepalive: seconds.default(1),
    /** Seconds of silence after which the peer is declared dead. Default 10. */
    deadtime: seconds.default(10),
    /** Seconds of silence after which a late heartbeat is logged. Default 3. */
    warntime: seconds.default(3),
    /** Seconds to wait for the peer when Heartbeat starts. Default 20. */
    initdead: seconds.default(20),
    /** Whether a group returns to its home node when that node comes back. Default `on`. */
    autoFailback: z.enum(["on", "off", "legacy"]).default("on"),
    /** Watchdog device Heartbeat keeps alive (the node reboots if Heartbeat hangs). Default `/dev/watchdog`; null for none. Each lab node has an emulated i6300esb behind it. */
    watchdog: absolutePath.nullable().default("/dev/watchdog"),
    /** Heartbeat's debug log. Default `/var/log/ha-debug`; null for none. */
    debugFile: absolutePath.nullable().default("/var/log/ha-debug"),
    /** The two resource groups, one per node, in `nodes` order. Default the seed's xendomainsHA1/HA2 with /etc/xen/auto/HA1/HA2. */
    resourceGroups: z.tuple([resourceGroupSchema, resourceGroupSchema]).default([SEED_GROUPS[0]!, SEED_GROUPS[1]!]),
    /** The DomUs under Heartbeat's control, each with its home node. Default none. */
    domains: z.array(clusterDomainSchema).default([]),
    /** The toolstack the resource scripts drive: `xl` (default) or the seed's `xm`. */
    toolstack: z.enum(["xl", "xm"]).default("xl"),
    /** Live-migrate a group's DomUs to the peer when the group stops (the seed's XENDOMAINS_MIGRATE). Default true. */
    migrateOnStop: z.boolean().default(true),
    /** Seconds one live migration may take before the DomU is shut down instead. Default 600. */
    migrationTimeoutSeconds: z.number().int().min(10).max(7200).default(600),
    /** Seconds a clean shutdown may take before the DomU is destroyed. Default 120. */
    shutdownTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
    /** Seconds one `xl create` may take. Default 300. */
    startTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
    /**
     * Seconds the resource scripts wait for an SSH connection to the peer. Default 3: a live peer
     * answers on the crossover link well within it, and a dead one costs all of it in every
     * failover. A question that times out decides nothing: DRBD then does (see drbdSettleSeconds).
     */
    peerSshTimeoutSeconds: z.number().int().min(1).max(60).default(3),
    /**
     * Seconds a starting group waits for DRBD to notice a dead peer, or a live one to demote, before
     * refusing a DomU whose disk the peer still holds Primary. Default 30: above the seed's
     * ping-int of 10 s plus its 6 s timeout.
     */
    drbdSettleSeconds: z.number().int().min(0).max(600).default(30),
    /**
     * STONITH: the device that powers each node, for its peer to reset it before taking its guests
     * over (Heartbeat retries until the reset succeeds). A secret in the state as a whole. Default none.
     */
    stonith: stonithSchema.optional(),
    /**
     * Run DRBD's peer outdater (dopd) under Heartbeat, for DRBD's `fencing resource-only` with
     * `/usr/libexec/heartbeat/drbd-peer-outdater` as its fence-peer handler. Default false.
     */
    dopd: z.boolean().optional(),
    /**
     * When Heartbeat starts at boot. `always` (the default, the seed's): at every boot.
     * `afterCleanStop`: only when the boot before stopped it cleanly (a shutdown or a reboot); a node
     * fenced by its peer, reset by its watchdog or crashed stays out of the cluster until `up` (or
     * `systemctl start heartbeat`) starts it. With STONITH this keeps a fenced node from rejoining
     * while its peer still takes its guests over, and from fencing its peer in turn while the
     * links are still cut.
     */
    startAtBoot: z.enum(["always", "afterCleanStop"]).optional(),
  })
  .superRefine((c, ctx) => {
    const [a, b] = c.nodes;
    if (a.name === b.name) ctx.addIssue({ code: "custom", path: ["nodes", 1, "name"], message: "the two nodes need different names" });
    if (new Set([a.publicAddress, a.crossoverAddress, b.publicAddress, b.crossoverAddress]).size !== 4) {
      ctx.addIssue({ code: "custom", path: ["nodes", 1, "crossoverAddress"], message: "the nodes' public and crossover addresses must all differ" });
    }
    if (!(c.keepalive < c.warntime && c.warntime < c.deadtime && c.deadtime <= c.initdead)) {
      ctx.addIssue({ code: "custom", path: ["warntime"], message: `Heartbeat needs keepalive < warntime < deadtime <= initdead (got ${c.keepalive}, ${c.warntime}, ${c.deadtime}, ${c.initdead})` });
    }
    const [g1, g2] = c.resourceGroups;
    if (g1.name === g2.name || g1.autoDirectory === g2.autoDirectory) {
      ctx.addIssue({ code: "custom", path: ["resourceGroups", 1], message: "the two groups need different names and directories" });
    }
    if (c.stonith) {
      for (const p of stonithNodeProblems(c.stonith, [a.name, b.name])) ctx.addIssue({ code: "custom", path: ["stonith", ...p.path], message: p.message });
    }
    const seen = new Set<string>();
    c.domains.forEach((d, i) => {
      if (seen.has(d.name)) ctx.addIssue({ code: "custom", path: ["domains", i, "name"], message: `lists ${d.name} twice` });
      seen.add(d.name);
      if (d.home !== a.name && d.home !== b.name) {
        ctx.addIssue({ code: "custom", path: ["domains", i, "home"], message: `must be one of the nodes: ${a.name} or ${b.name}` });
      }
    });
  });

export type HeartbeatClusterInputs = z.output<typeof heartbeatClusterSchema>;
export type HeartbeatClusterInputArgs = z.input<typeof heartbeatClusterSchema>;
export type HeartbeatNode = HeartbeatClusterInputs["nodes"][number];
export type ResourceGroup = HeartbeatClusterInputs["resourceGroups"][number];
export { peerOf, type NodeIndex } from "./node-index";

export function crossoverNameOf(node: HeartbeatNode): string {
  return node.crossoverName ?? `${node.name.split(".")[0]}X`;
}

export function domainConfigOf(d: HeartbeatClusterInputs["domains"][number]): string {
  return d.config ?? `/etc/xen/${d.name}.cfg`;
}

/** Which group (by node index) a DomU belongs to: its home node's. */
export function groupIndexOf(c: HeartbeatClusterInputs, d: HeartbeatClusterInputs["domains"][number]): NodeIndex {
  return d.home === c.nodes[0].name ? 0 : 1;
}
