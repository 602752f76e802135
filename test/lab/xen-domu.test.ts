/**
 * XenDomU and XenMigrationTrust on the lab through the real engine: two small guests (the lab's
 * test kernel and counter-writing initramfs, one PVH and one PV) on DRBD disks, started on ha1
 * with their config on both nodes, moved between the nodes while they keep running, refused where
 * they must be, stopped and deleted. The public link gets a bridge by fixture (NodeNetwork's job).
 */
import { DrbdResource, LogicalVolume, migrationSshCommand, VolumeGroup, XenDomU, XenMigrationTrust } from "../../index";
import { changesOnly, createEngineStack, describeWithEngine, LAB_TIMEOUT_MS, type EngineStack } from "../support/engine";
import { assignSeedAddresses, guestBridgeScript, labConnection, VOLUME_GROUP_LEFTOVERS_SCRIPT, labExec, labRun, LAB_NODES, waitFor, type LabNodeName } from "../support/lab";
import { labConnectionInput, report } from "../support/lab-inputs";

jest.setTimeout(LAB_TIMEOUT_MS);

const BRIDGE = "xenbr0";
const GUEST_DIR = "/var/lib/xen-ha-lab/guest";

interface Guest {
  name: string;
  type: "pv" | "pvh";
  address: string;
  resource: string;
  device: string;
  port: number;
}
const GUESTS: Record<"pvh" | "pv", Guest> = {
  pvh: { name: "pvhguest", type: "pvh", address: "10.1.1.200", resource: "pvhguest-disk", device: "/dev/drbd11", port: 7811 },
  pv: { name: "pvguest", type: "pv", address: "10.1.1.201", resource: "pvguest-disk", device: "/dev/drbd12", port: 7812 },
};

interface DesiredGuest {
  runOn: LabNodeName;
  state: "running" | "stopped";
  memory: number;
  vcpus: number;
  allowNonLiveMove: boolean;
}
const desired: { volumesOnly: boolean; guests: boolean } & Record<"pvh" | "pv", DesiredGuest> = {
  volumesOnly: true,
  guests: true,
  pvh: { runOn: "ha1", state: "running", memory: 128, vcpus: 1, allowNonLiveMove: false },
  pv: { runOn: "ha1", state: "running", memory: 128, vcpus: 1, allowNonLiveMove: false },
};
const hostnames: Record<LabNodeName, string> = { ha1: "", ha2: "" };

function drbdNode(g: Guest, node: LabNodeName) {
  return {
    connection: labConnectionInput(node, { pin: true }),
    hostname: hostnames[node],
    address: labConnection().nodes[node].crossoverAddress,
    port: g.port,
    device: g.device,
    disk: `/dev/vg/${g.resource}`,
    metaDisk: "internal" as const,
  };
}

function program() {
  const lab = labConnection();
  const volumes: LogicalVolume[] = [];
  for (const node of LAB_NODES) {
    const connection = labConnectionInput(node, { pin: true });
    const vg = new VolumeGroup(`${node}-vg`, { connection, name: "vg", devices: [lab.nodes[node].dataDisk] });
    for (const g of Object.values(GUESTS)) {
      volumes.push(new LogicalVolume(`${node}-${g.resource}`, { connection, volumeGroup: vg.name, name: g.resource, size: "64M" }, { dependsOn: vg }));
    }
  }
  if (desired.volumesOnly) return Promise.resolve({});
  const drbd = Object.values(GUESTS).map(
    (g) =>
      new DrbdResource(
        g.resource,
        {
          name: g.resource,
          initialSyncSource: hostnames.ha1,
          usageCount: "no",
          wipeMetadataOnDelete: true,
          nodes: [drbdNode(g, "ha1"), drbdNode(g, "ha2")],
        },
        { dependsOn: volumes },
      ),
  );
  const hosts = LAB_NODES.map((node) => ({ name: node, connection: labConnectionInput(node, { pin: true }), crossoverAddress: lab.nodes[node].crossoverAddress }));
  const trust = new XenMigrationTrust("trust", { hosts });
  if (!desired.guests) return Promise.resolve({});
  const out: Record<string, unknown> = {};
  for (const [key, g] of Object.entries(GUESTS) as ["pvh" | "pv", Guest][]) {
    const d = desired[key];
    const domu = new XenDomU(
      g.name,
      {
        name: g.name,
        hosts,
        runOn: d.runOn,
        state: d.state,
        type: g.type,
        kernel: `${GUEST_DIR}/vmlinuz`,
        ramdisk: `${GUEST_DIR}/initrd.img`,
        extra: `console=hvc0 ip=${g.address}/24 name=${g.name}`,
        memory: d.memory,
        vcpus: d.vcpus,
        vifs: [{ bridge: BRIDGE }],
        disks: [{ drbd: g.resource, vdev: "xvda" }],
        allowNonLiveMove: d.allowNonLiveMove,
        // The test guest's init does not act on a shutdown request: destroy follows after this.
        shutdownTimeoutSeconds: 15,
      },
      { dependsOn: [trust, ...drbd] },
    );
    out[`${key}PendingRestart`] = domu.pendingRestart;
  }
  return Promise.resolve(out);
}

// ---- what the hosts say ----

async function domainsOn(node: LabNodeName): Promise<Record<string, { domid: number; memory: number; vcpus: number }>> {
  const out = await labRun(node, "xl list");
  const rows = out.split("\n").slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/));
  return Object.fromEntries(rows.map((r) => [r[0]!, { domid: Number(r[1]), memory: Number(r[2]), vcpus: Number(r[3]) }]));
}

async function where(g: Guest): Promise<string[]> {
  const lists = await Promise.all(LAB_NODES.map(domainsOn));
  return LAB_NODES.filter((_, i) => g.name in lists[i]!);
}

const other = (node: LabNodeName): LabNodeName => (node === "ha1" ? "ha2" : "ha1");
const RECORD = /xen-ha-lab-guest name=(\S+) counter=(\d+) uptime=([\d.]+) boot=([0-9a-f-]+)/;

/** The counter line the guest wrote, as read from `node`'s copy of its disk (O_DIRECT: no page cache). */
async function counterOn(node: LabNodeName, device: string): Promise<{ counter: number; uptime: number; boot: string } | undefined> {
  const raw = await labRun(node, `dd if=${device} bs=512 count=1 iflag=direct status=none | tr -d '\\000'`);
  const m = RECORD.exec(raw);
  return m ? { counter: Number(m[2]), uptime: Number(m[3]), boot: m[4]! } : undefined;
}

/** A newer counter than `after` on the peer's backing volume of the guest's disk. */
function nextCounter(node: LabNodeName, g: Guest, after: number) {
  return waitFor(
    async () => {
      const c = await counterOn(node, `/dev/vg/${g.resource}`);
      return c && c.counter > after ? c : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 2000, what: `${g.name}'s counter above ${after} on ${node}` },
  );
}

async function drbdRole(node: LabNodeName, resource: string): Promise<string> {
  const r = await labExec(node, `drbdadm role ${resource}`);
  return r.code === 0 ? r.stdout.trim() : `error: ${r.stderr.trim()}`;
}

/** Pings `address` from `node` every half second until the returned function stops it and reads the outcome. */
async function startPing(node: LabNodeName, address: string): Promise<() => Promise<{ sent: number; received: number; longestGapS: number }>> {
  await labRun(node, `rm -f /tmp/xenha-ping.log; nohup ping -D -i 0.5 -W 1 ${address} </dev/null >/tmp/xenha-ping.log 2>&1 & echo $! >/tmp/xenha-ping.pid`);
  return async () => {
    await labRun(node, "kill -INT $(cat /tmp/xenha-ping.pid)");
    const log = await waitFor(
      async () => {
        const text = await labRun(node, "cat /tmp/xenha-ping.log");
        return /packets transmitted/.test(text) ? text : undefined;
      },
      { timeoutMs: 20_000, what: "ping's summary" },
    );
    const summary = /(\d+) packets transmitted, (\d+) received/.exec(log)!;
    const replies = [...log.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]));
    const longestGapS = replies.slice(1).reduce((gap, t, i) => Math.max(gap, t - replies[i]!), 0);
    return { sent: Number(summary[1]), received: Number(summary[2]), longestGapS: Math.round(longestGapS * 10) / 10 };
  };
}

async function waitForPing(from: LabNodeName, g: Guest): Promise<void> {
  await waitFor(async () => (await labExec(from, `ping -c 1 -W 2 ${g.address}`)).code === 0, { timeoutMs: 180_000, intervalMs: 2000, what: `${g.name} to answer ping from ${from}` });
}

/** Moves a guest through the engine while another node pings it; returns what was measured. */
async function moveMeasured(stack: EngineStack, key: "pvh" | "pv", to: LabNodeName, label: string) {
  const g = GUESTS[key];
  const from = desired[key].runOn;
  let ping = { sent: 0, received: 0, longestGapS: 0 };
  const pinger = from === "ha1" ? "ha2" : "ha1";
  await waitForPing(pinger, g);
  const before = await nextCounter(to, g, 0);
  const marker = `xenha-marker-${Date.now()}`;
  // Data written through DRBD on the source before the move, read through DRBD on the target after.
  await labRun(from, `printf '%s' ${marker} | dd of=${g.device} bs=512 seek=8192 conv=sync,notrunc oflag=direct status=none`);
  const stopPing = await startPing(pinger, g.address);
  desired[key].runOn = to;
  const started = Date.now();
  let up: Awaited<ReturnType<EngineStack["up"]>>;
  try {
    up = await stack.up();
  } finally {
    await stopPing().then((p) => (ping = p), () => undefined);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  report(`${label}: up ${seconds} s; ping from ${pinger}: ${ping.sent} sent, ${ping.sent - ping.received} lost (${Math.round((100 * (ping.sent - ping.received)) / Math.max(ping.sent, 1))}%), longest gap ${ping.longestGapS} s`);
  const after = await nextCounter(from, g, before.counter);
  const data = await labRun(to, `dd if=${g.device} bs=512 skip=8192 count=1 iflag=direct status=none | tr -d '\\000'`);
  report(`${label}: counter ${before.counter} (uptime ${before.uptime} s) before, ${after.counter} (uptime ${after.uptime} s) after, same boot: ${after.boot === before.boot}`);
  return { up, before, after, data: data.trim(), marker };
}

/** What the state records for a guest: "state runOn". */
async function recorded(stack: EngineStack, g: Guest): Promise<string> {
  const deployment = await stack.exportState();
  const resources = (deployment.deployment as { resources?: { urn: string; outputs?: Record<string, unknown> }[] }).resources ?? [];
  const r = resources.find((x) => x.urn.endsWith(`XenDomU::${g.name}`));
  return `${String(r?.outputs?.state)} ${String(r?.outputs?.runOn)}`;
}

// ---- fixtures: the bridge NodeNetwork would make, and leftovers of an interrupted run ----

/**
 * Removes what an interrupted run of this or another lab test left on the data disk (the lab
 * gives it to tests only): this file's guests and configs, DRBD resources backed by volume group
 * "vg", and the group itself. Prints what it removed.
 */
function leftoverScript(): string {
  const names = Object.values(GUESTS);
  return [
    ...names.map((g) => `xl destroy ${g.name} 2>/dev/null && echo "destroyed ${g.name}"`),
    ...names.map((g) => `rm -f /etc/xen/${g.name}.cfg`),
    VOLUME_GROUP_LEFTOVERS_SCRIPT,
  ].join("\n");
}

/** The lab's hypervisor option: `default` (bookworm's security build, no shadow paging) or `4.17.5`. */
function labHypervisor(): string {
  try {
    return labConnection().hypervisor;
  } catch {
    return "default";
  }
}
const shadowPaging = labHypervisor() === "4.17.5";
// Skipped by design: of the two PV move tests below, only the one for the booted hypervisor can
// run (a PV live migration needs shadow paging; the refusal needs its absence). Boot the lab with
// LAB_HYPERVISOR=4.17.5 to run the other one.
const withShadowPaging = shadowPaging ? it : it.skip;
const withoutShadowPaging = shadowPaging ? it.skip : it;

describeWithEngine("XenDomU on the lab through the engine", () => {
  let stack: EngineStack;
  let virtCaps = "";

  beforeAll(async () => {
    await assignSeedAddresses();
    for (const node of LAB_NODES) {
      hostnames[node] = (await labRun(node, "uname -n")).trim();
      const removed = (await labRun(node, leftoverScript())).trim();
      if (removed) report(`${node}: leftovers of an earlier run removed: ${removed.split("\n").join("; ")}`);
      // A clean lab: no volume group "vg" and no guests.
      expect([(await labExec(node, "vgs vg")).code !== 0, Object.keys(await domainsOn(node))]).toEqual([true, ["Domain-0"]]);
      await labRun(node, guestBridgeScript(node, true));
    }
    virtCaps = (await labRun("ha1", "xl info | sed -n 's/^virt_caps *: *//p'")).trim();
    report(`hypervisor: ${(await labRun("ha1", "xl info | sed -n 's/^xen_version *: *//p'")).trim()}, virt_caps: ${virtCaps}`);
    stack = await createEngineStack({ program, projectName: "xen-domu-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    for (const node of LAB_NODES) await labExec(node, Object.values(GUESTS).map((g) => `xl destroy ${g.name} 2>/dev/null`).join("\n") + "\ntrue");
    await stack?.dispose();
    for (const node of LAB_NODES) await labExec(node, `${leftoverScript()}\n${guestBridgeScript(node, false)}\nrm -f /tmp/xenha-ping.*`);
  });

  it("creates both guests on ha1 on DRBD, with the same config on both nodes", async () => {
    await stack.up();
    // The volumes may sit where an earlier test left DRBD meta-data: start them blank.
    for (const node of LAB_NODES) {
      await labRun(node, Object.values(GUESTS).map((g) => `dd if=/dev/zero of=/dev/vg/${g.resource} bs=1M count=64 oflag=direct status=none`).join(" && "));
    }
    desired.volumesOnly = false;
    const started = Date.now();
    const up = await stack.up();
    report(`first up (volumes, DRBD, migration trust, two guests started): ${Math.round((Date.now() - started) / 1000)} s`);
    const configs = await Promise.all(LAB_NODES.map((n) => labRun(n, `cat /etc/xen/${GUESTS.pvh.name}.cfg`)));
    expect([
      changesOnly(up.changes),
      await where(GUESTS.pvh),
      await where(GUESTS.pv),
      configs[0] === configs[1],
      configs[0],
      await drbdRole("ha1", GUESTS.pvh.resource),
    ]).toEqual([{ create: 5 }, ["ha1"], ["ha1"], true, expect.stringContaining("'drbd:pvhguest-disk,xvda,w'"), "Primary/Secondary"]);
  });

  it("the guest runs: it answers ping across the public link and its counter reaches ha2's disk through DRBD", async () => {
    await waitForPing("ha2", GUESTS.pvh);
    const first = await nextCounter("ha2", GUESTS.pvh, 0);
    const later = await nextCounter("ha2", GUESTS.pvh, first.counter);
    expect(later.boot).toBe(first.boot);
  });

  it("lets each dom0 into the other only through the gate: xl list and drbdadm role pass, anything else is refused", async () => {
    const ssh = (what: string) => labExec("ha1", `${migrationSshCommand().text} ${labConnection().nodes.ha2.crossoverAddress} ${what}`);
    const [list, role, destroy] = [await ssh(`xl list ${GUESTS.pvh.name}`), await ssh(`drbdadm role ${GUESTS.pvh.resource}`), await ssh(`xl destroy ${GUESTS.pvh.name}`)];
    expect([list.code, /invalid domain identifier|not exist/i.test(list.stderr), role.stdout.trim(), destroy.code, destroy.stderr.trim()]).toEqual([
      1,
      true,
      "Secondary/Primary",
      1,
      `xen-ha-migration-gate: refused: xl destroy ${GUESTS.pvh.name}`,
    ]);
  });

  it("a second up changes nothing", async () => {
    expect(changesOnly((await stack.up()).changes)).toEqual({});
  });

  it("a guest destroyed by hand shows in preview --diff as its state, and the next up starts it again", async () => {
    const g = GUESTS.pvh;
    const node = desired.pvh.runOn;
    await labRun(node, `xl destroy ${g.name}`);
    await waitFor(async () => ((await where(g)).length === 0 ? true : undefined), { timeoutMs: 60_000, what: `${g.name} to leave xl list` });
    await stack.refresh();
    const found = await recorded(stack, g);
    const preview = await stack.preview();
    const up = await stack.up();
    expect([found, preview.steps.map((s) => [s.op, s.urn.split("::").pop(), s.changedInputs]), changesOnly(up.changes), await where(g)]).toEqual([
      `stopped ${node}`,
      [["update", g.name, ["state"]]],
      { update: 1 },
      [node],
    ]);
  });

  it("after a refresh, the outputs say what xl list and drbdadm say on the nodes", async () => {
    await stack.refresh();
    const g = GUESTS.pvh;
    const deployment = await stack.exportState();
    const resources = (deployment.deployment as { resources?: { urn: string; outputs?: Record<string, unknown> }[] }).resources ?? [];
    const outputs = resources.find((x) => x.urn.endsWith(`XenDomU::${g.name}`))?.outputs ?? {};
    const onNodes = { [g.resource]: Object.fromEntries(await Promise.all(LAB_NODES.map(async (n) => [n, await drbdRole(n, g.resource)] as const))) };
    const domid = (await domainsOn(desired.pvh.runOn))[g.name]?.domid;
    expect([outputs.state, outputs.runOn, outputs.domid, outputs.drbdRoles]).toEqual(["running", desired.pvh.runOn, domid, onNodes]);
  });

  it("a split brain is loud: refresh and preview warn with the recovery steps, and the resource's status says StandAlone", async () => {
    const g = GUESTS.pvh;
    const home = desired.pvh.runOn;
    const peer = other(home);
    const cstates = () => Promise.all(LAB_NODES.map((n) => labRun(n, `drbdadm cstate ${g.resource}`).then((s) => s.trim())));
    await Promise.all(LAB_NODES.map((n) => labRun(n, `drbdadm disconnect ${g.resource}`)));
    // Both sides write while apart: the peer promoted by hand, the guest at home through its counter.
    // The peer stays Primary: with one Primary left at the reconnect, the package's after-sb-1pri
    // (discard-secondary) would settle it by itself; two Primaries are a split brain DRBD leaves to a person.
    await labRun(peer, `drbdadm primary ${g.resource} && dd if=/dev/urandom of=${g.device} bs=4k seek=4096 count=1 oflag=direct status=none`);
    const seen = (await counterOn(home, g.device))?.counter ?? 0;
    await waitFor(async () => ((await counterOn(home, g.device))?.counter ?? 0) > seen || undefined, { timeoutMs: 120_000, intervalMs: 2000, what: `${g.name} to write at home` });
    await Promise.all(LAB_NODES.map((n) => labRun(n, `drbdadm connect ${g.resource}`)));
    await waitFor(async () => (await cstates()).every((c) => c === "StandAlone") || undefined, { timeoutMs: 60_000, intervalMs: 2000, what: "both sides to drop the connection" });
    const refresh = await stack.refresh();
    const preview = await stack.preview();
    const resources = ((await stack.exportState()).deployment as { resources?: { urn: string; outputs?: Record<string, unknown> }[] }).resources ?? [];
    const status = resources.find((r) => r.urn.endsWith(`DrbdResource::${g.resource}`))?.outputs?.status as Record<string, { connection: string; splitBrain?: boolean }>;
    const advice = new RegExp(`warning: .*DRBD ${g.resource}: split brain seen on .*drbdadm connect --discard-my-data ${g.resource}`, "s");

    // The recovery the warning names: the peer's changes are discarded, the guest's data stays.
    await labRun(peer, `drbdadm secondary ${g.resource}; drbdadm connect --discard-my-data ${g.resource}`);
    await labRun(home, `drbdadm connect ${g.resource}`);
    await waitFor(async () => (await labRun("ha1", `drbdadm dstate ${g.resource}`)).trim() === "UpToDate/UpToDate" || undefined, { timeoutMs: 180_000, intervalMs: 3000, what: "the resync after the recovery" });
    const after = await stack.refresh();
    expect([
      advice.test(`${refresh.stdout}\n${refresh.stderr}`),
      advice.test(`${preview.stdout}\n${preview.stderr}`),
      Object.values(status).map((s) => [s.connection, s.splitBrain === true]),
      /split brain/.test(`${after.stdout}\n${after.stderr}`),
      await cstates(),
    ]).toEqual([true, true, [["StandAlone", true], ["StandAlone", true]], false, ["Connected", "Connected"]]);
  });

  it("a DRBD option changed with drbdsetup shows in preview --diff as runtimeDrift, and the next up puts the file's value back", async () => {
    const g = GUESTS.pv;
    const minor = g.device.replace("/dev/drbd", "");
    const resyncRate = (n: LabNodeName) => labRun(n, `drbdsetup show ${g.resource} | sed -n 's/^[[:space:]]*resync-rate[[:space:]]*\\([0-9]*k\\).*/\\1/p'`).then((s) => s.trim());
    const before = await resyncRate("ha2");
    await labRun("ha2", `drbdsetup disk-options ${minor} --resync-rate=20M`);
    const changed = await resyncRate("ha2");
    const refresh = await stack.refresh();
    const preview = await stack.preview();
    const up = await stack.up();
    expect([
      changed,
      /warning: .*running options differ/s.test(`${refresh.stdout}\n${refresh.stderr}`),
      preview.steps.map((s) => [s.op, s.urn.split("::").pop(), s.changedInputs]),
      changesOnly(up.changes),
      await resyncRate("ha2"),
    ]).toEqual(["20480k", true, [["update", g.resource, ["runtimeDrift"]]], { update: 1 }, before]);
  });

  it("a change of host is an update, never a replace", async () => {
    desired.pvh.runOn = "ha2";
    const preview = await stack.preview();
    desired.pvh.runOn = "ha1";
    expect(preview.steps.map((s) => [s.op, s.urn.split("::").pop(), s.changedInputs])).toEqual([["update", GUESTS.pvh.name, ["runOn"]]]);
  });

  it.each([
    ["ha2", "PVH live migration ha1 → ha2"],
    ["ha1", "PVH live migration ha2 → ha1"],
  ] as const)("live-migrates the PVH guest to %s while it keeps running and keeps its data", async (to, label) => {
    const moved = await moveMeasured(stack, "pvh", to, label);
    expect([changesOnly(moved.up.changes), await where(GUESTS.pvh), moved.after.boot, moved.data, await drbdRole(to, GUESTS.pvh.resource)]).toEqual([
      { update: 1 },
      [to],
      moved.before.boot,
      moved.marker,
      expect.stringMatching(/^Primary\//),
    ]);
  });

  // Which of the two runs is decided by the hypervisor the lab booted (LAB_HYPERVISOR); each
  // test checks first that the hypervisor's virt_caps say what its name promises.
  withShadowPaging("live-migrates the PV guest on a hypervisor with shadow paging (LAB_HYPERVISOR=4.17.5)", async () => {
    const g = GUESTS.pv;
    expect(virtCaps).toMatch(/\bshadow\b/);
    const moved = await moveMeasured(stack, "pv", "ha2", "PV live migration ha1 → ha2 (shadow paging)");
    expect([await where(g), moved.after.boot, moved.data]).toEqual([["ha2"], moved.before.boot, moved.marker]);
  });

  withoutShadowPaging("moves the PV guest without shadow paging (the default hypervisor): refused in preview (nothing moves), then with the opt-in by save, copy and restore", async () => {
    const g = GUESTS.pv;
    expect(virtCaps).not.toMatch(/\bshadow\b/);
    const domid = (await domainsOn("ha1"))[g.name]?.domid;
    desired.pv.runOn = "ha2";
    const refusal = await stack.preview().then(
      () => "preview succeeded",
      (e: Error) => e.message,
    );
    const failedUp = await stack.up().then(
      () => "up succeeded",
      (e: Error) => e.message,
    );
    desired.pv.runOn = "ha1";
    report(`PV move refused in preview: ${/moving pvguest from ha1 to ha2 is refused[^\n]*/.exec(refusal)?.[0] ?? refusal.slice(0, 400)}`);
    const refused = /moving pvguest from ha1 to ha2 is refused before anything moves: .*without shadow paging.*Failed to enable logdirty.*allowNonLiveMove/;
    expect([refused.test(refusal), refused.test(failedUp), (await domainsOn("ha1"))[g.name]?.domid, await where(g)]).toEqual([true, true, domid, ["ha1"]]);

    desired.pv.allowNonLiveMove = true;
    const moved = await moveMeasured(stack, "pv", "ha2", "PV non-live move ha1 → ha2 (save, copy, restore)");
    expect([changesOnly(moved.up.changes), await where(g), moved.after.boot, moved.data]).toEqual([{ update: 1 }, ["ha2"], moved.before.boot, moved.marker]);
  });

  it("balloons memory down on the running guest, and says a vCPU above its start limit waits for a restart", async () => {
    const g = GUESTS.pvh;
    const node = desired.pvh.runOn;
    desired.pvh.memory = 96;
    desired.pvh.vcpus = 2;
    const up = await stack.up();
    const memory = await waitFor(
      async () => {
        const d = (await domainsOn(node))[g.name];
        return d && d.memory <= 97 ? d : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000, what: `${g.name} to balloon down to 96 MiB` },
    );
    const configs = await Promise.all(LAB_NODES.map((n) => labRun(n, `cat /etc/xen/${g.name}.cfg`)));
    expect([changesOnly(up.changes), memory.vcpus, configs.every((c) => /^memory = 96$/m.test(c) && /^vcpus = 2$/m.test(c)), up.outputs.pvhPendingRestart]).toEqual([
      { update: 1 },
      1,
      true,
      ["vcpus 2 is above the 1 the running guest was started with (maxVcpus); it applies at the next start"],
    ]);
  });

  it("refuses to start a guest that already runs on the peer, and leaves that guest running", async () => {
    const g = GUESTS.pv;
    desired.pv.state = "stopped";
    await stack.up();
    const home = desired.pv.runOn;
    const peer = other(home);
    expect(await where(g)).toEqual([]);
    const stale = await counterOn(home, `/dev/vg/${g.resource}`);
    await labRun(peer, `xl create /etc/xen/${g.name}.cfg`);
    const domid = (await domainsOn(peer))[g.name]?.domid;
    const first = await waitFor(
      async () => {
        const c = await counterOn(home, `/dev/vg/${g.resource}`);
        return c && c.boot !== stale?.boot ? c : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 2000, what: `the counter of ${g.name} started by hand on ${peer}` },
    );

    desired.pv.state = "running";
    const failure = await stack.up().then(
      () => "up succeeded",
      (e: Error) => e.message,
    );
    desired.pv.state = "stopped";
    report(`start refused: ${new RegExp(`${g.name} is not started on ${home}[^\\n]*`).exec(failure)?.[0] ?? failure.slice(0, 400)}`);
    const later = await nextCounter(home, g, first.counter);
    expect([new RegExp(`${g.name} is not started on ${home}: ${g.name} is running on ${peer}`).test(failure), await where(g), (await domainsOn(peer))[g.name]?.domid, later.boot]).toEqual([
      true,
      [peer],
      domid,
      first.boot,
    ]);
  });

  it("refresh finds where the guest really runs, and the next up stops it there", async () => {
    const g = GUESTS.pv;
    const home = desired.pv.runOn;
    const peer = other(home);
    await stack.refresh();
    const found = await recorded(stack, g);
    const up = await stack.up();
    await waitFor(async () => (await drbdRole(peer, g.resource)) === "Secondary/Secondary", { timeoutMs: 60_000, what: `${g.resource} to be demoted on ${peer}` });
    const guestSteps = up.steps.filter((s) => s.type.endsWith("XenDomU")).map((s) => `${s.op} ${s.urn.split("::").pop()}`);
    expect([found, guestSteps, await where(g), await recorded(stack, g)]).toEqual([
      `running ${peer}`,
      [`update ${g.name}`],
      [],
      `stopped ${home}`,
    ]);
  });

  it("stopping leaves no domain, both disks Secondary, and the configs in place", async () => {
    desired.pvh.state = "stopped";
    const up = await stack.up();
    const roles = await Promise.all(LAB_NODES.map((n) => waitFor(async () => ((await drbdRole(n, GUESTS.pvh.resource)) === "Secondary/Secondary" ? true : undefined), { timeoutMs: 60_000, what: "Secondary" })));
    const configs = await Promise.all(LAB_NODES.map((n) => labExec(n, `test -f /etc/xen/${GUESTS.pvh.name}.cfg`)));
    expect([changesOnly(up.changes), await where(GUESTS.pvh), roles, configs.map((c) => c.code)]).toEqual([{ update: 1 }, [], [true, true], [0, 0]]);
  });

  it("deleting the guests removes their configs; destroy leaves no trust, DRBD or volumes behind", async () => {
    desired.pvh.state = "running";
    desired.pvh.memory = 128;
    await stack.up();
    expect(await where(GUESTS.pvh)).toEqual([desired.pvh.runOn]);
    desired.guests = false;
    const up = await stack.up();
    const left = await Promise.all(LAB_NODES.map((n) => labRun(n, `ls /etc/xen/${GUESTS.pvh.name}.cfg /etc/xen/${GUESTS.pv.name}.cfg 2>/dev/null; xl list | tail -n +2 | awk '{print $1}'`)));
    expect([changesOnly(up.changes), left.map((l) => l.trim())]).toEqual([{ delete: 2 }, ["Domain-0", "Domain-0"]]);

    await stack.destroy();
    const trace = await Promise.all(
      LAB_NODES.map((n) =>
        labRun(n, "ls /usr/local/sbin/xen-ha-migration-gate /root/.ssh/xen-ha-migration /root/.ssh/xen-ha-known_hosts 2>/dev/null; grep -c xen-ha-migration-gate /root/.ssh/authorized_keys; cat /proc/drbd 2>/dev/null | grep -c 'cs:'; vgs --noheadings 2>/dev/null; true"),
      ),
    );
    expect(trace.map((t) => t.trim())).toEqual(["0\n0", "0\n0"]);
  });
});
