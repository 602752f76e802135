/**
 * Inputs of the Pacemaker configuration the package owns in the CIB: cluster properties, one
 * fence device per node, one `ocf:heartbeat:Xen` primitive per guest with its home preference,
 * and what each node needs for the resource agent's live migration.
 */
import { z } from "zod";
import { connectionSchema } from "../ssh/connection";
import { absolutePath, checkedString, hostName, ipv4Address } from "../values";
import { domUName } from "../xen/schema";

/** A fence agent as fence-agents installs it (`fence_ipmilan`), or the lab's `fence_xen_ha_lab`. */
export const fenceAgent = z.string().regex(/^fence_[a-z0-9_]{1,48}$/, "must be a fence agent's name such as fence_ipmilan (stonith_admin --list-installed lists them)");

/** A fence agent's parameter, as its metadata names it (`ip`, `username`, `password`, `lanplus`). */
export const fenceParameterName = checkedString((n) => {
  if (!/^[a-z][a-z0-9_]{0,63}$/.test(n)) return "must be a fence agent parameter name such as ip or password (lower case letters, digits and _)";
  return n.startsWith("pcmk_") ? "must not start with pcmk_: the package sets Pacemaker's own pcmk_ parameters (pcmk_host_list, pcmk_delay_base)" : undefined;
});

/** Values go into the CIB and onto the agent's stdin one per line: one line of printable text. */
export const fenceParameterValue = z
  .string()
  .min(1, "must not be empty")
  .max(1024)
  .regex(/^[ -~]+$/, "must be one line of printable ASCII")
  .refine((v) => !v.includes('"') && !v.includes("\\"), 'must not contain " or \\ (crm shell quoting)');

export const fenceDeviceSchema = z.object({
  /** The node this device powers off or resets: one of `nodes[].name`. */
  node: hostName,
  /** The fence agent: `fence_ipmilan` for a BMC, `fence_xen_ha_lab` for the lab's power switch. */
  agent: fenceAgent,
  /**
   * The agent's parameters (a secret in the state as a whole), such as
   * `{ ip: "10.1.2.100", username: "admin", password: secret, lanplus: "1" }`. `plug` defaults to
   * the node's name for agents that take one (the lab's switch); give it for others when needed.
   */
  parameters: z.record(fenceParameterName, fenceParameterValue).default({}),
  /**
   * Seconds this device waits before fencing its node (`pcmk_delay_base`): set it on one node's
   * device so that in a fence race between two nodes that one survives. Default 0.
   */
  delaySeconds: z.number().int().min(0).max(600).default(0),
});

export const pacemakerNodeSchema = z.object({
  /** How to reach this node over SSH. */
  connection: connectionSchema,
  /** The node's name as Pacemaker knows it (`uname -n`, as in CorosyncCluster). */
  name: hostName,
  /** The address live migrations to this node go to (the seed's crossover address). */
  migrationAddress: ipv4Address,
});

export const guestSchema = z.object({
  /** The DomU's name; also the Pacemaker resource's id (`crm resource move NAME NODE`). */
  name: domUName.refine((n) => /^[A-Za-z_]/.test(n), "must start with a letter or _ under Pacemaker: it is the resource's id, an XML id"),
  /** Its config file. Default `/etc/xen/NAME.cfg`. */
  config: absolutePath.optional(),
  /** The node it runs on when that node is up: one of `nodes[].name`. */
  home: hostName,
  /** `running` (default) or `stopped`: Pacemaker's target role for it. */
  state: z.enum(["running", "stopped"]).default("running"),
  /** Live-migrate it when it moves (`allow-migrate`); else it is stopped and started. Default true. */
  allowMigrate: z.boolean().default(true),
  /** Seconds a clean shutdown may take before the resource agent destroys it. Default 120. */
  shutdownTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
  /** Seconds one live migration may take. Default 600. */
  migrationTimeoutSeconds: z.number().int().min(10).max(7200).default(600),
  /** Seconds one start may take. Default 300. */
  startTimeoutSeconds: z.number().int().min(10).max(3600).default(300),
});

export const pacemakerConfigSchema = z
  .object({
    /** The cluster's nodes, as in CorosyncCluster. */
    nodes: z.array(pacemakerNodeSchema).min(2, "needs at least two nodes").max(32),
    /** One fence device per node (a secret in the state as a whole). Required unless `allowNoFencing`. */
    fencing: z.array(fenceDeviceSchema).optional(),
    /**
     * Run without fencing (`stonith-enabled=false`). Default false: then nothing keeps a node
     * that lost its peer from starting guests the peer still runs. Only for a lab without a
     * power switch.
     */
    allowNoFencing: z.boolean().default(false),
    /** The guests Pacemaker places. */
    guests: z.array(guestSchema).default([]),
    /**
     * Whether a guest goes back to its home when that node returns (Heartbeat's `auto_failback on`,
     * the seed's). Default true. False keeps it where it runs (`resource-stickiness` above the home preference).
     */
    autoFailback: z.boolean().default(true),
    /** What a partition without quorum does with its guests (`no-quorum-policy`). Default `stop`. */
    noQuorumPolicy: z.enum(["stop", "freeze", "suspend"]).default("stop"),
    /** Seconds a fence action may take (`stonith-timeout`). Default 120. */
    fenceTimeoutSeconds: z.number().int().min(10).max(3600).default(120),
    /** Seconds up waits for every guest to run where the configuration puts it. Default 900. */
    settleTimeoutSeconds: z.number().int().min(30).max(7200).default(900),
  })
  .superRefine((c, ctx) => {
    const names = c.nodes.map((n) => n.name);
    const seen = new Set<string>();
    c.nodes.forEach((n, i) => {
      if (seen.has(n.name)) ctx.addIssue({ code: "custom", path: ["nodes", i, "name"], message: `${n.name} is named twice` });
      seen.add(n.name);
    });
    if (!c.fencing && !c.allowNoFencing) {
      ctx.addIssue({
        code: "custom",
        path: ["fencing"],
        message:
          "is required: without fencing a node that loses sight of its peer may start guests the peer still runs, on the same DRBD disks. " +
          "Give one device per node (fence_ipmilan for a BMC, fence_xen_ha_lab in the lab), or set allowNoFencing: true to run with stonith-enabled=false knowingly",
      });
    }
    if (c.fencing) {
      const fenced = new Set<string>();
      c.fencing.forEach((d, i) => {
        if (!names.includes(d.node)) ctx.addIssue({ code: "custom", path: ["fencing", i, "node"], message: `must be one of the nodes: ${names.join(", ")}` });
        if (fenced.has(d.node)) ctx.addIssue({ code: "custom", path: ["fencing", i, "node"], message: `${d.node} has two devices; give one per node` });
        fenced.add(d.node);
      });
      const unfenced = names.filter((n) => !fenced.has(n));
      if (unfenced.length > 0) ctx.addIssue({ code: "custom", path: ["fencing"], message: `has no device for ${unfenced.join(", ")}: every node needs one, or its peer cannot take its guests over` });
    }
    const guests = new Set<string>();
    c.guests.forEach((g, i) => {
      if (guests.has(g.name)) ctx.addIssue({ code: "custom", path: ["guests", i, "name"], message: `lists ${g.name} twice` });
      guests.add(g.name);
      if (!names.includes(g.home)) ctx.addIssue({ code: "custom", path: ["guests", i, "home"], message: `must be one of the nodes: ${names.join(", ")}` });
      if (g.name.startsWith("fence-")) ctx.addIssue({ code: "custom", path: ["guests", i, "name"], message: "must not start with fence-: the fence devices' resources are named so" });
    });
  });

export type PacemakerConfigInputs = z.output<typeof pacemakerConfigSchema>;
export type PacemakerConfigInputArgs = z.input<typeof pacemakerConfigSchema>;
export type Guest = PacemakerConfigInputs["guests"][number];
export type FenceDevice = NonNullable<PacemakerConfigInputs["fencing"]>[number];

export const guestConfigOf = (g: Pick<Guest, "name" | "config">): string => g.config ?? `/etc/xen/${g.name}.cfg`;
