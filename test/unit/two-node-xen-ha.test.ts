import * as pulumi from "@pulumi/pulumi";
import { clusterNode, unwrapSecrets } from "./fixtures/cluster";
import type { ClusterVmArgs, TwoNodeXenHaArgs } from "../../components/two-node-xen-ha";

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
let registered: Registered[] = [];


pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      registered.push({ type: args.type, name: args.name, inputs: unwrapSecrets(args.inputs) as Record<string, unknown> });
      return { id: `${args.name}-id`, state: args.inputs };
    },
    call: () => ({}),
  },
  "project",
  "stack",
  false,
);

// Imported after the mocks are in place.
import { TwoNodeXenHa } from "../../components/two-node-xen-ha";

const node = clusterNode;

const testVm: ClusterVmArgs = { name: "test", slot: 0, home: "ha1", ip: "10.1.1.50", install: { method: "xen-tools", installMethod: "tar", installSource: "/srv/rootfs.tar" } };
const webVm: ClusterVmArgs = { name: "web", slot: 1, home: "ha2", type: "pvh", memory: 256, swapSize: null, install: { method: "kernel", kernel: "/boot/vmlinuz", ramdisk: "/boot/initrd.img" } };

function args(vms: ClusterVmArgs[]): TwoNodeXenHaArgs {
  return { nodes: [node(1), node(2)], heartbeat: { authKey: pulumi.secret("SecretKey123!!!") }, vms };
}

async function build(vms: ClusterVmArgs[]): Promise<Registered[]> {
  registered = [];
  const cluster = new TwoNodeXenHa("cluster", args(vms));
  await new Promise<void>((resolve) => cluster.vms.apply(() => resolve()));
  await new Promise((r) => setImmediate(r));
  return registered;
}

const typeOf = (t: string) => t.replace("pulumi-nodejs:dynamic/xenha:", "");
const summary = (rs: Registered[]) => rs.map((r) => `${typeOf(r.type)} ${r.name}`).sort();

describe("TwoNodeXenHa", () => {
  it("builds the seed's cluster: networks, LVM, DRBD per disk, the DomU, migration trust and Heartbeat", async () => {
    expect(summary(await build([testVm]))).toEqual([
      "DrbdResource cluster-test-disk",
      "DrbdResource cluster-test-swap",
      "HeartbeatCluster cluster-heartbeat",
      "LogicalVolume cluster-ha1-meta",
      "LogicalVolume cluster-ha2-meta",
      "LogicalVolume cluster-ha2-test-disk",
      "LogicalVolume cluster-ha2-test-swap",
      "NodeNetwork cluster-ha1-network",
      "NodeNetwork cluster-ha2-network",
      "VolumeGroup cluster-ha1-vg",
      "VolumeGroup cluster-ha2-vg",
      "XenDomU cluster-test",
      "XenMigrationTrust cluster-migration",
      "XenToolsImage cluster-test-image",
      "pulumi-xen-ha:index:TwoNodeXenHa cluster",
    ]);
  });

  it("adding a VM adds exactly its resources and leaves the others' inputs alone", async () => {
    const before = await build([testVm]);
    const after = await build([testVm, webVm]);
    const inputsOf = (rs: Registered[]) => new Map(rs.map((r) => [r.name, JSON.stringify(r.inputs)]));
    const old = inputsOf(before);
    const changedOrNew = after.filter((r) => old.get(r.name) !== JSON.stringify(r.inputs)).map((r) => r.name).sort();
    expect(changedOrNew).toEqual(["cluster-ha1-web-disk", "cluster-ha2-web-disk", "cluster-heartbeat", "cluster-web", "cluster-web-disk"]);
  });

  it("numbers a VM's DRBD devices, ports and meta indexes from its slot", async () => {
    const drbd = (await build([webVm])).find((r) => r.name === "cluster-web-disk")!;
    const first = (drbd.inputs.nodes as Record<string, unknown>[])[0]!;
    expect([first.device, first.port, first.metaDisk]).toEqual(["/dev/drbd3", 7791, { device: "/dev/vg/meta", index: 2 }]);
  });

  it("syncs a xen-tools image from its home node, and skips the sync of new empty volumes", async () => {
    const rs = await build([testVm, webVm]);
    const drbd = (name: string) => rs.find((r) => r.name === name)!.inputs;
    expect([drbd("cluster-test-disk").initialSyncSource, drbd("cluster-test-disk").skipInitialSync, drbd("cluster-web-disk").initialSyncSource, drbd("cluster-web-disk").skipInitialSync]).toEqual([
      "ha1.domain.local",
      false,
      "ha2.domain.local",
      true,
    ]);
  });

  it("zeroes on creation the volumes whose sync is skipped, and only those and the meta volume", async () => {
    const rs = await build([testVm, webVm]);
    const zeroed = rs.filter((r) => r.type.endsWith(":LogicalVolume") && r.inputs.zeroOnCreate === true).map((r) => r.name).sort();
    expect(zeroed).toEqual(["cluster-ha1-meta", "cluster-ha1-web-disk", "cluster-ha2-meta", "cluster-ha2-web-disk"]);
  });

  it("wipes a VM's DRBD meta-data with its volumes, so a VM added later in the same slot starts from a full sync", async () => {
    const rs = await build([testVm, webVm]);
    expect(rs.filter((r) => r.type.endsWith(":DrbdResource")).map((r) => r.inputs.wipeMetadataOnDelete)).toEqual([true, true, true]);
  });

  it("gives Heartbeat each VM with its home node", async () => {
    const hb = (await build([testVm, webVm])).find((r) => r.name === "cluster-heartbeat")!;
    expect(hb.inputs.domains).toEqual([
      { name: "test", home: "ha1.domain.local" },
      { name: "web", home: "ha2.domain.local" },
    ]);
  });

  it("leaves a VM meant to be stopped out of Heartbeat's groups, which would start it", async () => {
    const hb = (await build([{ ...testVm, state: "stopped" }, webVm])).find((r) => r.name === "cluster-heartbeat")!;
    expect(hb.inputs.domains).toEqual([{ name: "web", home: "ha2.domain.local" }]);
  });

  it("refuses two VMs in one slot, naming the field", () => {
    expect(() => new TwoNodeXenHa("bad", args([testVm, { ...webVm, slot: 0 }]))).toThrow(/vms\[1\]\.slot: slot 0 is already taken by test/);
  });

  it("refuses a slot the meta volume cannot hold", () => {
    expect(() => new TwoNodeXenHa("bad", args([{ ...webVm, slot: 4, swapSize: "128M" }]))).toThrow(/vms\[0\]\.slot: slot 4 needs meta-data indexes up to 9, so a meta volume of 1280 MiB/);
  });

  it("counts only the disks a VM has: without swap, its slot needs one meta-data index", () => {
    const noSwap = { ...webVm, slot: 4, swapSize: null };
    expect(() => new TwoNodeXenHa("bad", args([noSwap]))).toThrow(/vms\[0\]\.slot: slot 4 needs meta-data indexes up to 8, so a meta volume of 1152 MiB/);
    expect(() => new TwoNodeXenHa("ok", { ...args([{ ...noSwap, slot: 0 }]), metaVolumeSize: "128M" })).not.toThrow();
  });

  it("refuses a home that is not one of the nodes", () => {
    expect(() => new TwoNodeXenHa("bad", args([{ ...webVm, home: "ha3" }]))).toThrow(/vms\[0\]\.home: must name one of the nodes \(ha1, ha2\)/);
  });

  describe("checks its own inputs before registering any child", () => {
    /** Builds the component and returns the error it throws, and what it registered before. */
    function attempt(change: (a: TwoNodeXenHaArgs) => TwoNodeXenHaArgs): { error: string; children: number } {
      registered = [];
      try {
        new TwoNodeXenHa("bad", change(args([testVm, webVm])));
      } catch (err) {
        return { error: String((err as Error).message), children: registered.filter((r) => r.type.includes("dynamic")).length };
      }
      return { error: "nothing thrown", children: registered.length };
    }
    const vm = (i: number, extra: Partial<ClusterVmArgs>) => (a: TwoNodeXenHaArgs) => ({ ...a, vms: a.vms.map((v, j) => (j === i ? { ...v, ...extra } : v)) });
    const fourVms = (last: Partial<ClusterVmArgs>) => (a: TwoNodeXenHaArgs) => ({
      ...a,
      vms: [testVm, webVm, { ...webVm, name: "db", slot: 2 }, { ...webVm, name: "cache", slot: 3, ...last }],
    });

    it("names the fourth VM's name when it holds a shell command, before any child resource", () => {
      expect(attempt(fourVms({ name: "x$(touch /tmp/p)" }))).toEqual({
        error: expect.stringContaining("vms[3].name: may hold only letters, digits and _ . -"),
        children: 0,
      });
    });

    it("names the VM when a volume named after it would be refused by LVM", () => {
      expect(attempt(vm(1, { name: "snapshot1" })).error).toMatch(/vms\[1\]\.name: names the volume and DRBD resource snapshot1-disk, which uses a prefix or suffix LVM reserves/);
    });

    it("names the VM when xen-create-image would refuse its name as a host name", () => {
      expect(attempt(vm(0, { name: "web_1" })).error).toMatch(/vms\[0\]\.name: is xen-create-image's --hostname for this VM/);
    });

    it("refuses a misspelt VM field, suggesting the right one", () => {
      expect(attempt(vm(0, { diskSzie: "10G" } as Partial<ClusterVmArgs>)).error).toContain('vms[0].diskSzie: unknown field; did you mean "diskSize"?');
    });

    it("refuses a misspelt hostKey in a node's connection", () => {
      const withTypo = (a: TwoNodeXenHaArgs): TwoNodeXenHaArgs => ({ ...a, nodes: [{ ...a.nodes[0], connection: { host: "10.1.1.100", privateKey: "k", hostkey: "SHA256:x" } as never }, a.nodes[1]] });
      expect(attempt(withTypo).error).toContain('nodes[0].connection.hostkey: unknown field; did you mean "hostKey"?');
    });

    it("refuses a node address with leading zeros", () => {
      const zeros = (a: TwoNodeXenHaArgs): TwoNodeXenHaArgs => ({ ...a, nodes: [{ ...a.nodes[0], publicAddress: "010.1.1.100" }, a.nodes[1]] });
      expect(attempt(zeros).error).toMatch(/nodes\[0\]\.publicAddress: must not have leading zeros/);
    });

    it("refuses an interface name starting with -", () => {
      const dash = (a: TwoNodeXenHaArgs): TwoNodeXenHaArgs => ({ ...a, nodes: [a.nodes[0], { ...a.nodes[1], crossoverInterface: "-eth1" }] });
      expect(attempt(dash).error).toContain("nodes[1].crossoverInterface: must not start with -");
    });

    it("refuses a VM's malformed address", () => {
      expect(attempt(vm(0, { ip: "10.1.1" })).error).toMatch(/vms\[0\]\.ip: must be an IPv4 address/);
    });

    it("refuses a size beyond 1 PiB", () => {
      expect(attempt(vm(1, { diskSize: "2P" })).error).toContain("vms[1].diskSize: must be at most 1 PiB");
    });

    it("refuses a size without a unit for a xen-tools VM, which xen-create-image would not take", () => {
      expect(attempt(vm(0, { diskSize: "5120" })).error).toContain('vms[0].diskSize: xen-create-image takes only sizes in G or M, such as "5G" or "384M"');
    });

    it("refuses memory below what a guest boots in", () => {
      expect(attempt(vm(1, { memory: 16 })).error).toContain("vms[1].memory: must be at least 32 (MiB)");
    });

    it("refuses a kernel path with a parent segment", () => {
      expect(attempt(vm(1, { install: { method: "kernel", kernel: "/boot/../etc/shadow" } })).error).toMatch(/vms\[1\]\.install\.kernel: must not contain \. or \.\. segments/);
    });

    it("refuses a slot whose DRBD ports would not exist", () => {
      const far = (a: TwoNodeXenHaArgs): TwoNodeXenHaArgs => ({ ...a, metaVolumeSize: "64T", vms: [{ ...webVm, slot: 30000 }] });
      expect(attempt(far).error).toMatch(/vms\[0\]\.slot: slot 30000 would need DRBD ports or minors beyond what exists/);
    });

    it("names the DRBD devices, ports and meta-data indexes two VMs in one slot would share", () => {
      expect(attempt(vm(1, { slot: 0 })).error).toContain("/dev/drbd1–2, ports 7789–7790 and meta-data indexes 0–1");
    });

    it("leaves values that are not known yet to the child resources", () => {
      const deferred = (a: TwoNodeXenHaArgs): TwoNodeXenHaArgs => ({ ...a, nodes: [{ ...a.nodes[0], connection: pulumi.output({ host: "ha1", password: "p" }) }, a.nodes[1]] });
      expect(attempt(deferred).error).toBe("nothing thrown");
    });
  });
});
