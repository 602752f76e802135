/**
 * Fencing on the lab through the real engine: the lab's power switch as each node's STONITH
 * device, the nodes' i6300esb watchdogs kept alive by Heartbeat, and DRBD's resource-level fencing
 * through Heartbeat's dopd. While each fault lasts, `xl list` is sampled on both nodes every 2 s:
 * a guest must never run on both.
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { TwoNodeXenHa } from "../../index";
import { changeCount, createEngineStack, describeWithEngine, type EngineStack } from "../support/engine";
import { labDir, labDomains, labExec, labHolding, labLink, labRun, labRunningDomains, waitFor, LAB_NODES, type LabNodeName } from "../support/lab";
import { labClusterNode, labGuestVm, report } from "../support/lab-inputs";

jest.setTimeout(20 * 60_000);

const FENCE_DELAY_SECONDS = 15;
const vm = labGuestVm;
const VMS = [vm("test", 0, "ha1", "10.1.1.50"), vm("web", 1, "ha2", "10.1.1.51")];
/** Each VM's disk: its DRBD resource and device (slot N is minor 2N+1). */
const DISKS = { test: { resource: "test-disk", device: "/dev/drbd1" }, web: { resource: "web-disk", device: "/dev/drbd3" } } as const;

function program() {
  const node = labClusterNode;
  const outlet = (name: LabNodeName) => ({ hostlist: `${name}.domain.local:${name}`, switch_address: "10.0.2.100", switch_port: "7999", secret_file: "/etc/xen-ha-lab/switch.secret" });
  const cluster = new TwoNodeXenHa("cluster", {
    nodes: [node("ha1"), node("ha2")],
    metaVolumeSize: "512M",
    // dopd gives every resource `fencing resource-only` and its fence-peer handler.
    drbd: { usageCount: "no" },
    heartbeat: {
      authKey: pulumi.secret("lab-heartbeat-key-0123"),
      watchdog: "/dev/watchdog",
      dopd: true,
      stonith: { type: "external/xen-ha-lab-switch", devices: [outlet("ha1"), outlet("ha2")], fenceDelaySeconds: FENCE_DELAY_SECONDS },
      // A fenced node comes back without Heartbeat; up starts it.
      startAtBoot: "afterCleanStop",
    },
    vms: VMS,
  });
  return Promise.resolve({ vms: cluster.vms });
}

/**
 * Samples `xl list` on both nodes every 2 s until stopped, and returns the guests seen running on
 * both at once (a live migration's paused receiving end is not running); a node that does not
 * answer is left out of that sample.
 */
function watchBothNodes() {
  const twice: string[] = [];
  let samples = 0;
  let unobserved = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const lists = await Promise.all(LAB_NODES.map((n) => labRunningDomains(n, { timeoutMs: 20_000 }).catch(() => undefined)));
      samples++;
      const [a, b] = lists;
      if (a && b) {
        const both = a.filter((d) => b.some((e) => e.name === d.name));
        if (both.length > 0) report(`running on both nodes at once: ${both.map((d) => `${d.name} (${d.state} / ${b.find((e) => e.name === d.name)!.state})`).join(", ")}`);
        twice.push(...both.map((d) => d.name));
      } else unobserved++;
      await new Promise((r) => setTimeout(r, 2000));
    }
  })();
  return async () => {
    running = false;
    await loop;
    return { twice, samples, unobserved };
  };
}

const switchLog = () => {
  const file = path.join(labDir(), "fence", "power-switch.log");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
};
const resetsIn = (lines: string[]) => lines.filter((l) => / action=(reset|off) /.test(l)).map((l) => `${/ node=(\S+)/.exec(l)?.[1]} from ${/ peer=(\S+)/.exec(l)?.[1]?.split(":")[0]}`);

const dstate = (node: LabNodeName, resource: string) => labRun(node, `drbdadm dstate ${resource}`).then((s) => s.trim());
const cstate = (node: LabNodeName, resource: string) => labRun(node, `drbdadm cstate ${resource}`).then((s) => s.trim());
const MARKER_OFFSET_MIB = 8;
const markerOf = (node: LabNodeName, device: string) =>
  labRun(node, `dd if=${device} bs=1M skip=${MARKER_OFFSET_MIB} count=1 iflag=direct status=none | sha256sum | cut -d' ' -f1`).then((s) => s.trim());

/** What each node logged about DRBD's fence-peer handler and dopd, for a failure's message. */
async function fencingLogs(): Promise<string> {
  const command =
    "dmesg | grep -i -E 'drbd.*(fence|outdate|helper|pdsk|conn)' | tail -n 20; " +
    "grep -h -i -E 'dopd|outdate|drbd' /var/log/ha-debug /var/log/ha-log 2>/dev/null | tail -n 30; " +
    "journalctl --no-pager -q -n 30 -t heartbeat -t dopd -t drbd-peer-outdater 2>/dev/null; ls -l /usr/lib/drbd/drbdsetup-84 /usr/sbin/drbdmeta 2>&1";
  const logs = await Promise.all(LAB_NODES.map((n) => labExec(n, command, { timeoutMs: 30_000 }).then((r) => `--- ${n}\n${r.stdout}${r.stderr}`, (e: Error) => `--- ${n}: ${e.message}`)));
  return logs.join("\n");
}

/** Both disks Connected and UpToDate on both nodes: the state every fault must end in. */
async function waitForHealthyDisks(timeoutMs = 600_000): Promise<void> {
  await waitFor(
    async () => {
      const states = await Promise.all(LAB_NODES.flatMap((n) => Object.values(DISKS).map(async (d) => `${await cstate(n, d.resource)} ${await dstate(n, d.resource)}`)));
      return states.every((s) => s === "Connected UpToDate/UpToDate") || undefined;
    },
    { timeoutMs, intervalMs: 5000, what: "both DRBD resources Connected and UpToDate on both nodes" },
  );
}

function heartbeatOutputs(state: { deployment?: unknown }): { drift?: unknown } {
  const resources = (state.deployment as { resources?: { urn: string; outputs?: Record<string, unknown> }[] }).resources ?? [];
  return resources.find((r) => r.urn.endsWith("HeartbeatCluster::cluster-heartbeat"))?.outputs ?? {};
}

/**
 * Once `node` has booted again: whether Heartbeat runs there, and whether the boot gate is what
 * kept it from starting (its refusal in this boot's journal).
 */
async function heartbeatAfterBoot(node: LabNodeName): Promise<{ heartbeat: string; gate: boolean }> {
  return waitFor(
    async () => {
      const r = await labExec(node, "systemctl is-system-running --wait >/dev/null 2>&1; systemctl is-active heartbeat.service; journalctl -b -q --no-pager -u heartbeat.service | grep -c 'not started at boot'", { timeoutMs: 200_000 }).catch(() => undefined);
      const [active, refusals] = (r?.stdout ?? "").trim().split("\n");
      if (!r || refusals === undefined) return undefined;
      return { heartbeat: active === "active" ? "running" : "not running", gate: Number(refusals) > 0 };
    },
    { timeoutMs: 600_000, intervalMs: 5000, what: `${node} to boot again` },
  );
}

/** Heartbeat up on both nodes, each holding its own group, each guest at home. */
async function waitForClusterAtHome(timeoutMs = 900_000): Promise<void> {
  await waitFor(
    async () => {
      const [h1, h2] = await Promise.all(LAB_NODES.map(labHolding));
      const [d1, d2] = await Promise.all(LAB_NODES.map((n) => labDomains(n, { timeoutMs: 20_000 })));
      return (h1 === "local" && h2 === "local" && d1!.join() === "test" && d2!.join() === "web") || undefined;
    },
    { timeoutMs, intervalMs: 5000, what: "Heartbeat on both nodes holding its own group, test on ha1 and web on ha2" },
  );
}

describeWithEngine("fencing on the lab: STONITH through the lab's power switch, watchdogs, dopd", () => {
  let stack: EngineStack;
  const markers: Record<string, string> = {};

  beforeAll(async () => {
    stack = await createEngineStack({ program, projectName: "fencing-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await labLink("public", "up").catch(() => undefined);
    await labLink("crossover", "up").catch(() => undefined);
    await stack?.dispose();
  });

  it("builds a fenced cluster: STONITH lines in a 0600 ha.cf, Heartbeat holding each node's watchdog, dopd running", async () => {
    const up = await stack.up();
    await waitForClusterAtHome();
    const facts = await Promise.all(
      LAB_NODES.map((n) =>
        labRun(
          n,
          [
            "stat -c %a /etc/ha.d/ha.cf",
            "grep -c '^stonith_host ' /etc/ha.d/ha.cf",
            // Heartbeat's master process holds the watchdog open.
            "for p in $(pidof heartbeat); do ls -l /proc/$p/fd 2>/dev/null; done | grep -c /dev/watchdog",
            "pgrep -c -x dopd",
          ].join("; "),
        ).then((s) => s.trim().split("\n")),
      ),
    );
    for (const [name, d] of Object.entries(DISKS)) {
      const home = name === "test" ? "ha1" : "ha2";
      await labRun(home, `dd if=/dev/urandom of=${d.device} bs=1M seek=${MARKER_OFFSET_MIB} count=1 oflag=direct status=none`);
      markers[name] = await markerOf(home, d.device);
    }
    const health = (await stack.exportState()).deployment as { resources?: { urn: string; outputs?: Record<string, unknown> }[] };
    const nodeHealth = health.resources?.find((r) => r.urn.endsWith("HeartbeatCluster::cluster-heartbeat"))?.outputs?.nodeHealth as { watchdog: string }[];
    expect([changeCount(up.changes) > 10, facts, nodeHealth.map((h) => h.watchdog)]).toEqual([true, [["600", "2", "1", "1"], ["600", "2", "1", "1"]], ["held", "held"]]);
  });

  it("a second up changes nothing", async () => {
    expect(changeCount((await stack.up()).changes)).toBe(0);
  });

  it("cutting only the crossover link outdates each Secondary through dopd: it cannot be promoted, refresh says so, and the relink resyncs it", async () => {
    const stop = watchBothNodes();
    await labLink("crossover", "down");
    let outdated: string[], promote: { code: number }, output: string;
    try {
      // ha1 holds test-disk Primary, ha2 web-disk: each peer's copy is the one dopd outdates.
      outdated = await waitFor(
        async () => {
          const [a, b] = [await dstate("ha2", DISKS.test.resource), await dstate("ha1", DISKS.web.resource)];
          return (a.startsWith("Outdated/") && b.startsWith("Outdated/") && [a, b]) || undefined;
        },
        { timeoutMs: 180_000, intervalMs: 3000, what: "the Secondary copies to be Outdated" },
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}\n${await fencingLogs()}`);
      });
      promote = await labExec("ha2", `drbdadm primary ${DISKS.test.resource}`);
      const refresh = await stack.refresh();
      output = `${refresh.stdout}\n${refresh.stderr}`;
    } finally {
      // Whatever happened, the next tests start from a whole, resynced cluster.
      await labLink("crossover", "up");
      await waitForHealthyDisks();
    }
    const seen = await stop();
    report(`crossover cut: ${seen.samples} samples of xl list on both nodes, ${seen.unobserved} incomplete`);
    expect([
      outdated,
      promote.code !== 0,
      new RegExp(`DRBD ${DISKS.test.resource}: the disk on \\S+ is Outdated`).test(output),
      seen.twice,
      await Promise.all(LAB_NODES.map((n) => labDomains(n))),
    ]).toEqual([["Outdated/DUnknown", "Outdated/DUnknown"], true, true, [], [["test"], ["web"]]]);
  });

  it("cutting both links: ha1 resets ha2 through the power switch, runs both guests with their data, and DRBD reconnects without a split brain once ha2 is back", async () => {
    const logBefore = switchLog().length;
    const stop = watchBothNodes();
    const cutAt = Date.now();
    await Promise.all([labLink("public", "down"), labLink("crossover", "down")]);
    // The links come back once the switch has reset a node; that node boots without Heartbeat.
    await waitFor(() => resetsIn(switchLog().slice(logBefore)).length > 0 || undefined, { timeoutMs: 300_000, intervalMs: 1000, what: "a reset through the power switch" });
    const fencedAfter = Math.round((Date.now() - cutAt) / 1000);
    await Promise.all([labLink("public", "up"), labLink("crossover", "up")]);
    await waitFor(async () => (await labDomains("ha1", { timeoutMs: 20_000 })).includes("web") || undefined, { timeoutMs: 600_000, intervalMs: 2000, what: "web to run on ha1" });
    const seconds = Math.round((Date.now() - cutAt) / 1000);
    report(`both links cut: a reset after ${fencedAfter} s, web running on ha1 after ${seconds} s (deadtime 10 s, ha2's fence delay ${FENCE_DELAY_SECONDS} s)`);
    const resets = resetsIn(switchLog().slice(logBefore));
    // `xl list` shows the guest while its disks are still being attached: read once it holds web-disk.
    await waitFor(async () => (await labRun("ha1", `drbdadm role ${DISKS.web.resource}`)).startsWith("Primary/") || undefined, { timeoutMs: 120_000, intervalMs: 2000, what: "web-disk Primary on ha1" });
    const webMarker = await markerOf("ha1", DISKS.web.device);
    // ha2 boots without Heartbeat (startAtBoot afterCleanStop): ha1 keeps both groups until up.
    const afterBoot = await heartbeatAfterBoot("ha2");
    const holdingWhileOut = await labHolding("ha1");
    // The refresh says ha2 was fenced since the last up, and that its Heartbeat is held back; the
    // up starts it and records the restart as seen, and ha2's group goes home.
    const refresh = await stack.refresh();
    const drift = JSON.stringify(heartbeatOutputs(await stack.exportState({ showSecrets: true })).drift ?? []);
    await stack.up();
    await waitForHealthyDisks(900_000);
    await waitForClusterAtHome();
    const seen = await stop();
    report(`both links cut: ${seen.samples} samples of xl list on both nodes, ${seen.unobserved} incomplete (ha2 rebooting)`);
    const again = await stack.refresh();
    const restarted = /ha2\.domain\.local has restarted since the last up/;
    expect([
      resets,
      seconds < 300,
      webMarker,
      seen.twice,
      await markerOf("ha1", DISKS.test.device),
      afterBoot,
      holdingWhileOut,
      restarted.test(`${refresh.stdout}\n${refresh.stderr}`),
      /heartbeat\.service is (failed|inactive) and enabled \(startAtBoot afterCleanStop holds it back/.test(drift),
      restarted.test(`${again.stdout}\n${again.stderr}`),
    ]).toEqual([["ha2 from 127.0.1.1"], true, markers.web, [], markers.test, { heartbeat: "not running", gate: true }, "all", true, true, false]);
  });

  it("a hung Heartbeat on ha2 (its master process stopped) gets ha2 reset, and ha1 runs its guest", async () => {
    const logBefore = switchLog().length;
    const stop = watchBothNodes();
    const bootBefore = await labRun("ha2", "cat /proc/sys/kernel/random/boot_id").then((s) => s.trim());
    await labRun("ha2", "kill -STOP $(pgrep -o -x heartbeat)");
    await waitFor(async () => (await labDomains("ha1", { timeoutMs: 20_000 })).includes("web") || undefined, { timeoutMs: 600_000, intervalMs: 2000, what: "web to run on ha1" });
    const afterBoot = await heartbeatAfterBoot("ha2");
    const bootAfter = await labRun("ha2", "cat /proc/sys/kernel/random/boot_id").then((s) => s.trim());
    await stack.refresh();
    await stack.up();
    await waitForHealthyDisks(900_000);
    await waitForClusterAtHome();
    const resets = resetsIn(switchLog().slice(logBefore));
    const seen = await stop();
    report(`hung Heartbeat on ha2: resets through the switch: ${JSON.stringify(resets)}; ha2 rebooted: ${bootBefore !== bootAfter}`);
    expect([bootBefore !== bootAfter, afterBoot, seen.twice]).toEqual([true, { heartbeat: "not running", gate: true }, []]);
  });

  it("destroy leaves no domain and no volume group", async () => {
    await stack.destroy();
    for (const node of LAB_NODES) {
      expect([await labDomains(node), (await labRun(node, "vgs --noheadings 2>/dev/null; grep -c cs: /proc/drbd || true")).trim()]).toEqual([[], "0"]);
    }
  });
});
