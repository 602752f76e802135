/**
 * The whole seed in one `pulumi up` on bare lab nodes (TwoNodeXenHa), then what users install it
 * for: a host dies and its DomU comes back on the survivor with its data.
 */
import * as pulumi from "@pulumi/pulumi";
import { statusReport } from "../../cli/status/report";
import { LogicalVolume, TwoNodeXenHa } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, type EngineStack } from "../support/engine";
import { labDomains, labHolding, labKill, labLink, labPing, labRun, labStart, waitFor, LAB_NODES, type LabNodeName } from "../support/lab";
import { labClusterNode, labGuestVm, report } from "../support/lab-inputs";

// Each step takes a few minutes: a stuck one fails well before a CI run's end.
jest.setTimeout(20 * 60_000);

const vm = labGuestVm;

const desired = {
  vms: [vm("test", 0, "ha1", "10.1.1.50")],
  testState: "stopped" as "running" | "stopped",
  /** A volume of the program's own that dependsOn the VM `web`. */
  notesAfterWeb: false,
  protectData: false,
  /** Off first: after the failover, up brings the guest home; then on, for the clean stop. */
  autoFailback: "off" as "on" | "off",
};

function program() {
  const node = labClusterNode;
  const cluster = new TwoNodeXenHa("cluster", {
    nodes: [node("ha1"), node("ha2")],
    metaVolumeSize: "512M",
    drbd: { usageCount: "no" },
    heartbeat: { authKey: pulumi.secret("lab-heartbeat-key-0123"), watchdog: null, autoFailback: desired.autoFailback },
    vms: desired.vms.map((v) => (v.name === "test" ? { ...v, state: desired.testState } : v)),
    protectData: desired.protectData,
  });
  if (desired.notesAfterWeb) {
    const ha1 = cluster.nodeResources["ha1"]!;
    new LogicalVolume("notes", { connection: node("ha1").connection, volumeGroup: ha1.volumeGroup.name, name: "notes", size: "8M" }, { dependsOn: [cluster.vmResources["web"]!.domain, ha1.volumeGroup] });
  }
  return Promise.resolve({ vms: cluster.vms });
}

const domainsOn = labDomains;
const holding = labHolding;

/** The lab guest's line in the first sector of its disk, read on the node that holds it Primary. */
const counterLine = (node: LabNodeName, device: string) =>
  labRun(node, `dd if=${device} bs=512 count=1 iflag=direct status=none | tr -d '\\000'`).then((s) => s.trim());
const MARKER_OFFSET_MIB = 8;
const markerOf = (node: LabNodeName) =>
  labRun(node, `dd if=/dev/drbd1 bs=1M skip=${MARKER_OFFSET_MIB} count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1`).then((s) => s.trim());

describeWithEngine("the whole cluster on the lab, and failover", () => {
  let stack: EngineStack;
  let marker = "";

  beforeAll(async () => {
    stack = await createEngineStack({ program, projectName: "cluster-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await labLink("public", "up").catch(() => undefined);
    await stack?.dispose();
  });

  it("builds the cluster from bare hosts in one up", async () => {
    const up = await stack.up();
    const [hb1, hb2] = await Promise.all(LAB_NODES.map((n) => labRun(n, "cl_status hbstatus 2>&1 || true")));
    expect([changesOnly(up.changes).create! > 10, await labRun("ha1", "hostname -f"), hb1!.trim(), hb2!.trim()]).toEqual([
      true,
      "ha1.domain.local\n",
      "Heartbeat is running on this machine.",
      "Heartbeat is running on this machine.",
    ]);
  });

  it("a second up changes nothing", async () => {
    expect(changeCount((await stack.up()).changes)).toBe(0);
  });

  it("starts the DomU on its home node over DRBD, with data written before it started", async () => {
    await labRun("ha1", `drbdadm primary test-disk && dd if=/dev/urandom of=/dev/drbd1 bs=1M seek=${MARKER_OFFSET_MIB} count=1 oflag=direct status=none`);
    marker = await markerOf("ha1");
    // udev may still hold the device open for its probe after the write.
    await labRun("ha1", "udevadm settle; for i in 1 2 3 4 5 6 7 8 9 10; do drbdadm secondary test-disk && exit 0; sleep 1; done; exit 1");
    desired.testState = "running";
    await stack.up();
    await waitFor(async () => (await labPing("ha2", "10.1.1.50")) || undefined, { timeoutMs: 180_000, intervalMs: 3000, what: "the guest to answer ping across the public link" });
    expect([await domainsOn("ha1"), await domainsOn("ha2")]).toEqual([["test"], []]);
  });

  it("adding a second VM adds exactly that VM", async () => {
    desired.vms = [...desired.vms, vm("web", 1, "ha2", "10.1.1.51")];
    const up = await stack.up();
    const touched = up.steps.filter((s) => s.op !== "create").map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    expect([touched, await domainsOn("ha2")]).toEqual([["update cluster-heartbeat"], ["web"]]);
  });

  it("after a refresh, the outputs and the status view say what xl list and drbdadm say on the nodes", async () => {
    await stack.refresh();
    const up = await stack.up();
    const vms = (await stack.outputs()).vms as Record<string, { runsOn: string; state: string; drbd: Record<string, Record<string, { role: string; peerRole: string }>> }>;
    const onNodes = Object.fromEntries(await Promise.all(LAB_NODES.map(async (n) => [n, await domainsOn(n)] as const)));
    const roles = async (resource: string) => Object.fromEntries(await Promise.all(LAB_NODES.map(async (n) => [n, (await labRun(n, `drbdadm role ${resource}`)).trim()] as const)));
    const status = await statusReport(await stack.exportState({ showSecrets: true }), { stack: "lab" });
    report(`status view after the refresh:\n${status.text}`);
    const line = (name: string) => status.text.split("\n").find((l) => l.trim().startsWith(`${name} `))?.trim() ?? "";
    expect([
      changeCount(up.changes),
      vms.test!.runsOn,
      vms.web!.runsOn,
      onNodes,
      Object.fromEntries(Object.entries(vms.test!.drbd["test-disk"]!).map(([n, s]) => [n, `${s.role}/${s.peerRole}`])),
      /running on ha1/.test(line("test")),
      /running on ha2/.test(line("web")),
      status.exitCode,
    ]).toEqual([0, "ha1", "ha2", { ha1: ["test"], ha2: ["web"] }, await roles("test-disk"), true, true, 0]);
  });

  it("a volume of the program that dependsOn one VM of the component is recorded as waiting for it", async () => {
    desired.notesAfterWeb = true;
    const up = await stack.up();
    const resources = ((await stack.exportState()).deployment as { resources?: { urn: string; dependencies?: string[] }[] }).resources ?? [];
    const notes = resources.find((r) => r.urn.endsWith("LogicalVolume::notes"));
    const web = resources.find((r) => r.urn.endsWith("XenDomU::cluster-web"));
    expect([changesOnly(up.changes), notes?.dependencies?.includes(web?.urn ?? "?")]).toEqual([{ create: 1 }, true]);
  });

  it("with protectData, a destroy is refused in its preview, before anything is deleted", async () => {
    desired.protectData = true;
    await stack.up();
    const failure = await stack.stack.previewDestroy().then(
      () => "the destroy preview passed",
      (err: Error) => err.message,
    );
    const guests = [await domainsOn("ha1"), await domainsOn("ha2")];
    desired.protectData = false;
    await stack.up();
    expect([/cannot be deleted\s+because it is protected/.test(failure), guests]).toEqual([true, [["test"], ["web"]]]);
  });

  it("fails over: ha1 dies, its DomU runs on ha2 with its data, within deadtime and a bounded time", async () => {
    const killedAt = Date.now();
    await labKill("ha1");
    await waitFor(async () => (await domainsOn("ha2")).includes("test") || undefined, { timeoutMs: 240_000, intervalMs: 2000, what: "test to run on ha2" });
    await waitFor(async () => (await labPing("ha2", "10.1.1.50")) || undefined, { timeoutMs: 180_000, intervalMs: 2000, what: "test to answer on ha2" });
    const seconds = Math.round((Date.now() - killedAt) / 1000);
    report(`failover: from the hard kill of ha1 to the guest answering on ha2: ${seconds} s (deadtime 10 s)`);
    expect([await markerOf("ha2"), (await counterLine("ha2", "/dev/drbd1")).startsWith("xen-ha-lab-guest name=test"), seconds < 240]).toEqual([marker, true, true]);
  });

  it("with auto_failback off, ha1 comes back holding nothing, and test stays on ha2", async () => {
    await labStart("ha1");
    await waitFor(async () => ((await holding("ha1")) === "none" && (await holding("ha2")) === "all") || undefined, {
      timeoutMs: 600_000,
      intervalMs: 5000,
      what: "ha1's Heartbeat to join, holding nothing, while ha2 holds both groups",
    });
    expect([await domainsOn("ha1"), (await domainsOn("ha2")).sort()]).toEqual([[], ["test", "web"]]);
  });

  it("refresh shows it away from home, preview warns and shows runOn, and up brings it home by handing the group back through Heartbeat", async () => {
    await stack.refresh();
    const preview = await stack.preview();
    const up = await stack.up();
    const vms = (await stack.outputs()).vms as Record<string, { runsOn: string }>;
    // ha1 restarted since the last up: Heartbeat's update records that as seen.
    const steps = preview.steps.map((s) => [s.op, s.urn.split("::").pop(), s.urn.endsWith("::cluster-test") ? s.changedInputs : undefined]);
    expect([
      steps.sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
      /warning: .*test runs on ha2 \(as last read\), away from its home ha1.*hb_standby foreign on ha2/s.test(`${preview.stdout}\n${preview.stderr}`),
      changesOnly(up.changes),
      await domainsOn("ha1"),
      await domainsOn("ha2"),
      [await holding("ha1"), await holding("ha2")],
      vms.test!.runsOn,
      await markerOf("ha1"),
    ]).toEqual([
      [
        ["update", "cluster-heartbeat", undefined],
        ["update", "cluster-test", ["runOn"]],
      ],
      true,
      { update: 2 },
      ["test"],
      ["web"],
      ["local", "local"],
      "ha1",
      marker,
    ]);
  });

  it("with auto_failback on, a clean stop of ha1's Heartbeat live-migrates its DomU to ha2, which keeps running, and brings it home when Heartbeat starts again", async () => {
    desired.autoFailback = "on";
    await stack.up();
    const before = await counterLine("ha1", "/dev/drbd1");
    const field = (line: string, key: string) => new RegExp(`${key}=(\\S+)`).exec(line)?.[1];
    await labRun("ha1", "systemctl stop heartbeat", { timeoutMs: 900_000 });
    await waitFor(async () => (await domainsOn("ha2")).includes("test") || undefined, { timeoutMs: 300_000, intervalMs: 3000, what: "test on ha2" });
    // The guest writes on from ha2 once the migration has finished: its counter passes the one seen on ha1.
    const after = await waitFor(
      async () => {
        const line = await counterLine("ha2", "/dev/drbd1").catch(() => "");
        return Number(field(line, "counter")) > Number(field(before, "counter")) ? line : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 3000, what: "test's counter to go on from ha2" },
    );
    const boot = (line: string) => field(line, "boot");
    // An operator starts it again only once ha2 has taken the group over: Heartbeat 3 loses a node
    // that joins during its peer's takeover, and the peer then never leaves its transition.
    await waitFor(
      async () => ((await holding("ha2")) === "all" && (await labRun("ha2", "cl_status nodestatus ha1.domain.local || true")).trim() === "dead") || undefined,
      { timeoutMs: 300_000, intervalMs: 3000, what: "ha2 to hold both groups and see ha1 dead" },
    );
    await labRun("ha1", "systemctl start heartbeat");
    await waitFor(async () => (await domainsOn("ha1")).includes("test") || undefined, { timeoutMs: 600_000, intervalMs: 5000, what: "test back on ha1" });
    expect([boot(after), await domainsOn("ha1")]).toEqual([boot(before), ["test"]]);
  });

  it("cutting only the public link never leaves a guest running on both nodes", async () => {
    await labLink("public", "down");
    const seen: string[] = [];
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      // Heartbeat's scripts keep the emulated hosts busy here: give a slow sample a second and third try.
      const [a, b] = await Promise.all(LAB_NODES.map((node) => domainsOn(node, { attempts: 3, timeoutMs: 30_000 })));
      for (const name of a!) if (b!.includes(name)) seen.push(name);
      await new Promise((r) => setTimeout(r, 2000));
    }
    await labLink("public", "up");
    expect([seen, await domainsOn("ha1"), await domainsOn("ha2")]).toEqual([[], ["test"], ["web"]]);
  });

  it("destroy leaves no domain, no DRBD resource and no volume group", async () => {
    await stack.destroy();
    for (const node of LAB_NODES) {
      expect([await domainsOn(node), (await labRun(node, "vgs --noheadings 2>/dev/null; grep -c cs: /proc/drbd || true")).trim()]).toEqual([[], "0"]);
    }
  });
});
