/**
 * Taking over the recipe's cluster built by hand (`lab.sh seed-by-hand`) through the real engine:
 * the guest keeps running (same domain id), no meta-data is made and nothing resyncs, its data is
 * intact, a second up changes nothing, a VM can be added, and a hard kill fails the adopted guest
 * over. Then a by-hand cluster that deviates (ha2's meta-data indexes swapped) is refused in
 * preview, naming the difference, with nothing changed on the hosts.
 */
import * as pulumi from "@pulumi/pulumi";
import { TwoNodeXenHa, type ClusterVmArgs } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, type EngineStack } from "../support/engine";
import { labDomains, labKill, labRun, labScript, labStart, waitFor, LAB_NODES, type LabNodeName } from "../support/lab";
import { labClusterNode, labGuestVm, report } from "../support/lab-inputs";

jest.setTimeout(40 * 60_000);

const GUEST = "/var/lib/xen-ha-lab/guest";
/** The recipe's guest as seed-by-hand made it (lab/seed-by-hand/files/test.cfg), in the component's words. */
const SEED_VM: ClusterVmArgs = {
  name: "test",
  slot: 0,
  home: "ha1",
  type: "pvh",
  memory: 384,
  ip: "10.1.1.50",
  diskSize: "1G",
  swapSize: "384M",
  onCrash: "restart",
  install: { method: "kernel", kernel: `${GUEST}/vmlinuz`, ramdisk: `${GUEST}/initrd.img`, root: "/dev/xvda2 ro", extra: "console=hvc0 ip=10.1.1.50/24 name=test" },
  // The recipe's numbering is slot 0's; its guest sees xen-create-image's devices.
  drbd: { disk: { vdev: "xvda2" }, swap: { vdev: "xvda1" } },
};

const desired = { vms: [SEED_VM] };

function program() {
  const cluster = new TwoNodeXenHa("cluster", {
    nodes: [labClusterNode("ha1"), labClusterNode("ha2")],
    adopt: true,
    metaVolumeSize: "1G",
    drbd: { usageCount: "yes" },
    heartbeat: { authKey: pulumi.secret("SecretKey123!!!"), watchdog: "/dev/watchdog" },
    vms: desired.vms,
  });
  return Promise.resolve({ vms: cluster.vms });
}

/** Lines of the kernel log that would mean meta-data was made or a resync ran. */
const RESYNC_LOG = "dmesg | grep -c -E 'Began resync|Resync done|new current UUID|Writing meta data super block' || true";
const MARKER_OFFSET_MIB = 8;
const marker = (node: LabNodeName, device: string) =>
  labRun(node, `dd if=${device} bs=1M skip=${MARKER_OFFSET_MIB} count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1`).then((s) => s.trim());
const domid = (node: LabNodeName) => labRun(node, "xl domid test").then((s) => s.trim());
const drbdStates = (node: LabNodeName) => labRun(node, "for r in test-disk test-swap; do echo \"$(drbdadm cstate $r) $(drbdadm dstate $r)\"; done").then((s) => s.trim().split("\n"));
/** What `pulumi preview` must leave as it is: every file the recipe wrote, and the DRBD and Xen state. */
const hostPicture = (node: LabNodeName) =>
  labRun(
    node,
    "sha256sum /etc/drbd.conf /etc/xen/test.cfg /etc/ha.d/ha.cf /etc/ha.d/haresources /etc/ha.d/authkeys /etc/ha.d/resource.d/xendomainsHA1 /etc/network/interfaces; " +
      "ls /etc/drbd.d; cat /proc/drbd | grep -E '^ *[0-9]+:'; xl list | awk 'NR > 1 {print $1, $2}'",
  );

describeWithEngine("taking over the recipe's cluster built by hand", () => {
  let stack: EngineStack;
  const before: Record<string, string> = {};

  beforeAll(async () => {
    const t0 = Date.now();
    await labScript(["seed-by-hand"], 35 * 60_000);
    report(`seed-by-hand built the recipe's cluster in ${Math.round((Date.now() - t0) / 1000)} s`);
    stack = await createEngineStack({ program, projectName: "adoption-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await stack?.dispose({ destroy: false }).catch(() => undefined);
  });

  it("adopts it: the guest keeps its domain id, no meta-data is made, nothing resyncs, the data is intact", async () => {
    await labRun("ha1", `dd if=/dev/urandom of=/dev/drbd1 bs=1M seek=${MARKER_OFFSET_MIB} count=1 oflag=direct status=none`);
    before.marker = await marker("ha1", "/dev/drbd1");
    before.domid = await domid("ha1");
    const resyncs = await Promise.all(LAB_NODES.map((n) => labRun(n, RESYNC_LOG).then((s) => s.trim())));
    const pictures = await Promise.all(LAB_NODES.map(hostPicture));

    const preview = await stack.preview();
    expect(await Promise.all(LAB_NODES.map(hostPicture))).toEqual(pictures);

    const up = await stack.up();
    report(`adoption: ${JSON.stringify(changesOnly(up.changes))}`);
    expect({
      preview: `${preview.stdout}\n${preview.stderr}`.includes("error:"),
      domid: await domid("ha1"),
      ha2: await labDomains("ha2"),
      resyncs: await Promise.all(LAB_NODES.map((n) => labRun(n, RESYNC_LOG).then((s) => s.trim()))),
      states: await Promise.all(LAB_NODES.map(drbdStates)),
      marker: await marker("ha1", "/dev/drbd1"),
      // The recipe's one drbd.conf became the include form, kept as it was beside it.
      mainConfig: await labRun("ha1", "grep -c '^include' /etc/drbd.conf; ls /etc/drbd.conf.before-pulumi-xen-ha /etc/drbd.d/test-disk.res /etc/drbd.d/test-swap.res").then((s) => s.trim().split("\n")),
    }).toEqual({
      preview: false,
      domid: before.domid,
      ha2: [],
      resyncs,
      states: [
        ["Connected UpToDate/UpToDate", "Connected UpToDate/UpToDate"],
        ["Connected UpToDate/UpToDate", "Connected UpToDate/UpToDate"],
      ],
      marker: before.marker,
      mainConfig: ["2", "/etc/drbd.conf.before-pulumi-xen-ha", "/etc/drbd.d/test-disk.res", "/etc/drbd.d/test-swap.res"],
    });
  });

  it("a second up changes nothing", async () => {
    expect(changesOnly((await stack.up()).changes)).toEqual({});
  });

  it("adding a VM adds exactly that VM", async () => {
    desired.vms = [SEED_VM, labGuestVm("web", 1, "ha2", "10.1.1.51")];
    const up = await stack.up();
    const created = up.diff.split("\n").filter((l) => /^\s+\+ pulumi-nodejs:dynamic\/xenha:/.test(l)).length;
    expect([created, changesOnly(up.changes), await domid("ha1"), await labDomains("ha2")]).toEqual([
      // Two backing volumes, the DRBD resource and the guest; Heartbeat's groups gain it (an update).
      4,
      { create: 4, update: 1 },
      before.domid,
      ["web"],
    ]);
  });

  it("a hard kill of ha1 fails the adopted guest over to ha2 with its data", async () => {
    const t0 = Date.now();
    await labKill("ha1");
    await waitFor(async () => (await labDomains("ha2", { timeoutMs: 20_000 })).includes("test") || undefined, { timeoutMs: 600_000, intervalMs: 3000, what: "test to run on ha2" });
    report(`adopted guest running on ha2 ${Math.round((Date.now() - t0) / 1000)} s after ha1 was killed`);
    // `xl list` shows the guest while its disks are still being attached: read once it holds test-disk.
    await waitFor(async () => (await labRun("ha2", "drbdadm role test-disk")).startsWith("Primary/") || undefined, { timeoutMs: 120_000, intervalMs: 2000, what: "test-disk Primary on ha2" });
    expect(await marker("ha2", "/dev/drbd1")).toBe(before.marker);
    await labStart("ha1");
  });
});

describeWithEngine("a cluster built by hand that deviates from the inputs", () => {
  let stack: EngineStack;

  beforeAll(async () => {
    await labScript(["test-prepare"], 20 * 60_000);
    await labScript(["seed-by-hand"], 35 * 60_000, { SEED_SWAP_META_ON_HA2: "1" });
    stack = await createEngineStack({ program, projectName: "adoption-deviates-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await stack?.dispose({ destroy: false }).catch(() => undefined);
  });

  it("preview refuses ha2's swapped meta-data indexes, naming them, and changes nothing on the hosts", async () => {
    desired.vms = [SEED_VM];
    const pictures = await Promise.all(LAB_NODES.map(hostPicture));
    const failed = await stack.preview().then(
      () => "",
      (err: Error) => err.message,
    );
    // The engine stops at the first resource whose check fails: either disk may be the one named.
    const named =
      /property nodes\[1\]\.metaDisk\.index value .* has a problem: (test-disk on ha2\.domain\.local runs with meta-data \/dev\/vg\/meta\[1\], the inputs say \/dev\/vg\/meta\[0\]|test-swap on ha2\.domain\.local runs with meta-data \/dev\/vg\/meta\[0\], the inputs say \/dev\/vg\/meta\[1\])\. .*Nothing was changed/;
    expect({ refused: named.test(failed), unchanged: await Promise.all(LAB_NODES.map(hostPicture)) }).toEqual({ refused: true, unchanged: pictures });
  });
});
