/**
 * The component as a library: the children it exposes, the options it gives them, its typed
 * outputs, Inputs passed through, and the per-VM Xen settings. Options are observed through a
 * `transformations` hook on the component, which the SDK runs for every child with the options
 * the child was given.
 */
import * as pulumi from "@pulumi/pulumi";
import { clusterNode, unwrapSecrets } from "./fixtures/cluster";
import type { ConnectionArgs, DeepInput } from "../../provider/args";
import type { DrbdNodeStatus } from "../../provider/drbd/status";
import type { ConnectionInput } from "../../provider/ssh/connection";
import type { ClusterVmArgs, TwoNodeXenHaArgs } from "../../components/two-node-xen-ha";


const upToDate = (role: "Primary" | "Secondary", peerRole: "Primary" | "Secondary"): DrbdNodeStatus => ({ connection: "Connected", role, peerRole, disk: "UpToDate", peerDisk: "UpToDate" });
const groups = [{ group: "xendomainsHA1", homeNode: "ha1.domain.local", heldBy: ["ha2.domain.local"], domains: [{ name: "test", runsOn: ["ha2.domain.local"] }] }];

let inputs = new Map<string, Record<string, unknown>>();
pulumi.runtime.setMocks(
  {
    newResource: (args) => {
      inputs.set(args.name, unwrapSecrets(args.inputs) as Record<string, unknown>);
      // What the hosts would show: the DRBD pair up to date, `test` failed over to ha2, Heartbeat's view.
      const observed: Record<string, unknown> = args.type.endsWith(":DrbdResource")
        ? { status: { "ha1.domain.local": upToDate("Secondary", "Primary"), "ha2.domain.local": upToDate("Primary", "Secondary") } }
        : args.type.endsWith(":XenDomU") && args.inputs.name === "test"
          ? { runOn: "ha2" }
          : args.type.endsWith(":HeartbeatCluster")
            ? { groups }
            : {};
      return { id: `${args.name}-id`, state: { ...args.inputs, ...observed } };
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
const webVm: ClusterVmArgs = { name: "web", slot: 1, home: "ha2", memory: 256, swapSize: null, install: { method: "kernel", kernel: "/boot/vmlinuz" } };

function args(vms: ClusterVmArgs[], more: Partial<TwoNodeXenHaArgs> = {}): TwoNodeXenHaArgs {
  return { nodes: [node(1), node(2)], heartbeat: { authKey: pulumi.secret("SecretKey123!!!") }, vms, ...more };
}

interface Child {
  name: string;
  type: string;
  resource: pulumi.Resource;
  opts: pulumi.CustomResourceOptions;
}

/** Builds the component; returns it with every child as it was registered, with its options. */
async function build(a: TwoNodeXenHaArgs, opts: pulumi.ComponentResourceOptions = {}): Promise<{ cluster: TwoNodeXenHa; children: Child[] }> {
  inputs = new Map();
  const children: Child[] = [];
  const capture: pulumi.ResourceTransformation = (t) => {
    if (t.type !== "pulumi-xen-ha:index:TwoNodeXenHa") children.push({ name: t.name, type: t.type.replace("pulumi-nodejs:dynamic/xenha:", ""), resource: t.resource, opts: t.opts });
    return undefined;
  };
  const cluster = new TwoNodeXenHa("cluster", a, { ...opts, transformations: [capture] });
  await valueOf(cluster.vms);
  await new Promise((r) => setImmediate(r));
  return { cluster, children };
}

const valueOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
const dependencies = (c: Child): unknown[] => [c.opts.dependsOn].flat(3);
const named = (children: Child[]) => (r: unknown) => children.find((c) => c.resource === r)?.name;
const namesWhere = (children: Child[], pick: (c: Child) => boolean) => children.filter(pick).map((c) => c.name).sort();
const DATA = ["cluster-ha1-vg", "cluster-ha2-vg", "cluster-ha1-meta", "cluster-ha2-meta", "cluster-ha2-test-disk", "cluster-ha2-test-swap", "cluster-test-disk", "cluster-test-swap", "cluster-test-image"].sort();

describe("TwoNodeXenHa's children", () => {
  it("parents every child on the component", async () => {
    const { cluster, children } = await build(args([testVm, webVm]));
    expect(children.filter((c) => c.opts.parent !== cluster).map((c) => c.name)).toEqual([]);
  });

  it("exposes each VM's domain, DRBD resources, volumes per node and xen-tools image", async () => {
    const { cluster, children } = await build(args([testVm, webVm]));
    const name = named(children);
    const view = Object.fromEntries(
      Object.entries(cluster.vmResources).map(([vm, r]) => [
        vm,
        {
          domain: name(r.domain),
          drbd: Object.fromEntries(Object.entries(r.drbd).map(([k, d]) => [k, name(d)])),
          volumes: Object.fromEntries(Object.entries(r.volumes).map(([k, byNode]) => [k, Object.fromEntries(Object.entries(byNode).map(([n, lv]) => [n, name(lv)]))])),
          image: name(r.image),
        },
      ]),
    );
    expect(view).toEqual({
      test: {
        domain: "cluster-test",
        drbd: { "test-disk": "cluster-test-disk", "test-swap": "cluster-test-swap" },
        volumes: { "test-disk": { ha2: "cluster-ha2-test-disk" }, "test-swap": { ha2: "cluster-ha2-test-swap" } },
        image: "cluster-test-image",
      },
      web: { domain: "cluster-web", drbd: { "web-disk": "cluster-web-disk" }, volumes: { "web-disk": { ha1: "cluster-ha1-web-disk", ha2: "cluster-ha2-web-disk" } }, image: undefined },
    });
  });

  it("exposes each node's network, volume group and meta volume, and the cluster-wide Heartbeat and migration trust", async () => {
    const { cluster, children } = await build(args([testVm]));
    const name = named(children);
    const nodes = Object.fromEntries(Object.entries(cluster.nodeResources).map(([n, r]) => [n, [name(r.network), name(r.volumeGroup), name(r.metaVolume)]]));
    expect({ nodes, heartbeat: name(cluster.heartbeat), trust: name(cluster.migrationTrust) }).toEqual({
      nodes: { ha1: ["cluster-ha1-network", "cluster-ha1-vg", "cluster-ha1-meta"], ha2: ["cluster-ha2-network", "cluster-ha2-vg", "cluster-ha2-meta"] },
      heartbeat: "cluster-heartbeat",
      trust: "cluster-migration",
    });
  });

  it("makes a DRBD resource depend on its backing volumes, the image and both meta volumes", async () => {
    const { children } = await build(args([testVm]));
    const drbd = children.find((c) => c.name === "cluster-test-disk")!;
    expect(dependencies(drbd).map(named(children)).filter((n) => !n?.endsWith("-network")).sort()).toEqual(
      ["cluster-ha1-meta", "cluster-ha2-meta", "cluster-ha2-test-disk", "cluster-ha2-test-swap", "cluster-test-image"].sort(),
    );
  });

  it("makes a DomU depend on its DRBD resources and the migration trust", async () => {
    const { children } = await build(args([testVm]));
    const domain = children.find((c) => c.name === "cluster-test")!;
    expect(dependencies(domain).map(named(children)).filter((n) => !n?.endsWith("-network")).sort()).toEqual(["cluster-migration", "cluster-test-disk", "cluster-test-swap"]);
  });
});

describe("TwoNodeXenHa's resource options", () => {
  it("gives every child the component's dependsOn, since the SDK does not pass it down", async () => {
    class Outside extends pulumi.CustomResource {
      constructor(name: string) {
        super("test:index:Outside", name, {});
      }
    }
    const outside = new Outside("outside");
    const { children } = await build(args([testVm, webVm]), { dependsOn: [outside] });
    expect(children.filter((c) => !dependencies(c).includes(outside)).map((c) => c.name)).toEqual([]);
  });

  it("gives every child the component's customTimeouts", async () => {
    const customTimeouts = { create: "2h", update: "1h", delete: "30m" };
    const { children } = await build(args([testVm, webVm]), { customTimeouts });
    expect(children.filter((c) => c.opts.customTimeouts !== customTimeouts).map((c) => c.name)).toEqual([]);
  });

  it("protectData protects exactly the resources that hold data", async () => {
    const { children } = await build(args([testVm], { protectData: true }));
    expect(namesWhere(children, (c) => c.opts.protect === true)).toEqual(DATA);
  });

  it("retainDataOnDelete retains exactly the resources that hold data", async () => {
    const { children } = await build(args([testVm], { retainDataOnDelete: true }));
    expect(namesWhere(children, (c) => c.opts.retainOnDelete === true)).toEqual(DATA);
  });

  it("a VM's protectData overrides the cluster's for that VM's volumes, DRBD resources and image", async () => {
    const { children } = await build(args([{ ...testVm, protectData: false }, { ...webVm, protectData: true }]));
    expect(namesWhere(children, (c) => c.opts.protect !== undefined).map((n) => `${n}=${String(children.find((c) => c.name === n)!.opts.protect)}`)).toEqual(
      ["cluster-ha1-web-disk=true", "cluster-ha2-test-disk=false", "cluster-ha2-test-swap=false", "cluster-ha2-web-disk=true", "cluster-test-disk=false", "cluster-test-image=false", "cluster-test-swap=false", "cluster-web-disk=true"],
    );
  });

  it("sets no protect of its own unless asked, so a protect on the component reaches the children as Pulumi passes it down", async () => {
    const { children } = await build(args([testVm]));
    expect(children.filter((c) => "protect" in c.opts).map((c) => c.name)).toEqual([]);
  });
});

describe("TwoNodeXenHa's outputs", () => {
  it("reports each VM's home, where it runs, its state and its DRBD state per node name", async () => {
    const { cluster } = await build(args([testVm]));
    expect(await valueOf(cluster.vms)).toEqual({
      test: {
        home: "ha1",
        runsOn: "ha2",
        state: "running",
        drbd: {
          "test-disk": { ha1: upToDate("Secondary", "Primary"), ha2: upToDate("Primary", "Secondary") },
          "test-swap": { ha1: upToDate("Secondary", "Primary"), ha2: upToDate("Primary", "Secondary") },
        },
      },
    });
  });

  it("reports Heartbeat's groups as the HeartbeatCluster reads them", async () => {
    const { cluster } = await build(args([testVm]));
    expect(await valueOf(cluster.heartbeatGroups)).toEqual(groups);
  });
});

describe("TwoNodeXenHa's Inputs", () => {
  it("takes a connection whose fields are Inputs, such as a secret key, and passes it to the children as resolved", async () => {
    const connection: pulumi.Input<ConnectionArgs> = { host: "10.1.1.100", user: "root", privateKey: pulumi.secret("key"), port: pulumi.output(2222) };
    // Also what the resources derived from their schemas take for a nested connection (DrbdResource's nodes, XenDomU's hosts).
    const nested: DeepInput<ConnectionInput> = connection;
    await build({ ...args([testVm]), nodes: [{ ...node(1), connection }, node(2)] });
    void nested;
    expect(inputs.get("cluster-ha1-vg")!.connection).toEqual({ host: "10.1.1.100", user: "root", privateKey: "key", port: 2222 });
  });

  it("passes addresses, memory and sizes from other resources through to the children", async () => {
    const ha1 = { ...node(1), publicAddress: pulumi.output("10.1.1.100"), crossoverAddress: Promise.resolve("192.168.1.100") };
    await build({ ...args([{ ...webVm, memory: pulumi.output(512), diskSize: pulumi.output("8G") }]), nodes: [ha1, node(2)] });
    const network = inputs.get("cluster-ha1-network") as { public: { address: string } };
    const drbd = inputs.get("cluster-web-disk") as { nodes: { address: string }[] };
    expect([network.public.address, drbd.nodes[0]!.address, inputs.get("cluster-web")!.memory, inputs.get("cluster-ha1-web-disk")!.size]).toEqual(["10.1.1.100", "192.168.1.100", 512, "8G"]);
  });

  it("leaves the slot check to DRBD when the meta volume's size is not known yet", async () => {
    await expect(build(args([{ ...webVm, slot: 4 }], { metaVolumeSize: pulumi.output("2G") }))).resolves.toBeDefined();
  });
});

describe("TwoNodeXenHa's per-VM Xen settings", () => {
  it("passes a VM's interfaces, actions, maxMemory and extra settings to its DomU", async () => {
    const vm: ClusterVmArgs = {
      ...webVm,
      maxMemory: 1024,
      onCrash: "restart",
      onReboot: "destroy",
      onPoweroff: "preserve",
      ip: "10.1.1.60",
      vifs: [{ mac: "00:16:3e:00:00:01" }, { bridge: "xenbr1", ip: "10.2.0.60" }],
      extraConfig: { cpu_weight: 512, bootloader_args: ["-q"], localtime: true },
    };
    await build(args([vm]));
    expect(inputs.get("cluster-web")).toMatchObject({
      maxMemory: 1024,
      onCrash: "restart",
      onReboot: "destroy",
      onPoweroff: "preserve",
      vifs: [{ bridge: "xenbr0", mac: "00:16:3e:00:00:01", ip: "10.1.1.60" }, { bridge: "xenbr1", ip: "10.2.0.60" }],
      extraConfig: { cpu_weight: 512, bootloader_args: ["-q"], localtime: true },
    });
  });

  it("puts the nodes' public address and the guests' interfaces on the cluster's publicBridge", async () => {
    await build(args([webVm], { publicBridge: "br0" }));
    const network = inputs.get("cluster-ha1-network") as { public: { bridge: string } };
    expect([network.public.bridge, inputs.get("cluster-web")!.vifs]).toEqual(["br0", [{ bridge: "br0" }]]);
  });

  it("boots a VM that xen-tools installed with pygrub through pygrub, not a dom0 kernel", async () => {
    await build(args([{ ...testVm, install: { ...testVm.install, pygrub: true } as ClusterVmArgs["install"] }]));
    const domain = inputs.get("cluster-test")!;
    expect([domain.bootloader, "kernel" in domain]).toEqual(["pygrub", false]);
  });

  describe("refusals, naming the field", () => {
    const refusal = (vm: ClusterVmArgs) => {
      try {
        new TwoNodeXenHa("bad", args([vm]));
      } catch (err) {
        return String((err as Error).message);
      }
      return "nothing thrown";
    };

    it("refuses pygrub for a VM booted from a dom0 kernel", () => {
      expect(refusal({ ...webVm, bootloader: "pygrub" })).toContain("vms[0].bootloader: a kernel install boots the dom0's kernel");
    });

    it("refuses an extra setting the package writes, naming the VM's field to use", () => {
      expect(refusal({ ...webVm, extraConfig: { maxmem: 2048 } })).toContain("vms[0].extraConfig.maxmem: is written by pulumi-xen-ha itself; set maxMemory instead");
    });

    it("refuses a line break in an extra setting, which would start another setting", () => {
      expect(refusal({ ...webVm, extraConfig: { cpus: "0-1'\nmemory = '99999" } })).toContain("vms[0].extraConfig.cpus: must not contain line breaks");
    });

    it("refuses an extra setting's key outside xl.cfg's syntax", () => {
      expect(refusal({ ...webVm, extraConfig: { "vnc = 1\nx": 1 } })).toContain("is not a Xen config key");
    });
  });
});

describe("TwoNodeXenHa and fencing", () => {
  const warnings = async (a: TwoNodeXenHaArgs) => {
    const spy = jest.spyOn(pulumi.log, "warn").mockImplementation(() => Promise.resolve());
    try {
      await build(a);
      return spy.mock.calls.map((c) => String(c[0]));
    } finally {
      spy.mockRestore();
    }
  };

  it("warns when the disks allow two primaries with neither STONITH nor a watchdog", async () => {
    expect(await warnings(args([webVm], { heartbeat: { authKey: "SecretKey123!!!", watchdog: null } }))).toEqual([expect.stringMatching(/^allow-two-primaries without STONITH or a watchdog/)]);
  });

  it("says nothing once a watchdog or STONITH is there", async () => {
    const device = (n: number) => ({ hostlist: `ha${n}.domain.local:ha${n}`, switch_address: "10.0.2.100", switch_port: "7999", secret_file: "/etc/xen-ha-lab/switch.secret" });
    const stonith = {
      type: "external/xen-ha-lab-switch",
      devices: [device(1), device(2)] as [Record<string, string>, Record<string, string>],
    };
    expect([
      await warnings(args([webVm], { heartbeat: { authKey: "SecretKey123!!!" } })),
      await warnings(args([webVm], { heartbeat: { authKey: "SecretKey123!!!", watchdog: null, stonith } })),
    ]).toEqual([[], []]);
  });

  it("lets Heartbeat bring its guests home: every DomU is placed by Heartbeat", async () => {
    await build(args([testVm, webVm]));
    expect([inputs.get("cluster-test")?.placedBy, inputs.get("cluster-web")?.placedBy]).toEqual(["heartbeat", "heartbeat"]);
  });
});

describe("TwoNodeXenHa with Pacemaker", () => {
  const pacemaker = {
    authKey: pulumi.secret("k".repeat(128)),
    arbiter: { host: "10.0.2.101" },
    fencing: [
      { agent: "fence_ipmilan", parameters: { ip: "10.1.2.100", password: pulumi.secret("pw-ha1") }, delaySeconds: 10 },
      { agent: "fence_ipmilan", parameters: { ip: "10.1.2.101", password: pulumi.secret("pw-ha2") } },
    ] as NonNullable<TwoNodeXenHaArgs["pacemaker"]>["fencing"],
  };
  const pacemakerArgs = (vms: ClusterVmArgs[], more: Partial<TwoNodeXenHaArgs> = {}): TwoNodeXenHaArgs => ({ nodes: [node(1), node(2)], clusterManager: "pacemaker", pacemaker, vms, ...more });

  it("builds Corosync over both links and Pacemaker after the guests instead of Heartbeat, with the guests placed by Pacemaker", async () => {
    const { cluster, children } = await build(pacemakerArgs([testVm, { ...webVm, state: "stopped" }]));
    expect(children.filter((c) => c.type === "HeartbeatCluster")).toEqual([]);
    expect(cluster.heartbeat).toBeUndefined();
    const corosync = inputs.get("cluster-corosync")!;
    expect(corosync.nodes).toEqual([
      expect.objectContaining({ name: "ha1.domain.local", addresses: ["10.1.1.100", "192.168.1.100"] }),
      expect.objectContaining({ name: "ha2.domain.local", addresses: ["10.1.1.101", "192.168.1.101"] }),
    ]);
    expect(corosync).toMatchObject({ clusterName: "xen-ha", arbiter: { host: "10.0.2.101" } });
    const config = inputs.get("cluster-pacemaker")!;
    expect(config.guests).toEqual([
      { name: "test", home: "ha1.domain.local", state: "running" },
      { name: "web", home: "ha2.domain.local", state: "stopped" },
    ]);
    expect(config.fencing).toEqual([
      { node: "ha1.domain.local", agent: "fence_ipmilan", parameters: { ip: "10.1.2.100", password: "pw-ha1" }, delaySeconds: 10 },
      { node: "ha2.domain.local", agent: "fence_ipmilan", parameters: { ip: "10.1.2.101", password: "pw-ha2" } },
    ]);
    expect(inputs.get("cluster-test")!.placedBy).toBe("pacemaker");
    const child = (name: string) => children.find((c) => c.name === name)!;
    expect(dependencies(child("cluster-pacemaker")).map(named(children))).toEqual(expect.arrayContaining(["cluster-corosync", "cluster-migration", "cluster-test", "cluster-web"]));
    expect(await valueOf(cluster.heartbeatGroups)).toEqual([]);
  });

  it("refuses Pacemaker without its settings or without fencing, naming the field, before any child exists", () => {
    expect(() => new TwoNodeXenHa("c", { nodes: [node(1), node(2)], clusterManager: "pacemaker", vms: [testVm] })).toThrow(/pacemaker: is required with clusterManager: "pacemaker"/);
    expect(() => new TwoNodeXenHa("c", pacemakerArgs([testVm], { pacemaker: { authKey: "k".repeat(128) } }))).toThrow(/pacemaker\.fencing: is required: without fencing/);
    expect(() => new TwoNodeXenHa("c", pacemakerArgs([testVm], { pacemaker: { ...pacemaker, authKey: "short" } }))).toThrow(/pacemaker\.authKey: must be at least 128 characters/);
    expect(() => new TwoNodeXenHa("c", { nodes: [node(1), node(2)], vms: [testVm] })).toThrow(/heartbeat: is required with the default clusterManager/);
  });
});
