/**
 * Taking over a cluster built by hand: the running DRBD resource's identity as the kernel prints
 * it, the refusals that keep the data where it is, the seed's drbd.conf split into one file per
 * resource, and the component's numbering for resources it did not name.
 */
import * as pulumi from "@pulumi/pulumi";
import { clusterPlan } from "../../components/cluster-plan";
import type { ClusterVmArgs, TwoNodeXenHaArgs } from "../../components/two-node-xen-ha";
import { adoptionFailures, type AdoptionProbe } from "../../provider/drbd/adoption";
import { resourceBlocksOf } from "../../provider/drbd/main-config";
import { parseRunningIdentity } from "../../provider/drbd/running-identity";
import { drbdNodeSchema, type DrbdNodeInputs } from "../../provider/drbd/schema";
import { clusterNode } from "./fixtures/cluster";

/** `drbdsetup show test-disk` on the seed's ha1 (DRBD 8.4, drbd-utils 9.22). */
const SHOW_HA1 = `resource test-disk {
    options {
    }
    net {
        allow-two-primaries	yes;
        after-sb-0pri    	discard-zero-changes;
    }
    _remote_host {
        address			ipv4 192.168.1.101:7789;
    }
    _this_host {
        address			ipv4 192.168.1.100:7789;
        volume 0 {
            device			minor 1;
            disk			"/dev/vg/test-disk";
            meta-disk			"/dev/vg/meta" [ 0 ];
            disk {
                on-io-error      	detach;
            }
        }
    }
}
`;

const node = (i: 1 | 2, change: Partial<DrbdNodeInputs> = {}): DrbdNodeInputs => ({
  ...drbdNodeSchema.parse({
    connection: { host: `10.1.1.${99 + i}`, privateKey: "key" },
    hostname: `ha${i}.domain.local`,
    address: `192.168.1.${99 + i}`,
    port: 7789,
    device: "/dev/drbd1",
    disk: "/dev/vg/test-disk",
    metaDisk: { device: "/dev/vg/meta", index: 0 },
  }),
  ...change,
});
const healthy = { connection: "Connected", role: "Secondary", peerRole: "Primary", disk: "UpToDate", peerDisk: "UpToDate" } as const;
const showOf = (ha: 1 | 2, index = 0) =>
  parseRunningIdentity(
    SHOW_HA1.replace("192.168.1.101:7789", ha === 1 ? "192.168.1.101:7789" : "192.168.1.100:7789")
      .replace("ipv4 192.168.1.100:7789;\n        volume", `ipv4 192.168.1.${99 + ha}:7789;\n        volume`)
      .replace('"/dev/vg/meta" [ 0 ]', `"/dev/vg/meta" [ ${index} ]`),
  );
const probe = (ha: 1 | 2, index = 0, status: AdoptionProbe["status"] = healthy): AdoptionProbe => ({ up: true, status, identity: showOf(ha, index) });

describe("the running identity of a DRBD resource (drbdsetup show)", () => {
  it("reads the minor, the disks and both addresses", () => {
    expect(parseRunningIdentity(SHOW_HA1)).toEqual({
      minor: 1,
      disk: "/dev/vg/test-disk",
      metaDisk: { device: "/dev/vg/meta", index: 0 },
      address: "192.168.1.100:7789",
      peerAddress: "192.168.1.101:7789",
    });
  });

  it("reads internal meta-data and says nothing of an empty answer", () => {
    expect(parseRunningIdentity(SHOW_HA1.replace('"/dev/vg/meta" [ 0 ]', "internal"))?.metaDisk).toBe("internal");
    expect(parseRunningIdentity("")).toBeUndefined();
  });
});

describe("taking over a running DRBD resource", () => {
  it("accepts the seed's resource as it runs: the same minor, disks, addresses, Connected and UpToDate", () => {
    expect(adoptionFailures("test-disk", [node(1), node(2)], [probe(1), probe(2)])).toEqual([]);
  });

  it("refuses a meta-data index that disagrees on one node, naming the node's input and what runs", () => {
    const failures = adoptionFailures("test-disk", [node(1), node(2)], [probe(1), probe(2, 1)]);
    expect(failures.map((f) => f.property)).toEqual(["nodes[1].metaDisk.index"]);
    expect(failures[0]!.reason).toMatch(/test-disk on ha2\.domain\.local runs with meta-data \/dev\/vg\/meta\[1\], the inputs say \/dev\/vg\/meta\[0\].*Nothing was changed/);
  });

  it("refuses another minor, another port or another peer address", () => {
    const failures = adoptionFailures("test-disk", [node(1, { device: "/dev/drbd3", port: 7791 }), node(2)], [probe(1), probe(2)]);
    expect(failures.map((f) => f.property)).toEqual(["nodes[0].device", "nodes[0].port", "nodes[0].port"]);
  });

  it("refuses a resource that is not UpToDate on both sides, in split brain, or up on one node only", () => {
    const syncing = { ...healthy, connection: "SyncSource", peerDisk: "Inconsistent" } as const;
    expect(adoptionFailures("test-disk", [node(1), node(2)], [probe(1, 0, syncing), probe(2)])[0]!.reason).toMatch(/is SyncSource .* taken over only Connected and UpToDate/);
    const split = { ...healthy, connection: "StandAlone", peerDisk: "DUnknown", splitBrain: true } as const;
    expect(adoptionFailures("test-disk", [node(1), node(2)], [probe(1, 0, split), probe(2)])[0]!.reason).toMatch(/split brain/);
    const down: AdoptionProbe = { up: false, status: { ...healthy, connection: "Unconfigured" } };
    expect(adoptionFailures("test-disk", [node(1), node(2)], [probe(1), down]).map((f) => f.property)).toEqual(["nodes[1]"]);
  });

  it("leaves a resource down on both nodes to the create's own checks", () => {
    const down: AdoptionProbe = { up: false, status: { ...healthy, connection: "Unconfigured" } };
    expect(adoptionFailures("test-disk", [node(1), node(2)], [down, down])).toEqual([]);
  });
});

describe("the seed's /etc/drbd.conf, one block per resource", () => {
  const SEED = `global { usage-count yes; }
common { syncer { rate 90M; } }
# resource old { this is a comment }
resource test-disk {
  protocol C;
  net { allow-two-primaries; } ## "quoted { brace"
  on ha1.domain.local { device /dev/drbd1; disk /dev/vg/test-disk; address 192.168.1.100:7789; meta-disk /dev/vg/meta[0]; }
  on ha2.domain.local { device /dev/drbd1; disk /dev/vg/test-disk; address 192.168.1.101:7789; meta-disk /dev/vg/meta[0]; }
}
resource test-swap {
  syncer { }
  on ha1.domain.local { device /dev/drbd2; disk "/dev/vg/test-swap"; address 192.168.1.100:7790; meta-disk /dev/vg/meta[1]; }
}
`;

  it("finds each resource block as written, and nothing in comments, global or common", () => {
    const blocks = resourceBlocksOf(SEED);
    expect(blocks.map((b) => b.name)).toEqual(["test-disk", "test-swap"]);
    expect(blocks[0]!.text).toMatch(/^resource test-disk \{\n[\s\S]*meta-disk \/dev\/vg\/meta\[0\]; \}\n\}\n$/);
    expect(blocks[1]!.text.trim().endsWith("}")).toBe(true);
  });
});

describe("TwoNodeXenHa's DRBD numbering for a cluster built by hand", () => {
  const vm = (change: Partial<ClusterVmArgs> = {}): ClusterVmArgs => ({ name: "test", slot: 0, home: "ha1", install: { method: "kernel", kernel: "/boot/vmlinuz" }, ...change });
  const args = (vms: ClusterVmArgs[], adopt = true): TwoNodeXenHaArgs => ({ nodes: [clusterNode(1), clusterNode(2)], heartbeat: { authKey: pulumi.secret("k") }, vms, adopt });
  const numbering = (a: TwoNodeXenHaArgs) =>
    clusterPlan(a).vms.flatMap((v) => v.drbdResources.map((r) => ({ name: r.name, vdev: r.vdev, adopt: r.args.adopt, node: (r.args.nodes as unknown as DrbdNodeInputs[])[1]! })));

  it("takes each disk's resource, minor, port, meta index and guest device from the VM's drbd field", () => {
    const [disk, swap] = numbering(args([vm({ drbd: { disk: { minor: 5, vdev: "xvda2" }, swap: { resource: "test-sw", port: 7900, metaIndex: 6, vdev: "xvda1" } } })]));
    expect([disk!.name, disk!.vdev, disk!.adopt, disk!.node.device, disk!.node.port, disk!.node.metaDisk, disk!.node.disk]).toEqual([
      "test-disk", "xvda2", true, "/dev/drbd5", 7793, { device: "/dev/vg/meta", index: 4 }, "/dev/vg/test-disk",
    ]);
    expect([swap!.name, swap!.node.device, swap!.node.port, swap!.node.metaDisk, swap!.node.disk]).toEqual(["test-sw", "/dev/drbd2", 7900, { device: "/dev/vg/meta", index: 6 }, "/dev/vg/test-sw"]);
  });

  it("gives a VM without a drbd field the slot's numbering, and no adopt unless asked", () => {
    const [disk] = numbering(args([vm({ slot: 1 })], false));
    expect([disk!.node.device, disk!.node.port, disk!.node.metaDisk, disk!.adopt]).toEqual(["/dev/drbd3", 7791, { device: "/dev/vg/meta", index: 2 }, undefined]);
  });

  it("refuses two disks on one minor, port or meta index, and an index past the meta volume, naming the VM's field", () => {
    const clash = args([vm(), vm({ name: "web", slot: 1, drbd: { disk: { minor: 1, metaIndex: 8 } } })]);
    expect(() => clusterPlan(clash)).toThrow(/vms\[1\]\.drbd\.disk\.minor: minor 1 is already test's disk's[\s\S]*vms\[1\]\.drbd\.disk\.port: port 7789[\s\S]*vms\[1\]\.drbd\.disk\.metaIndex: meta-data index 8 needs a meta volume of 1152 MiB; raise metaVolumeSize/);
  });
});
