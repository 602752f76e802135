/**
 * VolumeGroup and LogicalVolume on both lab nodes, through the real engine: the seed's LVM steps
 * (pvcreate/vgcreate on the empty disk, test-disk, test-swap and the DRBD meta volume), then
 * every lifecycle path a user meets.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { LogicalVolume, VolumeGroup } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, LAB_TIMEOUT_MS, type EngineStack } from "../support/engine";
import { labConnection, labRun, waitFor, LAB_NODES, type LabNodeName } from "../support/lab";
import { labConnectionInput, report } from "../support/lab-inputs";

jest.setTimeout(LAB_TIMEOUT_MS);

const MiB = 1024 * 1024;

interface Desired {
  volumes: Record<string, string>;
  /** Volumes on one node only. */
  only: Record<LabNodeName, Record<string, string>>;
  /** The address the stack reaches the nodes at (the lab's own by default). */
  host?: string;
}

const desired: Desired = {
  volumes: { "test-disk": "512M", "test-swap": "128M", meta: "256M" },
  only: { ha1: {}, ha2: {} },
};

function program() {
  const lab = labConnection();
  const out: Record<string, unknown> = {};
  for (const node of LAB_NODES) {
    // ha1 pins its host key; ha2 trusts on first use and keeps the key in state, and its private
    // key is a plain string, as a careless program passes it.
    const connection = labConnectionInput(node, { pin: node === "ha1", plainKey: node === "ha2", ...(desired.host ? { host: desired.host } : {}) });
    const vg = new VolumeGroup(`${node}-vg`, { connection, name: "vg", devices: [lab.nodes[node].dataDisk] });
    const volumes = { ...desired.volumes, ...desired.only[node] };
    for (const [name, size] of Object.entries(volumes)) {
      const lv = new LogicalVolume(`${node}-${name}`, { connection, volumeGroup: vg.name, name, size }, { dependsOn: vg });
      out[`${node}-${name}`] = lv.sizeBytes;
    }
    out[`${node}-hostKey`] = vg.observedHostKey;
  }
  return Promise.resolve(out);
}

/** Every file under a directory, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * Replaces ha2's ed25519 host key with a new one. Returns a known_hosts file that trusts the new
 * key, its fingerprint, and the node's time once sshd presents it.
 */
async function swapHostKey(): Promise<{ knownHosts: string; fingerprint: string; since: string }> {
  const out = await labRun(
    "ha2",
    "set -e; cd /etc/ssh; cp -p ssh_host_ed25519_key /root/hk.orig; cp -p ssh_host_ed25519_key.pub /root/hk.orig.pub; " +
      "rm -f /root/hk.new /root/hk.new.pub; ssh-keygen -q -t ed25519 -N '' -f /root/hk.new; " +
      "cp /root/hk.new ssh_host_ed25519_key; cp /root/hk.new.pub ssh_host_ed25519_key.pub; systemctl reload ssh; sleep 1; " +
      "cat /root/hk.new.pub; ssh-keygen -lf /root/hk.new.pub | cut -d' ' -f2; date '+%Y-%m-%d %H:%M:%S'",
  );
  const [pub = "", fingerprint = "", since = ""] = out.trim().split("\n");
  const node = labConnection().nodes.ha2;
  const knownHosts = path.join(mkdtempSync(path.join(tmpdir(), "xen-ha-hk-")), "known_hosts");
  writeFileSync(knownHosts, `[${node.host}]:${node.port} ${pub.split(" ").slice(0, 2).join(" ")}\n`);
  return { knownHosts, fingerprint, since };
}

async function restoreHostKey(knownHostsPath: string): Promise<void> {
  await labRun("ha2", "set -e; cp -p /root/hk.orig /etc/ssh/ssh_host_ed25519_key; cp -p /root/hk.orig.pub /etc/ssh/ssh_host_ed25519_key.pub; systemctl reload ssh", { knownHostsPath });
}

async function lvUuids(node: LabNodeName): Promise<string> {
  return (await labRun(node, "lvs --noheadings -o lv_name,lv_uuid vg | sort")).trim();
}

async function lvSizes(node: LabNodeName): Promise<Record<string, number>> {
  const json = await labRun(node, "lvs --reportformat json --units b --nosuffix -o lv_name,lv_size vg 2>/dev/null || echo '{}'");
  const rows = (JSON.parse(json).report?.[0]?.lv ?? []) as { lv_name: string; lv_size: string }[];
  return Object.fromEntries(rows.map((r) => [r.lv_name, Number(r.lv_size)]));
}

/** Keeps a volume open from a process that outlives the SSH session, and waits until LVM sees it open. */
async function holdOpen(node: LabNodeName, volume: string, tag: string): Promise<void> {
  await labRun(node, `setsid nohup bash -c 'exec 3</dev/vg/${volume}; exec -a ${tag} sleep 900' </dev/null >/dev/null 2>&1 &`);
  await waitFor(async () => (await labRun(node, `lvs --noheadings -o lv_attr vg/${volume}`)).trim()[5] === "o" || undefined, {
    timeoutMs: 30_000,
    what: `vg/${volume} to be open`,
  });
}

const checksum = (node: LabNodeName, device: string, mib: number) =>
  labRun(node, `dd if=${device} bs=1M count=${mib} status=none | sha256sum | cut -d' ' -f1`);

describeWithEngine("LVM on the lab through the engine", () => {
  let stack: EngineStack;
  let sshLog: string;

  beforeAll(async () => {
    const lab = labConnection();
    for (const node of LAB_NODES) {
      // Bare hosts: the data disk carries no signature and no volume group exists.
      expect((await labRun(node, `blkid -p ${lab.nodes[node].dataDisk} || true`)).trim()).toBe("");
    }
    sshLog = path.join(mkdtempSync(path.join(tmpdir(), "xen-ha-ssh-")), "connections.log");
    stack = await createEngineStack({
      program,
      projectName: "lvm-lab",
      envVars: { PULUMI_XEN_HA_SSH_LOG: sshLog },
      onOutput: (s) => process.stdout.write(s),
    });
  });

  afterAll(async () => {
    await labRun("ha1", "pkill -f '[h]old-test-disk' || true").catch(() => undefined);
    await stack?.dispose();
  });

  it("creates the volume group and the seed's volumes on both nodes", async () => {
    const up = await stack.up();
    // Eight resources and the stack itself.
    expect(changesOnly(up.changes)).toEqual({ create: 9 });
    for (const node of LAB_NODES) {
      expect(await lvSizes(node)).toEqual({ "test-disk": 512 * MiB, "test-swap": 128 * MiB, meta: 256 * MiB });
    }
  });

  it("opens one SSH connection per host for a whole up", () => {
    const lines = readFileSync(sshLog, "utf8").trim().split("\n");
    const perHost = lines.reduce<Record<string, number>>((m, l) => ({ ...m, [l]: (m[l] ?? 0) + 1 }), {});
    report(`SSH connections opened by the first up: ${JSON.stringify(perHost)}`);
    expect(Object.values(perHost)).toEqual([1, 1]);
  });

  it("records the host key seen on first use in the state of the unpinned node", async () => {
    const outputs = await stack.outputs();
    expect(outputs["ha2-hostKey"]).toBe(labConnection().nodes.ha2.hostKey);
  });

  it("a second up changes nothing", async () => {
    const up = await stack.up();
    expect(changeCount(up.changes)).toBe(0);
  });

  it("keeps a plain-string private key out of the state: no file of the backend and no stack export holds it", async () => {
    const key = readFileSync(labConnection().privateKeyPath, "utf8");
    const body = key.split("\n").filter((l) => l.length > 40 && !l.startsWith("-----"));
    const exported = JSON.stringify(await stack.exportState());
    const files = filesUnder(stack.env.backendDir);
    const holding = files.filter((f) => body.some((line) => readFileSync(f, "latin1").includes(line)));
    expect([body.length > 0, files.length > 0, body.some((line) => exported.includes(line)), holding]).toEqual([true, true, false, []]);
  });

  it("reaching the same machines by another address is an update that touches no volume", async () => {
    for (const node of LAB_NODES) await labRun(node, "dd if=/dev/urandom of=/dev/vg/test-disk bs=1M count=16 status=none && sync");
    const before = await Promise.all(LAB_NODES.map(async (n) => [await checksum(n, "/dev/vg/test-disk", 16), await lvUuids(n)]));
    desired.host = "localhost";
    const preview = await stack.preview();
    const up = await stack.up();
    const after = await Promise.all(LAB_NODES.map(async (n) => [await checksum(n, "/dev/vg/test-disk", 16), await lvUuids(n)]));
    expect([changesOnly(preview.changes), changesOnly(up.changes), after]).toEqual([{ update: 8 }, { update: 8 }, before]);
  });

  it("holds a resource added later to the host key the stack recorded, refusing another key before authentication", async () => {
    const { knownHosts, fingerprint, since } = await swapHostKey();
    try {
      desired.only.ha2 = { late: "64M" };
      const failure = await stack.up().then(
        () => "up succeeded",
        (err: Error) => err.message,
      );
      desired.only.ha2 = {};
      const volumes = await labRun("ha2", "lvs --noheadings -o lv_name vg", { knownHostsPath: knownHosts });
      const sshd = (await labRun("ha2", `journalctl -u ssh --since '${since}' --no-pager -o cat`, { knownHostsPath: knownHosts })).split("\n");
      // The provider saw the new key (it names it), yet the only two logins after the swap are this
      // test's own two commands: the provider left during the key exchange, before authentication.
      expect([
        /host key/i.test(failure),
        failure.includes(labConnection().nodes.ha2.hostKey),
        failure.includes(fingerprint),
        volumes.includes("late"),
        sshd.filter((l) => l.startsWith("Accepted ")).length,
      ]).toEqual([true, true, true, false, 2]);
    } finally {
      await restoreHostKey(knownHosts);
    }
  });

  it("the same size in other units is no change", async () => {
    desired.volumes["test-swap"] = "0.125G";
    const preview = await stack.preview();
    desired.volumes["test-swap"] = "128M";
    expect(changeCount(preview.changes)).toBe(0);
  });

  it("preview of a larger volume shows exactly that update and touches no host", async () => {
    desired.volumes["test-disk"] = "768M";
    const preview = await stack.preview();
    expect([changesOnly(preview.changes), preview.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`).sort()]).toEqual([
      { update: 2 },
      ["update ha1-test-disk", "update ha2-test-disk"],
    ]);
    expect((await lvSizes("ha1"))["test-disk"]).toBe(512 * MiB);
  });

  it("grows a volume online while it is open, keeping its data", async () => {
    const device = "/dev/vg/test-disk";
    await labRun("ha1", `dd if=/dev/urandom of=${device} bs=1M count=64 status=none && sync`);
    const before = await checksum("ha1", device, 64);
    await holdOpen("ha1", "test-disk", "hold-test-disk");
    const up = await stack.up();
    expect([changesOnly(up.changes), (await lvSizes("ha1"))["test-disk"], await checksum("ha1", device, 64)]).toEqual([
      { update: 2 },
      768 * MiB,
      before,
    ]);
  });

  it("refuses to delete a volume that is open, and keeps it", async () => {
    await labRun("ha1", "pkill -f '[h]old-test-disk' || true");
    await holdOpen("ha1", "test-swap", "hold-test-swap");
    delete desired.volumes["test-swap"];
    const failure = await stack.up().then(
      () => "up succeeded",
      (err: Error) => err.message,
    );
    expect([failure.includes("/dev/vg/test-swap is open"), "test-swap" in (await lvSizes("ha1"))]).toEqual([true, true]);
  });

  it("deletes it once nothing holds it", async () => {
    await labRun("ha1", "pkill -f '[h]old-test-swap' || true");
    const up = await stack.up();
    expect([changesOnly(up.changes).delete, "test-swap" in (await lvSizes("ha1"))]).toEqual([1, false]);
  });

  it("refuses a shrink in preview, naming the input", async () => {
    desired.volumes["test-disk"] = "256M";
    const failure = await stack.preview().then(
      () => "preview succeeded",
      (err: Error) => err.message,
    );
    desired.volumes["test-disk"] = "768M";
    expect(failure).toMatch(/property size value \{256M\} has a problem: shrinking 768 MiB to 256 MiB would destroy the data/);
  });

  it("refresh notices a volume removed by hand, and the next up recreates it", async () => {
    await labRun("ha2", "lvremove -y vg/meta");
    const refresh = await stack.refresh();
    const up = await stack.up();
    expect([changesOnly(refresh.changes), changesOnly(up.changes), (await lvSizes("ha2")).meta]).toEqual([
      { delete: 1 },
      { create: 1 },
      256 * MiB,
    ]);
  });

  it("refuses to take over a volume that already exists, naming adopt, and leaves its data alone", async () => {
    await labRun("ha1", "lvcreate -y -L 64M -n legacy vg && dd if=/dev/urandom of=/dev/vg/legacy bs=1M count=16 status=none && sync");
    const before = await checksum("ha1", "/dev/vg/legacy", 16);
    desired.only.ha1 = { legacy: "64M" };
    const failure = await stack.up().then(
      () => "up succeeded",
      (err: Error) => err.message,
    );
    desired.only.ha1 = {};
    expect([/already exists .* Set adopt: true/s.test(failure), await checksum("ha1", "/dev/vg/legacy", 16)]).toEqual([true, before]);
  });

  it("a stack that adopts the volume leaves it with its data after destroy", async () => {
    const before = await checksum("ha1", "/dev/vg/legacy", 16);
    const adopter = await createEngineStack({
      projectName: "lvm-adopt",
      program: async () => {
        const lv = new LogicalVolume("legacy", { connection: labConnectionInput("ha1", { pin: true }), volumeGroup: "vg", name: "legacy", size: "64M", adopt: true });
        return { adopted: lv.adopted };
      },
    });
    try {
      const up = await adopter.up();
      const adopted = (await adopter.outputs()).adopted;
      const destroyed = await adopter.destroy();
      expect([changesOnly(up.changes), adopted, changesOnly(destroyed.changes), await checksum("ha1", "/dev/vg/legacy", 16)]).toEqual([
        { create: 2 },
        true,
        { delete: 2 },
        before,
      ]);
    } finally {
      await adopter.dispose();
      await labRun("ha1", "lvremove -y vg/legacy");
    }
  });

  it("destroy removes every volume and the group, leaving a blank disk", async () => {
    const lab = labConnection();
    await stack.destroy();
    for (const node of LAB_NODES) {
      const state = await labRun(node, `vgs --noheadings -o vg_name; pvs --noheadings -o pv_name; blkid -p ${lab.nodes[node].dataDisk} || true`);
      expect(state.trim()).toBe("");
    }
    expect(existsSync(sshLog)).toBe(true);
  });
});
