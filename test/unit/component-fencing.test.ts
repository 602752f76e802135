import { clusterPlan } from "../../components/cluster-plan";
import { fencingFactsOf, fencingWarning, UNFENCED_TWO_PRIMARIES_WARNING } from "../../components/fencing";
import type { ClusterVmArgs, TwoNodeXenHaArgs } from "../../components/types";
import { validate } from "../../components/validate";
import { dopdFencePeer } from "../../provider/drbd/fencing";
import { clusterNode } from "./fixtures/cluster";

const testVm: ClusterVmArgs = { name: "test", slot: 0, home: "ha1", ip: "10.1.1.50", install: { method: "kernel", kernel: "/boot/vmlinuz" } };
const ipmiDevice = (n: 1 | 2, passwd: string | Promise<string> = `Ha${n}-BMC-pw!`) => ({ hostname: `ha${n}.domain.local`, ipaddr: `10.1.2.${99 + n}`, userid: "admin", passwd, interface: "lanplus" });
const stonith = { type: "external/ipmi", devices: [ipmiDevice(1), ipmiDevice(2)] as [ReturnType<typeof ipmiDevice>, ReturnType<typeof ipmiDevice>] };

function args(heartbeat: Partial<TwoNodeXenHaArgs["heartbeat"]> = {}, drbd?: TwoNodeXenHaArgs["drbd"]): TwoNodeXenHaArgs {
  return { nodes: [clusterNode(1), clusterNode(2)], heartbeat: { authKey: "SecretKey123!!!", ...heartbeat }, vms: [testVm], ...(drbd ? { drbd } : {}) };
}

describe("the fencing warning", () => {
  const unfenced = { allowTwoPrimaries: true, stonith: false, watchdog: false };

  it("names the risk of two primaries with neither STONITH nor a watchdog, and the fix", () => {
    expect(fencingWarning(unfenced)).toBe(
      "allow-two-primaries without STONITH or a watchdog: if both links fail while both nodes live, each node starts the other's guests " +
        "on a disk both can write, and the data is corrupted. Configure heartbeat.stonith (and a watchdog), or pacemaker.fencing.",
    );
  });

  it.each([
    ["STONITH is configured", { stonith: true }],
    ["a watchdog is configured", { watchdog: true }],
    ["DRBD allows one primary only", { allowTwoPrimaries: false }],
  ])("stays silent when %s", (_why, change) => {
    expect(fencingWarning({ ...unfenced, ...change })).toBeUndefined();
  });

  it("reads the component's defaults: two primaries allowed, Heartbeat's /dev/watchdog, no STONITH", () => {
    expect(fencingFactsOf(args())).toEqual({ allowTwoPrimaries: true, stonith: false, watchdog: true });
  });

  it("warns for a cluster without a watchdog (the lab) and without STONITH", () => {
    expect(fencingWarning(fencingFactsOf(args({ watchdog: null }))!)).toBe(UNFENCED_TWO_PRIMARIES_WARNING);
  });

  it("does not warn once heartbeat.stonith is set", () => {
    expect(fencingWarning(fencingFactsOf(args({ watchdog: null, stonith }))!)).toBeUndefined();
  });

  it("does not warn when the program turns allow-two-primaries off", () => {
    expect(fencingWarning(fencingFactsOf(args({ watchdog: null }, { allowTwoPrimaries: false }))!)).toBeUndefined();
  });

  it("cannot decide while allow-two-primaries is not known yet", () => {
    expect(fencingFactsOf(args({ watchdog: null }, { allowTwoPrimaries: Promise.resolve(true) }))).toBeUndefined();
  });
});

describe("the component's fencing inputs", () => {
  it("hands heartbeat.stonith and heartbeat.dopd to HeartbeatCluster as they are", () => {
    const plan = clusterPlan(args({ stonith, dopd: true }));
    expect([plan.heartbeat?.stonith, plan.heartbeat?.dopd]).toEqual([stonith, true]);
  });

  it("gives every DRBD resource dopd's resource-level fencing when heartbeat.dopd is set, with its own minor and the ping interval", () => {
    const plan = clusterPlan(args({ dopd: true }, { pingInt: 4 }));
    expect(plan.vms[0]!.drbdResources.map((r) => [r.name, r.args.fencing, r.args.handlers])).toEqual([
      ["test-disk", "resource-only", { fencePeer: dopdFencePeer(1, 4) }],
      ["test-swap", "resource-only", { fencePeer: dopdFencePeer(2, 4) }],
    ]);
  });

  it("writes the ping timeout into dopd's handler when the program sets one", () => {
    const plan = clusterPlan(args({ dopd: true }, { pingInt: 4, pingTimeout: 30 }));
    expect(plan.vms[0]!.drbdResources.map((r) => r.args.handlers)).toEqual([{ fencePeer: dopdFencePeer(1, 4, 30) }, { fencePeer: dopdFencePeer(2, 4, 30) }]);
  });

  it("keeps the program's own fencing, its own fence-peer handler, and adds none without dopd", () => {
    const own = { fencing: "resource-and-stonith" as const, handlers: { fencePeer: "/usr/local/sbin/fence-it" } };
    expect(clusterPlan(args({ dopd: true }, own)).vms[0]!.drbdResources[0]!.args).not.toHaveProperty("fencing");
    expect(clusterPlan(args({ dopd: true }, { handlers: { fencePeer: "/usr/local/sbin/fence-it" } })).vms[0]!.drbdResources[0]!.args).not.toHaveProperty("handlers");
    expect(clusterPlan(args({}, {})).vms[0]!.drbdResources[0]!.args).not.toHaveProperty("fencing");
  });

  it("keeps the program's other handlers beside dopd's", () => {
    const plan = clusterPlan(args({ dopd: true }, { handlers: { afterResyncTarget: "/usr/lib/drbd/unsnapshot-resync-target-lvm.sh" } }));
    expect(plan.vms[0]!.drbdResources[0]!.args.handlers).toEqual({ afterResyncTarget: "/usr/lib/drbd/unsnapshot-resync-target-lvm.sh", fencePeer: dopdFencePeer(1, 10) });
  });

  it("refuses a ping interval not known yet with dopd, naming the field and the way out, and accepts it without dopd", () => {
    const later = Promise.resolve(4);
    expect([validate(args({ dopd: true }, { pingInt: later })), validate(args({}, { pingInt: later }))]).toEqual([
      [{ property: "drbd.pingInt", reason: expect.stringContaining("or set drbd.fencing and drbd.handlers.fencePeer yourself") }],
      [],
    ]);
  });

  it("refuses a heartbeat.dopd not known yet: it decides the resources' fencing", () => {
    expect(validate(args({ dopd: Promise.resolve(true) as unknown as boolean }))).toEqual([{ property: "heartbeat.dopd", reason: expect.stringContaining("plain true or false") }]);
  });

  it("refuses swapped devices by the component's field, before any child exists", () => {
    expect(validate(args({ stonith: { ...stonith, devices: [ipmiDevice(2), ipmiDevice(1)] } })).map((f) => f.property)).toEqual([
      "heartbeat.stonith.devices[0].hostname",
      "heartbeat.stonith.devices[1].hostname",
    ]);
  });

  it("asks for the parameter order of a type it does not know", () => {
    expect(validate(args({ stonith: { ...stonith, type: "external/riloe" } }))).toEqual([
      { property: "heartbeat.stonith.parameterOrder", reason: expect.stringContaining("is needed for external/riloe") },
    ]);
  });

  it("refuses a password Heartbeat would split, without repeating it", () => {
    const failures = validate(args({ stonith: { ...stonith, devices: [ipmiDevice(1, "two words"), ipmiDevice(2)] } }));
    expect([failures.map((f) => f.property), JSON.stringify(failures).includes("two words")]).toEqual([["heartbeat.stonith.devices[0].passwd"], false]);
  });

  it("leaves a password that is not known yet (a secret from config) to HeartbeatCluster", () => {
    expect(validate(args({ stonith: { ...stonith, devices: [ipmiDevice(1, Promise.resolve("pw")), ipmiDevice(2)] } }))).toEqual([]);
  });
});
