/**
 * The cluster with `clusterManager: "pacemaker"` on bare lab nodes, through the real engine:
 * Corosync over both links with the lab's qnetd arbiter, Pacemaker fencing through the lab's power
 * switch, then a hard kill, a change of home, and a node cut off from its peer and the arbiter.
 * Last, a running Heartbeat stack switched to Pacemaker without restarting its guest.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { TwoNodeXenHa, type TwoNodeXenHaArgs } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, type EngineStack } from "../support/engine";
import { labDir, labDomains, labKill, labLink, labPing, labRun, labScript, labStart, waitFor, LAB_NODES, type LabNodeName } from "../support/lab";
import { labClusterNode, labGuestVm, report } from "../support/lab-inputs";

jest.setTimeout(20 * 60_000);

/** Where the nodes reach the lab's corosync-qnetd (lab/README.md). */
const ARBITER = { host: "10.0.2.101", port: 5403 };
const AUTH_KEY = pulumi.secret(`lab-corosync-key-${"0123456789abcdef".repeat(8)}`);

const desired = {
  manager: "pacemaker" as "heartbeat" | "pacemaker",
  home: "ha1" as LabNodeName,
};

function clusterArgs(): TwoNodeXenHaArgs {
  const node = labClusterNode;
  return {
    nodes: [node("ha1"), node("ha2")],
    metaVolumeSize: "512M",
    drbd: { usageCount: "no" },
    clusterManager: desired.manager,
    heartbeat: { authKey: pulumi.secret("lab-heartbeat-key-0123"), watchdog: null },
    pacemaker: {
      authKey: AUTH_KEY,
      arbiter: ARBITER,
      // ha1's device waits: in a fence race between the two, ha1 survives.
      fencing: [{ agent: "fence_xen_ha_lab", delaySeconds: 15 }, { agent: "fence_xen_ha_lab" }],
      // The emulated nodes answer slowly: a short token would lose members under load.
      tokenMs: 10_000,
    },
    vms: [{ ...labGuestVm("test", 0, desired.home, "10.1.1.50") }],
  };
}

function program() {
  const cluster = new TwoNodeXenHa("cluster", clusterArgs());
  return Promise.resolve({ vms: cluster.vms, placement: cluster.pacemakerPlacement });
}

const crmMon = (node: LabNodeName) => labRun(node, "crm_mon --one-shot --inactive --output-as=xml", { timeoutMs: 120_000 });
const field = (line: string, key: string) => new RegExp(`${key}=(\\S+)`).exec(line)?.[1];
const counterLine = (node: LabNodeName) => labRun(node, "dd if=/dev/drbd1 bs=512 count=1 iflag=direct status=none | tr -d '\\000'").then((s) => s.trim());
const MARKER_OFFSET_MIB = 8;
const markerOf = (node: LabNodeName) => labRun(node, `dd if=/dev/drbd1 bs=1M skip=${MARKER_OFFSET_MIB} count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1`).then((s) => s.trim());
const switchLog = () => readFileSync(path.join(labDir(), "fence", "power-switch.log"), "utf8");

/** Samples `xl list` on both nodes every 2 s while `during` runs; the guests seen on both at once. */
async function neverTwice(during: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const [a, b] = await Promise.all(LAB_NODES.map((n) => labDomains(n, { attempts: 1, timeoutMs: 30_000 }).catch(() => [] as string[])));
      for (const name of a!) if (b!.includes(name)) seen.push(name);
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  try {
    await during();
  } finally {
    done = true;
    await sampler;
  }
  return seen;
}

describeWithEngine("Pacemaker and Corosync with a quorum arbiter on the lab", () => {
  let stack: EngineStack;
  let marker = "";

  beforeAll(async () => {
    stack = await createEngineStack({ program, projectName: "pacemaker-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await labLink("public", "up").catch(() => undefined);
    await labLink("crossover", "up").catch(() => undefined);
    for (const node of LAB_NODES) await labScript(["arbiter", "restore", node]).catch(() => undefined);
    await stack?.dispose();
  });

  it("builds the cluster from bare hosts in one up, and a second up changes nothing", async () => {
    const started = Date.now();
    const up = await stack.up();
    report(`pacemaker cluster from bare hosts: ${Math.round((Date.now() - started) / 1000)} s`);
    const again = await stack.up();
    expect([changesOnly(up.changes).create! > 10, changeCount(again.changes)]).toEqual([true, 0]);
  });

  it("crm_mon on both nodes shows quorum with the arbiter's vote, the fence devices started, and the guest on its home", async () => {
    for (const node of LAB_NODES) {
      const xml = await crmMon(node);
      const quorum = await labRun(node, "corosync-quorumtool -s || true");
      expect([
        /with_quorum="true"/.test(xml),
        /<resource id="fence-ha1" resource_agent="stonith:fence_xen_ha_lab" role="Started"[^>]*>\s*<node name="ha2.domain.local"/.test(xml),
        /<resource id="fence-ha2" resource_agent="stonith:fence_xen_ha_lab" role="Started"[^>]*>\s*<node name="ha1.domain.local"/.test(xml),
        /<resource id="test" resource_agent="ocf:heartbeat:Xen" role="Started"[^>]*>\s*<node name="ha1.domain.local"/.test(xml),
        /Flags:\s+Quorate Qdevice/.test(quorum),
        /Total votes:\s+3/.test(quorum),
      ]).toEqual([true, true, true, true, true, true]);
    }
    expect([await labDomains("ha1"), await labDomains("ha2")]).toEqual([["test"], []]);
    await waitFor(async () => (await labPing("ha2", "10.1.1.50")) || undefined, { timeoutMs: 180_000, intervalMs: 3000, what: "the guest to answer ping" });
  });

  it("a change of home is a live migration by Pacemaker: same boot, the counter goes on, no constraint left", async () => {
    const before = await counterLine("ha1");
    desired.home = "ha2";
    const started = Date.now();
    const up = await stack.up();
    report(`home change by up under Pacemaker: ${Math.round((Date.now() - started) / 1000)} s`);
    const after = await waitFor(
      async () => {
        const line = await counterLine("ha2").catch(() => "");
        return Number(field(line, "counter")) > Number(field(before, "counter")) ? line : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 3000, what: "test's counter to go on from ha2" },
    );
    const constraints = await labRun("ha2", "cibadmin --query --scope constraints");
    expect([changesOnly(up.changes), await labDomains("ha1"), await labDomains("ha2"), field(after, "boot"), /cli-prefer|cli-ban/.test(constraints)]).toEqual([
      { update: 2 },
      [],
      ["test"],
      field(before, "boot"),
      false,
    ]);
  });

  it("a hard kill of the guest's node: the survivor fences it through the power switch and runs the guest with its data", async () => {
    marker = await markerOf("ha2");
    const logBefore = switchLog().length;
    const killedAt = Date.now();
    await labKill("ha2");
    await waitFor(async () => (await labDomains("ha1")).includes("test") || undefined, { timeoutMs: 300_000, intervalMs: 2000, what: "test to run on ha1" });
    await waitFor(async () => (await labPing("ha1", "10.1.1.50")) || undefined, { timeoutMs: 180_000, intervalMs: 2000, what: "test to answer on ha1" });
    const seconds = Math.round((Date.now() - killedAt) / 1000);
    report(`Pacemaker failover: from the hard kill of ha2 to the guest answering on ha1: ${seconds} s`);
    const requests = switchLog().slice(logBefore);
    const history = await labRun("ha1", "stonith_admin --history ha2.domain.local --verbose || true");
    expect([/node=ha2 action=(reset|off) /.test(requests), /reboot|off/.test(history) && /success|successful/i.test(history), await markerOf("ha1")]).toEqual([true, true, marker]);
  });

  it("the fenced node comes back, Pacemaker brings the guest home, and a refresh meanwhile reads it as one guest", async () => {
    await labStart("ha2");
    // Pacemaker live-migrates the guest home once ha2 has rejoined (autoFailback): a refresh may
    // catch the migration in flight, which is one guest, not two.
    await stack.refresh();
    await waitFor(async () => ((await labDomains("ha2")).includes("test") && (await labDomains("ha1")).length === 0) || undefined, {
      timeoutMs: 600_000,
      intervalMs: 5000,
      what: "test back on ha2, its home",
    });
    await stack.refresh();
    const up = await stack.up();
    report(`after the fenced node came back, up changed: ${JSON.stringify(changesOnly(up.changes))}`);
    expect([await labDomains("ha1"), await labDomains("ha2")]).toEqual([[], ["test"]]);
  });

  it("both links cut on the guest's node: only the side with quorum runs the guest, never both, and the data is intact", async () => {
    const cut: LabNodeName = (await labDomains("ha1")).includes("test") ? "ha1" : "ha2";
    const survivor: LabNodeName = cut === "ha1" ? "ha2" : "ha1";
    marker = await markerOf(cut);
    // Cut the guest's node from its peer and from the arbiter: the survivor keeps quorum with the arbiter's vote.
    const started = Date.now();
    const seen = await neverTwice(async () => {
      await labScript(["arbiter", "cut", cut]);
      await labLink("public", "down");
      await labLink("crossover", "down");
      await waitFor(async () => (await labDomains(survivor)).includes("test") || undefined, { timeoutMs: 600_000, intervalMs: 3000, what: `test to run on ${survivor}, the side with quorum` });
    });
    report(`both links and the arbiter cut from ${cut}: the guest ran on ${survivor} after ${Math.round((Date.now() - started) / 1000)} s`);
    const onCut = await labDomains(cut).catch(() => ["(unreachable: fenced)"]);
    await labLink("public", "up");
    await labLink("crossover", "up");
    await labScript(["arbiter", "restore", cut]);
    expect([seen, await labDomains(survivor), onCut.includes("test"), await markerOf(survivor)]).toEqual([[], ["test"], false, marker]);
  });

  it("destroy takes the cluster down and leaves no domain and no volume group", async () => {
    // The cut node was fenced (reset) and boots again: wait until both are online.
    await waitFor(async () => /<node name="ha1.domain.local"[^>]* online="true"[\s\S]*<node name="ha2.domain.local"[^>]* online="true"/.test(await crmMon("ha1").catch(() => "")) || undefined, {
      timeoutMs: 600_000,
      intervalMs: 5000,
      what: "both nodes online in Pacemaker",
    });
    await stack.destroy();
    for (const node of LAB_NODES) {
      expect([await labDomains(node), (await labRun(node, "vgs --noheadings 2>/dev/null; systemctl is-active corosync pacemaker || true")).trim()]).toEqual([[], "inactive\ninactive"]);
    }
  });
});

describeWithEngine("switching a running Heartbeat cluster to Pacemaker on the lab", () => {
  let stack: EngineStack;

  beforeAll(async () => {
    desired.manager = "heartbeat";
    desired.home = "ha1";
    stack = await createEngineStack({ program, projectName: "pacemaker-switch-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await stack?.destroy().catch(() => undefined);
    await stack?.dispose();
  });

  it("restarts no guest: the same domain and boot, Pacemaker holds it, and Heartbeat is stopped only afterwards", async () => {
    await stack.up();
    await waitFor(async () => (await labPing("ha2", "10.1.1.50")) || undefined, { timeoutMs: 180_000, intervalMs: 3000, what: "the guest to answer ping" });
    const domid = (await labRun("ha1", "xl domid test")).trim();
    const before = await counterLine("ha1");
    desired.manager = "pacemaker";
    const up = await stack.up();
    const after = await waitFor(
      async () => {
        const line = await counterLine("ha1").catch(() => "");
        return Number(field(line, "counter")) > Number(field(before, "counter")) ? line : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 3000, what: "test's counter to go on" },
    );
    const xml = await crmMon("ha1");
    const heartbeat = await Promise.all(LAB_NODES.map((n) => labRun(n, "systemctl is-active heartbeat || true").then((s) => s.trim())));
    const order = up.steps.filter((s) => /HeartbeatCluster|PacemakerConfig/.test(s.type)).map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    expect([
      (await labRun("ha1", "xl domid test")).trim(),
      field(after, "boot"),
      /<resource id="test" resource_agent="ocf:heartbeat:Xen" role="Started"[^>]*>\s*<node name="ha1.domain.local"/.test(xml),
      heartbeat,
      order,
    ]).toEqual([domid, field(before, "boot"), true, ["inactive", "inactive"], ["create cluster-pacemaker", "delete cluster-heartbeat"]]);
  });
});
