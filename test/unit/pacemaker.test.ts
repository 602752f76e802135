import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseInputs } from "../../provider/inputs";
import { cibDrift, desiredCib, ownedCib, removedResources, renderCrm, type CibModel } from "../../provider/pacemaker/cib";
import { buildForgetResourcesScript, renderMigrationSshConfig, splitProbe } from "../../provider/pacemaker/render";
import { pacemakerConfigSchema } from "../../provider/pacemaker/schema";
import { guestPlacement, parseCrmMon, runningTwice, settleProblems } from "../../provider/pacemaker/status";
import { parseXml } from "../../provider/xml";
import { pacemakerArgs } from "./fixtures/pacemaker/seed";

const seed = pacemakerConfigSchema.parse(pacemakerArgs);
const crmMon = readFileSync(join(__dirname, "fixtures/pacemaker/crm_mon.xml"), "utf8");

function failuresOf(args: unknown): string[] {
  const parsed = parseInputs(pacemakerConfigSchema, args as Record<string, unknown>);
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

/** The CIB Pacemaker would hold after loading `model`, written as cibadmin prints it (ids, INFINITY). */
function cibOf(model: CibModel, extra = ""): string {
  const nv = (id: string, r: Record<string, string>) => Object.entries(r).map(([k, v]) => `<nvpair id="${id}-${k}" name="${k}" value="${v}"/>`).join("");
  const primitive = (p: CibModel["primitives"][number]) => {
    const [cls, a, b] = p.agent.split(":");
    const type = b ? `provider="${a}" type="${b}"` : `type="${a}"`;
    const ops = p.ops.map((o) => `<op name="${o.name}" interval="${o.interval}" timeout="${o.timeout}" id="${p.id}-${o.name}"/>`).join("");
    return `<primitive id="${p.id}" class="${cls}" ${type} description="managed by pulumi-xen-ha"><instance_attributes id="${p.id}-ia">${nv(p.id, p.params)}</instance_attributes><meta_attributes id="${p.id}-ma">${nv(p.id, p.meta)}</meta_attributes><operations>${ops}</operations></primitive>`;
  };
  return `<configuration>
  <crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="c-dc" name="dc-version" value="2.1.5"/>${nv("c", model.properties)}</cluster_property_set></crm_config>
  <nodes><node id="1" uname="ha1.domain.local"/></nodes>
  <resources>${model.primitives.map(primitive).join("")}${extra}</resources>
  <constraints>${model.locations.map((l) => `<rsc_location id="${l.id}" rsc="${l.rsc}" node="${l.node}" score="${l.score.replace("-INFINITY", "-INFINITY")}"/>`).join("")}</constraints>
  <rsc_defaults><meta_attributes id="rsc-options">${nv("r", model.rscDefaults)}</meta_attributes></rsc_defaults>
</configuration>`;
}

describe("the owned CIB", () => {
  const desired = desiredCib(seed);

  it("has a fence device per node that never runs on the node it fences, the guest with its home, and fencing on", () => {
    const text = renderCrm(desired);
    expect(text).toContain("property cib-bootstrap-options: maintenance-mode=false no-quorum-policy=stop stonith-enabled=true stonith-timeout=120s\n");
    expect(text).toContain("rsc_defaults rsc-options: resource-stickiness=0\n");
    expect(text).toContain('primitive fence-ha1 stonith:fence_xen_ha_lab \\\n    description="managed by pulumi-xen-ha" \\\n    params pcmk_delay_base=10s pcmk_host_list=ha1.domain.local plug=ha1');
    expect(text).toContain("location fence-ha1-not-on-self fence-ha1 -inf: ha1.domain.local\n");
    expect(text).toContain("primitive test ocf:heartbeat:Xen \\\n    description=\"managed by pulumi-xen-ha\" \\\n    params name=test node_ip_attribute=xen-ha-migration-address shutdown_timeout=120 xmfile=/etc/xen/test.cfg \\\n    meta allow-migrate=true target-role=Started");
    expect(text).toContain("op migrate_to interval=0s timeout=600s");
    expect(text).toContain("location test-home test 100: ha1.domain.local\n");
  });

  it("keeps a guest where it runs with autoFailback off, and stops a stopped one", () => {
    const sticky = desiredCib(pacemakerConfigSchema.parse({ ...pacemakerArgs, autoFailback: false, guests: [{ name: "test", home: "ha1.domain.local", state: "stopped" }] }));
    expect(sticky.rscDefaults).toEqual({ "resource-stickiness": "200" });
    expect(sticky.primitives.find((p) => p.id === "test")!.meta["target-role"]).toBe("Stopped");
  });

  it("reads back as no drift, whatever the CIB's order and the user's own resources", () => {
    const cib = parseXml(cibOf(desired, `<primitive id="mine" class="ocf" provider="heartbeat" type="IPaddr2"/>`));
    const found = ownedCib(cib, desired);
    expect(found.primitives.map((p) => p.id)).toEqual(["fence-ha1", "fence-ha2", "test"]);
    expect(cibDrift(desired, found)).toEqual([]);
    expect(removedResources(desired, found)).toEqual([]);
  });

  it("reads back what crmsh 4.4 made of the rendered text as no drift (recorded: CIB_file=… crm configure load update, then cibadmin --query)", () => {
    const recorded = pacemakerConfigSchema.parse({
      ...pacemakerArgs,
      fencing: [pacemakerArgs.fencing![0], { node: "ha2.domain.local", agent: "fence_ipmilan", parameters: { ip: "10.1.2.1", password: "pa ss word" } }],
    });
    const wanted = desiredCib({ ...recorded, fencing: [{ ...recorded.fencing![0]!, delaySeconds: 15 }, recorded.fencing![1]!] });
    const cib = parseXml(readFileSync(join(__dirname, "fixtures/pacemaker/cibadmin-configuration.xml"), "utf8"));
    expect(cibDrift(wanted, ownedCib(cib, wanted))).toEqual([]);
  });

  it("names what differs without a parameter's value, and what was taken out of the inputs", () => {
    const withPassword = desiredCib(pacemakerConfigSchema.parse({ ...pacemakerArgs, fencing: [{ node: "ha1.domain.local", agent: "fence_ipmilan", parameters: { ip: "10.1.2.1", password: "hunter22" } }, pacemakerArgs.fencing![1]] }));
    const changed = structuredClone(withPassword);
    changed.primitives[0]!.params.password = "other-pass";
    changed.properties["stonith-enabled"] = "false";
    changed.locations = changed.locations.filter((l) => l.id !== "test-home");
    const found = ownedCib(parseXml(cibOf(changed)), withPassword);
    const drift = cibDrift(withPassword, found);
    expect(drift).toEqual(["property stonith-enabled", "resource fence-ha1 differs", "constraint test-home"]);
    expect(drift.join(" ")).not.toMatch(/hunter22|other-pass/);
    const fewer = desiredCib(pacemakerConfigSchema.parse({ ...pacemakerArgs, guests: [] }));
    expect(removedResources(fewer, ownedCib(parseXml(cibOf(desired)), fewer))).toEqual(["test"]);
  });

  it("takes resources out in maintenance mode and clears their history, so no guest is stopped as an orphan", () => {
    const text = buildForgetResourcesScript(["test"]).text;
    expect(text.indexOf("maintenance-mode --update true")).toBeLessThan(text.indexOf("configure delete"));
    expect(text).toContain("crm_resource --cleanup");
    expect(text).toMatch(/trap 'crm_attribute --type crm_config --name maintenance-mode --update false' EXIT/);
  });

  it("points the agent's migrations at the peers' addresses with the package's key and pinned known_hosts", () => {
    const conf = renderMigrationSshConfig(seed, "ha1.domain.local");
    expect(conf).toContain("Host 192.168.1.101\n    User root\n    IdentityFile /root/.ssh/xen-ha-migration\n    IdentitiesOnly yes\n    UserKnownHostsFile /root/.ssh/xen-ha-known_hosts\n    StrictHostKeyChecking yes\n");
    expect(conf).not.toContain("192.168.1.100");
  });
});

describe("PacemakerConfig inputs", () => {
  it("refuses a cluster without fencing unless opted out, and a node without a device", () => {
    const { fencing: _f, ...rest } = pacemakerArgs;
    expect(failuresOf(rest)).toEqual([expect.stringMatching(/^fencing: is required: without fencing .* allowNoFencing: true/)]);
    expect(failuresOf({ ...rest, allowNoFencing: true })).toEqual([]);
    expect(desiredCib(pacemakerConfigSchema.parse({ ...rest, allowNoFencing: true })).properties["stonith-enabled"]).toBe("false");
    expect(failuresOf({ ...pacemakerArgs, fencing: [pacemakerArgs.fencing![0]] })).toEqual(["fencing: has no device for ha2.domain.local: every node needs one, or its peer cannot take its guests over"]);
  });

  it("refuses a guest whose home is no node, a guest id Pacemaker cannot take, and Pacemaker's own parameters", () => {
    expect(failuresOf({ ...pacemakerArgs, guests: [{ name: "test", home: "ha3" }] })).toEqual(["guests[0].home: must be one of the nodes: ha1.domain.local, ha2.domain.local"]);
    expect(failuresOf({ ...pacemakerArgs, guests: [{ name: "9vm", home: "ha1.domain.local" }] })).toEqual([expect.stringMatching(/^guests\[0\]\.name: must start with a letter/)]);
    expect(failuresOf({ ...pacemakerArgs, fencing: [{ node: "ha1.domain.local", agent: "fence_ipmilan", parameters: { pcmk_host_list: "x" } }, pacemakerArgs.fencing![1]] })).toEqual([
      expect.stringMatching(/^fencing\[0\]\.parameters\.pcmk_host_list: must not start with pcmk_/),
    ]);
  });
});

describe("crm_mon", () => {
  const status = parseCrmMon(crmMon);

  it("reads quorum, nodes, where each resource runs, and the fencing history", () => {
    expect(status.quorate).toBe(true);
    expect(status.nodes.map((n) => [n.name, n.online])).toEqual([["ha1.domain.local", true], ["ha2.domain.local", true]]);
    expect(guestPlacement(seed, status)).toEqual([{ name: "test", home: "ha1.domain.local", runningOn: ["ha1.domain.local"] }]);
    expect(status.fenceHistory).toEqual([{ target: "ha2.domain.local", action: "reboot", status: "success", origin: "ha1.domain.local", completed: "2026-12-03 14:20:11.123456Z" }]);
    expect(settleProblems(seed, status)).toEqual([]);
    expect(runningTwice(status)).toEqual([]);
  });

  it("is not settled while a guest is away from home, runs twice, or quorum is lost", () => {
    const away = parseCrmMon(crmMon.replace('<node name="ha1.domain.local" id="1" cached="true"/>\n    </resource>\n  </resources>', '<node name="ha2.domain.local" id="2" cached="true"/>\n    </resource>\n  </resources>'));
    expect(settleProblems(seed, away)).toEqual(["test runs on ha2.domain.local, not on its home ha1.domain.local"]);
    const sticky = pacemakerConfigSchema.parse({ ...pacemakerArgs, autoFailback: false });
    expect(settleProblems(sticky, away)).toEqual([]);
    expect(settleProblems(sticky, away, new Set(["test"]))).toHaveLength(1);
    const twice = parseCrmMon(crmMon.replace('<node name="ha1.domain.local" id="1" cached="true"/>\n    </resource>\n  </resources>', '<node name="ha1.domain.local" id="1"/><node name="ha2.domain.local" id="2"/>\n    </resource>\n  </resources>'));
    expect(runningTwice(twice)).toEqual(["test on ha1.domain.local and ha2.domain.local"]);
    const lost = parseCrmMon(crmMon.replace('with_quorum="true"', 'with_quorum="false"'));
    expect(settleProblems(seed, lost)).toEqual(["the cluster has no quorum"]);
  });

  it("reads a live migration in flight as the lab's Pacemaker 2.1.5 printed it: both nodes listed, not settled, not running twice", () => {
    const migrating = parseCrmMon(readFileSync(join(__dirname, "fixtures/pacemaker/crm_mon-migrating.xml"), "utf8"));
    const test = migrating.resources.find((r) => r.id === "test")!;
    expect([migrating.quorate, migrating.dc, test.role, test.runningOn, runningTwice(migrating)]).toEqual([true, "ha2.domain.local", "Stopping", ["ha2.domain.local", "ha1.domain.local"], []]);
    expect(settleProblems(seed, migrating)).toContain("test is active on ha2.domain.local and ha1.domain.local");
  });

  it("splits the probe's two documents, and knows a stopped Pacemaker", () => {
    expect(splitProbe("pacemaker stopped\n")).toEqual({ running: false, cib: "", status: "" });
    const s = splitProbe(`--- cib ---\n<configuration/>\n--- crm_mon ---\n${crmMon}`);
    expect(s.running).toBe(true);
    expect(parseXml(s.cib).name).toBe("configuration");
    expect(parseCrmMon(s.status).dc).toBe("ha1.domain.local");
  });
});

describe("the XML reader", () => {
  it("reads attributes with entities and quotes, skips declarations and comments, and refuses broken XML", () => {
    const e = parseXml(`<?xml version="1.0"?>\n<!-- c --><a x="1 &amp; 2" y='q"'><b/><c z="&lt;&#65;&#x42;"></c></a>`);
    expect(e.attributes).toEqual({ x: "1 & 2", y: 'q"' });
    expect(e.children.map((c) => c.name)).toEqual(["b", "c"]);
    expect(e.children[1]!.attributes.z).toBe("<AB");
    expect(() => parseXml("<a><b></a>")).toThrow(/does not close/);
    expect(() => parseXml("<a>")).toThrow(/never closed/);
  });
});
