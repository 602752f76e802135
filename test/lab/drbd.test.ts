/**
 * DrbdResource between the two lab nodes through the real engine, as the seed sets it up:
 * volumes on both nodes, external meta-data on a shared meta volume, the node that holds the
 * data forced primary for a full initial sync, then Secondary/Secondary.
 */
import { LogicalVolume, VolumeGroup, DrbdResource } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, LAB_TIMEOUT_MS, type EngineStack } from "../support/engine";
import { assignSeedAddresses, labConnection, labExec, labRun, LAB_NODES, type LabNodeName } from "../support/lab";
import { labConnectionInput, report } from "../support/lab-inputs";

jest.setTimeout(LAB_TIMEOUT_MS);

interface Desired {
  drbd: boolean;
  maxBuffers: number;
  /** An extra resource that must be refused: skipInitialSync on a volume holding data. */
  refusedExtra: boolean;
  /** A new resource with skipInitialSync on the zeroed "fresh" volume, at this meta index (3 is past the meta volume's end). */
  freshIndex: number | undefined;
  keepTestDisk: boolean;
  /** test-disk takes over what exists of it (adopt). */
  adoptTestDisk: boolean;
  testDiskSize: string;
  /** The address the stack reaches the nodes at (the lab's own by default). */
  host?: string;
}
const desired: Desired = { drbd: false, maxBuffers: 2048, refusedExtra: false, freshIndex: undefined, keepTestDisk: true, adoptTestDisk: false, testDiskSize: "256M" };
const hostnames: Record<LabNodeName, string> = { ha1: "", ha2: "" };

function program() {
  const lab = labConnection();
  const volumes: Record<string, LogicalVolume[]> = {};
  for (const node of LAB_NODES) {
    const connection = labConnectionInput(node, { pin: true, ...(desired.host ? { host: desired.host } : {}) });
    const vg = new VolumeGroup(`${node}-vg`, { connection, name: "vg", devices: [lab.nodes[node].dataDisk] });
    // Extents are reused from earlier volumes: a volume meant to be new and empty is zeroed on creation.
    for (const [name, size] of Object.entries({ "test-disk": desired.testDiskSize, "test-swap": "64M", extra: "64M", fresh: "64M", meta: "384M" })) {
      const zeroOnCreate = name === "meta" || name === "test-swap" || name === "fresh";
      (volumes[name] ??= []).push(new LogicalVolume(`${node}-${name}`, { connection, volumeGroup: vg.name, name, size, zeroOnCreate }, { dependsOn: vg }));
    }
  }
  if (!desired.drbd) return Promise.resolve({});

  const resource = (name: string, minor: number, index: number, extra: Record<string, unknown> = {}) => {
    const nodeOf = (node: LabNodeName) => ({
      connection: labConnectionInput(node, { pin: true, ...(desired.host ? { host: desired.host } : {}) }),
      hostname: hostnames[node],
      address: lab.nodes[node].crossoverAddress,
      port: 7788 + minor,
      device: `/dev/drbd${minor}`,
      disk: `/dev/vg/${name}`,
      metaDisk: { device: "/dev/vg/meta", index },
    });
    return new DrbdResource(
      name,
      {
        name,
        initialSyncSource: hostnames.ha1,
        usageCount: "no",
        maxBuffers: desired.maxBuffers,
        nodes: [nodeOf("ha1"), nodeOf("ha2")],
        ...extra,
      },
      { dependsOn: [...volumes[name]!, ...volumes.meta!] },
    );
  };
  const out: Record<string, unknown> = {};
  if (desired.keepTestDisk) out.testDisk = resource("test-disk", 1, 0, { size: desired.testDiskSize, adopt: desired.adoptTestDisk }).status;
  out.testSwap = resource("test-swap", 2, 1, { skipInitialSync: true }).status;
  if (desired.refusedExtra) resource("extra", 3, 2, { skipInitialSync: true });
  if (desired.freshIndex !== undefined) out.fresh = resource("fresh", 4, desired.freshIndex, { skipInitialSync: true }).status;
  return Promise.resolve(out);
}

const sha = (node: LabNodeName, device: string, mib: number) =>
  labRun(node, `set -o pipefail; dd if=${device} bs=1M count=${mib} iflag=direct status=none | sha256sum | cut -d' ' -f1`).then((s) => s.trim());

async function drbdState(node: LabNodeName, name: string): Promise<string> {
  const r = await labExec(node, `drbdadm role ${name} && drbdadm cstate ${name} && drbdadm dstate ${name}`);
  return r.code === 0 ? r.stdout.trim().split("\n").join(" ") : `down (${r.stderr.trim()})`;
}

describeWithEngine("DRBD on the lab through the engine", () => {
  let stack: EngineStack;

  beforeAll(async () => {
    await assignSeedAddresses();
    for (const node of LAB_NODES) hostnames[node] = (await labRun(node, "uname -n")).trim();
    stack = await createEngineStack({ program, projectName: "drbd-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    for (const node of LAB_NODES) await labExec(node, "drbdadm secondary all 2>/dev/null; true");
    await stack?.dispose();
  });

  it("prepares the volumes, and the DomU's data on ha1 as xen-create-image would leave it", async () => {
    await stack.up();
    await labRun("ha1", "dd if=/dev/urandom of=/dev/vg/test-disk bs=1M count=64 status=none && dd if=/dev/urandom of=/dev/vg/extra bs=1M count=8 status=none && sync");
    expect(await sha("ha1", "/dev/vg/test-disk", 64)).not.toBe(await sha("ha2", "/dev/vg/test-disk", 64));
  });

  it("replicates ha1's data to ha2 with a full initial sync, ending Secondary/Secondary UpToDate/UpToDate", async () => {
    desired.drbd = true;
    const started = Date.now();
    const up = await stack.up();
    report(`DRBD create with full sync of 256 MiB: ${Math.round((Date.now() - started) / 1000)} s`);
    expect([
      changesOnly(up.changes),
      await drbdState("ha1", "test-disk"),
      await drbdState("ha2", "test-disk"),
      await sha("ha2", "/dev/vg/test-disk", 64),
    ]).toEqual([
      { create: 2 },
      "Secondary/Secondary Connected UpToDate/UpToDate",
      "Secondary/Secondary Connected UpToDate/UpToDate",
      await sha("ha1", "/dev/vg/test-disk", 64),
    ]);
  });

  it("writes on ha2 through DRBD reach ha1's disk (protocol C)", async () => {
    await labRun("ha2", "head -c 16M /dev/urandom > /tmp/written && drbdadm primary test-disk && dd if=/tmp/written of=/dev/drbd1 bs=1M oflag=direct status=none && drbdadm secondary test-disk");
    const written = (await labRun("ha2", "sha256sum < /tmp/written | cut -d' ' -f1")).trim();
    expect(await sha("ha1", "/dev/vg/test-disk", 16)).toBe(written);
  });

  it("skips the initial sync of new, empty volumes when asked", async () => {
    expect([await drbdState("ha1", "test-swap"), await drbdState("ha2", "test-swap")]).toEqual([
      "Secondary/Secondary Connected UpToDate/UpToDate",
      "Secondary/Secondary Connected UpToDate/UpToDate",
    ]);
  });

  it("writes the same file on both nodes, checked by drbdadm", async () => {
    const [a, b] = await Promise.all(LAB_NODES.map((n) => labRun(n, "cat /etc/drbd.d/test-disk.res")));
    expect([a === b, /protocol\s+C;/.test(a!), /meta-disk\s+\/dev\/vg\/meta\s*\[0\];/.test(a!)]).toEqual([true, true, true]);
  });

  it("sets DRBD up for Xen on both nodes: enabled at boot, and copying writes instead of lending the guest's pages to TCP", async () => {
    const settings = "systemctl is-enabled drbd.service; cat /sys/module/drbd/parameters/disable_sendpage; grep -c '^options drbd disable_sendpage=1$' /etc/modprobe.d/pulumi-xen-ha-drbd.conf";
    for (const node of LAB_NODES) expect((await labRun(node, settings)).trim().split("\n")).toEqual(["enabled", "Y", "1"]);
  });

  it("a second up changes nothing", async () => {
    expect(changeCount((await stack.up()).changes)).toBe(0);
  });

  it("reaching the same nodes by another address is an update that touches no data and no meta-data", async () => {
    const gi = (n: LabNodeName) => labRun(n, "drbdadm show-gi test-disk | head -n 1");
    const before = await Promise.all(LAB_NODES.map(async (n) => [await sha(n, "/dev/vg/test-disk", 64), await gi(n), await drbdState(n, "test-disk")]));
    const marker = `host-change-${Date.now()}`;
    for (const node of LAB_NODES) await labRun(node, `echo ${marker} > /dev/kmsg`);
    desired.host = "localhost";
    const preview = await stack.preview();
    const up = await stack.up();
    const after = await Promise.all(LAB_NODES.map(async (n) => [await sha(n, "/dev/vg/test-disk", 64), await gi(n), await drbdState(n, "test-disk")]));
    // No resync, no new meta-data, nothing taken down since the marker.
    const kernel = await Promise.all(LAB_NODES.map((n) => labRun(n, `dmesg | sed -n '/${marker}/,$p' | grep -cE 'drbd.*(Began resync|conn\\( Connected -> |disk\\( UpToDate -> )' || true`)));
    expect([changesOnly(preview.changes), changesOnly(up.changes), after, kernel.map((k) => k.trim())]).toEqual([{ update: 14 }, { update: 14 }, before, ["0", "0"]]);
  });

  it("refuses to skip the sync of a volume that holds data, and creates no meta-data", async () => {
    desired.refusedExtra = true;
    const failure = await stack.up().then(() => "up succeeded", (e: Error) => e.message);
    desired.refusedExtra = false;
    const probe = await labExec("ha1", "drbdmeta 3 v08 /dev/vg/meta 2 get-gi </dev/null");
    expect([/skipInitialSync is only for new, empty volumes/.test(failure), probe.code]).toEqual([true, 1]);
  });

  it("refuses a meta index past the end of the meta volume before anything runs, naming the size needed", async () => {
    desired.freshIndex = 3;
    const failure = await stack.up().then(() => "up succeeded", (e: Error) => e.message);
    desired.freshIndex = undefined;
    const left = await Promise.all(LAB_NODES.map((n) => labExec(n, "test -e /etc/drbd.d/fresh.res || grep -q '^ *4:' /proc/drbd")));
    expect([/meta-disk \/dev\/vg\/meta\[3\] needs a meta volume of at least 512 MiB/.test(failure), left.map((r) => r.code)]).toEqual([true, [1, 1]]);
  });

  it("brings a new, empty resource UpToDate on both nodes without a resync when skipInitialSync is set", async () => {
    desired.freshIndex = 2;
    const started = Date.now();
    const up = await stack.up();
    report(`DRBD create of 64 MiB with skipInitialSync: ${Math.round((Date.now() - started) / 1000)} s to UpToDate/UpToDate (the full sync above: see its line)`);
    const resyncs = await Promise.all(LAB_NODES.map((n) => labRun(n, "dmesg | grep -c 'drbd4: Began resync' || true")));
    expect([changesOnly(up.changes), await drbdState("ha1", "fresh"), await drbdState("ha2", "fresh"), resyncs.map((r) => r.trim())]).toEqual([
      { create: 1 },
      "Secondary/Secondary Connected UpToDate/UpToDate",
      "Secondary/Secondary Connected UpToDate/UpToDate",
      ["0", "0"],
    ]);
  });

  it("applies an option change online with adjust", async () => {
    desired.maxBuffers = 4096;
    const preview = await stack.preview();
    const up = await stack.up();
    const shown = await labRun("ha2", "drbdsetup show test-disk");
    expect([changesOnly(preview.changes), changesOnly(up.changes), /max-buffers\s+4096/.test(shown)]).toEqual([{ update: 3 }, { update: 3 }, true]);
  });

  it("grows the replicated device online when both backing volumes grow", async () => {
    desired.testDiskSize = "320M";
    const up = await stack.up();
    const sizes = await Promise.all(LAB_NODES.map((n) => labRun(n, "echo $(( $(cat /sys/block/drbd1/size) * 512 ))")));
    expect([changesOnly(up.changes), sizes.map((s) => Number(s.trim())), await sha("ha2", "/dev/vg/test-disk", 16)]).toEqual([
      { update: 3 },
      [320 * 1024 * 1024, 320 * 1024 * 1024],
      await sha("ha1", "/dev/vg/test-disk", 16),
    ]);
  });

  it("refuses to delete a resource that is Primary, and keeps it up", async () => {
    await labRun("ha1", "drbdadm primary test-disk");
    desired.keepTestDisk = false;
    const failure = await stack.up().then(() => "up succeeded", (e: Error) => e.message);
    expect([/test-disk is Primary on/.test(failure), await drbdState("ha2", "test-disk")]).toEqual([true, "Secondary/Primary Connected UpToDate/UpToDate"]);
  });

  it("deletes it once it is Secondary again, keeping the meta-data", async () => {
    await labRun("ha1", "drbdadm secondary test-disk");
    const up = await stack.up();
    const file = await labExec("ha1", "test -e /etc/drbd.d/test-disk.res");
    const meta = await labExec("ha1", "drbdmeta 1 v08 /dev/vg/meta 0 get-gi </dev/null");
    expect([changesOnly(up.changes), await drbdState("ha1", "test-disk"), file.code, meta.code]).toEqual([
      { delete: 1 },
      expect.stringMatching(/^down/),
      1,
      0,
    ]);
  });

  it("created again over the meta-data it left, it is refused until told to adopt it, then keeps that meta-data and the data: no create-md, no full sync", async () => {
    const before = await sha("ha1", "/dev/vg/test-disk", 64);
    const gi = () => Promise.all(LAB_NODES.map((n) => labRun(n, "drbdmeta 1 v08 /dev/vg/meta 0 get-gi </dev/null").then((s) => s.trim().split(":")[0])));
    const uuids = await gi();
    desired.keepTestDisk = true;
    const refused = await stack.up().then(() => "up succeeded", (e: Error) => e.message);
    const untouched = [await drbdState("ha1", "test-disk"), await labExec("ha1", "test -e /etc/drbd.d/test-disk.res").then((r) => r.code)];
    desired.adoptTestDisk = true;
    const up = await stack.up();
    expect([
      /test-disk already exists .*has its meta-data.*Set adopt: true/s.test(refused),
      untouched,
      changesOnly(up.changes),
      await drbdState("ha1", "test-disk"),
      await drbdState("ha2", "test-disk"),
      await gi(),
      await sha("ha2", "/dev/vg/test-disk", 64),
    ]).toEqual([
      true,
      [expect.stringMatching(/^down/), 1],
      { create: 1 },
      "Secondary/Secondary Connected UpToDate/UpToDate",
      "Secondary/Secondary Connected UpToDate/UpToDate",
      uuids,
      before,
    ]);
  });

  it("destroy leaves the adopted resource up with its meta-data; deleteAdopted takes it down", async () => {
    desired.keepTestDisk = false;
    const kept = await stack.up();
    const state = await drbdState("ha1", "test-disk");
    await labRun("ha1", "drbdadm down test-disk && rm -f /etc/drbd.d/test-disk.res");
    await labRun("ha2", "drbdadm down test-disk && rm -f /etc/drbd.d/test-disk.res");
    expect([changesOnly(kept.changes), state]).toEqual([{ delete: 1 }, "Secondary/Secondary Connected UpToDate/UpToDate"]);
  });

  it("destroy takes DRBD down and removes the volumes", async () => {
    await stack.destroy();
    for (const node of LAB_NODES) {
      expect((await labRun(node, "cat /proc/drbd | grep -c 'cs:' || true; vgs --noheadings 2>/dev/null")).trim()).toBe("0");
    }
  });
});
