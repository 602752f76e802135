/**
 * The lab itself: two bare Xen hosts with the links, disks and fault controls
 * that the package's lab tests rely on. Runs after `lab.sh test-prepare`
 * (npm run test:lab), which boots bare hosts.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import {
  assignSeedAddresses,
  LAB_NODES,
  labArbiter,
  labArbiterAnswers,
  labArbiterHold,
  labConnection,
  labDir,
  labExec,
  labKill,
  labLink,
  labPing,
  labRun,
  labStart,
  parseXml,
  waitFor,
} from "../support/lab";
import { isHostCommandError, type HostCommandError } from "../../provider/errors";
import { sh } from "../../provider/shell";
import { connectionSchema } from "../../provider/ssh/connection";
import { closeAll, connect } from "../../provider/ssh/pool";

jest.setTimeout(10 * 60_000);

describe("the lab's bare hosts", () => {
  test.each(LAB_NODES)("%s runs the Xen hypervisor with a working toolstack", async (node) => {
    const info = await labRun(node, "xl info");
    expect(info).toMatch(/^xen_major\s*:\s*4$/m);
    expect(info).toMatch(/^xen_minor\s*:\s*17$/m);
    const domains = await labRun(node, "xl list");
    expect(domains).toMatch(/^Domain-0\s+0\s/m);
    expect((await labRun(node, "hostname")).trim()).toBe(node);
  });

  test.each(LAB_NODES)("%s loads the DRBD 8.4 kernel module", async (node) => {
    const proc = await labRun(node, "modprobe drbd && cat /proc/drbd");
    expect(proc).toMatch(/^version: 8\.4\./m);
  });

  test.each(LAB_NODES)("%s has its data disk at the recorded path", async (node) => {
    const disk = labConnection().nodes[node].dataDisk;
    expect(disk).toMatch(/^\/dev\/vd[b-z]$/);
    expect((await labRun(node, "readlink -f /dev/disk/by-id/virtio-lab-data")).trim()).toBe(disk);
    const size = await labRun(node, `blockdev --getsize64 ${disk}`);
    expect(Number(size.trim())).toBeGreaterThanOrEqual(2 * 1024 ** 3);
  });

  test.each(LAB_NODES)("%s keeps its public and crossover NICs up and its management NIC addressed", async (node) => {
    const n = labConnection().nodes[node];
    for (const nic of [n.publicNic, n.crossoverNic]) {
      expect(await labRun(node, `ip -o link show dev ${nic}`)).toMatch(/[<,]UP[,>]/);
    }
    expect(await labRun(node, `ip -o -4 addr show dev ${n.managementNic}`)).toMatch(/ 10\.0\.2\.15\/24 /);
    // No default route: the management network leads nowhere but to the test runner.
    expect((await labRun(node, "ip -4 route show default")).trim()).toBe("");
  });

  // Other suites of the lab project may run before this one and configure the
  // hosts, so bareness is judged on the report that `lab.sh test-prepare` read
  // from the hosts right after booting them (lab/lib/bare.sh), before any test.
  test.each(LAB_NODES)("%s booted bare: empty data disk, no addresses, no volumes, DRBD or Heartbeat", (node) => {
    const file = path.join(labDir(), "run", "bare", `${node}.txt`);
    const report = Object.fromEntries(
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    expect(report).toMatchObject({
      disk: labConnection().nodes[node].dataDisk,
      diskSignatures: "0", // wipefs finds nothing
      diskBlkidExit: "2", // blkid -p: nothing to identify
      diskChildren: "0",
      volumeGroups: "0",
      eth0Up: "1",
      eth1Up: "1",
      eth0Addresses: "0",
      eth1Addresses: "0",
      drbdResources: "0",
      heartbeat: "inactive",
      corosync: "inactive",
      "corosync-qdevice": "inactive",
      pacemaker: "inactive",
      guests: "0",
    });
  });

  test.each(LAB_NODES)("%s has Heartbeat and Pacemaker with Corosync installed, none of them enabled", async (node) => {
    const installed = await labRun(node, "dpkg-query -W -f '${Package} ${db:Status-Status}\\n' heartbeat pacemaker pacemaker-cli-utils corosync corosync-qdevice crmsh resource-agents");
    const enabled = await labExec(node, "systemctl is-enabled heartbeat corosync corosync-qdevice pacemaker");
    expect([installed.trim().split("\n").sort(), enabled.stdout.trim().split("\n")]).toEqual([
      ["corosync installed", "corosync-qdevice installed", "crmsh installed", "heartbeat installed", "pacemaker installed", "pacemaker-cli-utils installed", "resource-agents installed"],
      ["disabled", "disabled", "disabled", "disabled"],
    ]);
  });
});

describe("the lab's quorum arbiter", () => {
  afterAll(async () => {
    await labArbiter("restore", "ha1");
  });

  test("corosync-qnetd answers both nodes at 10.0.2.101:5403", async () => {
    expect([await labArbiterAnswers("ha1"), await labArbiterAnswers("ha2")]).toEqual([true, true]);
  });

  test("a cut drops the node's established connection at once", async () => {
    const file = "/run/lab-arbiter-hold";
    await labArbiterHold("ha1", file);
    await waitFor(async () => (await labRun("ha1", "ss -Htn state established dst 10.0.2.101")).trim() !== "", {
      timeoutMs: 30_000,
      what: "ha1's connection to the arbiter",
    });
    expect((await labExec("ha1", `cat ${file}`)).code).not.toBe(0);
    await labArbiter("cut", "ha1");
    const ended = await waitFor(async () => (await labExec("ha1", `cat ${file}`)).stdout.trim() || undefined, { timeoutMs: 15_000, what: "the held connection to end" });
    expect(ended).toBe("0");
  });

  test("a cut node is not answered, the other node still is, until the node is restored", async () => {
    await labArbiter("cut", "ha1");
    expect([await labArbiterAnswers("ha1"), await labArbiterAnswers("ha2")]).toEqual([false, true]);
    await labArbiter("restore", "ha1");
    expect(await labArbiterAnswers("ha1")).toBe(true);
  });
});

describe("the lab's Pacemaker fence agent", () => {
  test.each(LAB_NODES)("%s asks the power switch the peer's power state: on", async (node) => {
    const peer = node === "ha1" ? "ha2" : "ha1";
    const r = await labExec(node, "fence_xen_ha_lab", { stdin: `action=status\nplug=${peer}\n` });
    expect([r.code, r.stderr]).toEqual([0, ""]);
  });

  test("its metadata is a fence agent's, and Pacemaker's fencer takes it", async () => {
    const own = parseXml(await labRun("ha1", "fence_xen_ha_lab -o metadata"));
    const fencer = await labRun("ha1", "stonith_admin --metadata --agent fence_xen_ha_lab");
    expect([own.name, own.attributes.name, fencer]).toEqual(["resource-agent", "fence_xen_ha_lab", expect.stringContaining('<resource-agent name="fence_xen_ha_lab"')]);
  });

  test("Pacemaker lists it among the fence agents it has", async () => {
    expect((await labRun("ha1", "stonith_admin --list-installed")).split("\n").map((l) => l.trim())).toContain("fence_xen_ha_lab");
  });
});

describe("the lab's links", () => {
  const conn = () => labConnection();

  beforeAll(async () => {
    await assignSeedAddresses();
  });

  afterAll(async () => {
    await labLink("crossover", "up");
  });

  test("the crossover link carries pings between the nodes", async () => {
    await waitFor(() => labPing("ha1", conn().nodes.ha2.crossoverAddress), {
      timeoutMs: 30_000,
      what: "ha1 to reach ha2 over the crossover link",
    });
    expect(await labPing("ha2", conn().nodes.ha1.crossoverAddress, 3)).toBe(true);
  });

  test("the public link carries pings between the nodes", async () => {
    await waitFor(() => labPing("ha1", conn().nodes.ha2.publicAddress), {
      timeoutMs: 30_000,
      what: "ha1 to reach ha2 over the public link",
    });
    expect(await labPing("ha2", conn().nodes.ha1.publicAddress, 3)).toBe(true);
  });

  test("cutting the crossover cable stops its traffic until it is plugged back", async () => {
    const peer = conn().nodes.ha2;
    await labLink("crossover", "down");
    await waitFor(async () => !(await labPing("ha1", peer.crossoverAddress, 1, 1)), {
      timeoutMs: 20_000,
      what: "the crossover link to go silent",
    });
    expect(await labPing("ha1", peer.crossoverAddress, 3, 1)).toBe(false);
    // Only that cable is cut.
    expect(await labPing("ha1", peer.publicAddress, 1)).toBe(true);
    const carrier = await labRun("ha1", `cat /sys/class/net/${conn().nodes.ha1.crossoverNic}/carrier`);
    expect(carrier.trim()).toBe("0");

    await labLink("crossover", "up");
    await waitFor(() => labPing("ha1", peer.crossoverAddress, 1, 1), {
      timeoutMs: 30_000,
      what: "the crossover link to carry pings again",
    });
  });

  // Under emulation a virtio NIC's transmit queue can stall for good while DRBD floods the link;
  // each node's nic-watchdog then resets the device. What it puts back is checked here.
  test("a NIC reset by the nodes' transmit watchdog comes back with its bridge, addresses and routes", async () => {
    const n = conn().nodes.ha1;
    const peer = conn().nodes.ha2;
    const watchdog = "/usr/local/lib/xen-ha-lab/nic-watchdog";
    expect((await labRun("ha1", "systemctl is-active xen-ha-lab-nic-watchdog.service")).trim()).toBe("active");
    await labRun("ha1", `ip route replace 10.99.0.0/24 via ${peer.crossoverAddress} dev ${n.crossoverNic}`);
    await labRun("ha1", `ip link add labwd0 type bridge && ip link set dev ${n.publicNic} master labwd0`);
    try {
      const before = await labRun("ha1", `ip -4 -o addr show dev ${n.crossoverNic}; ip -4 route show dev ${n.crossoverNic}; basename "$(readlink /sys/class/net/${n.publicNic}/master)"`);
      const log = await labRun("ha1", `${watchdog} reset ${n.crossoverNic} && ${watchdog} reset ${n.publicNic}`);
      const after = await labRun("ha1", `ip -4 -o addr show dev ${n.crossoverNic}; ip -4 route show dev ${n.crossoverNic}; basename "$(readlink /sys/class/net/${n.publicNic}/master)"`);
      const kernelLog = await labRun("ha1", "dmesg | grep -c 'nic-watchdog: .*reset done'");
      expect([log.match(/reset done/g)?.length, after.replace(/\d+: /g, ""), before.includes("10.99.0.0/24") && before.includes(n.crossoverAddress), Number(kernelLog) >= 2]).toEqual([
        2,
        before.replace(/\d+: /g, ""),
        true,
        true,
      ]);
    } finally {
      await labRun("ha1", `ip link set dev ${n.publicNic} nomaster; ip link del labwd0; ip route del 10.99.0.0/24 || true`);
    }
    await waitFor(() => labPing("ha1", peer.crossoverAddress, 1, 1), { timeoutMs: 30_000, what: "the crossover link to carry pings after the reset" });
    await waitFor(() => labPing("ha1", peer.publicAddress, 1, 1), { timeoutMs: 30_000, what: "the public link to carry pings after the reset" });
  });
});

describe("the lab's test guest", () => {
  // An isolated bridge and a loop device keep the data disk and the links untouched.
  // The counter is read with O_DIRECT: dom0's page cache of the device does not see
  // what the guest writes through blkback.
  const setup = [
    "set -e",
    "truncate -s 16M /var/tmp/lab-guest.img",
    "losetup -j /var/tmp/lab-guest.img | grep -q . || losetup -f /var/tmp/lab-guest.img",
    "ip link show labtestbr0 >/dev/null 2>&1 || ip link add labtestbr0 type bridge",
    "ip link set labtestbr0 up",
    "ip addr replace 10.99.99.1/24 dev labtestbr0",
    "losetup -j /var/tmp/lab-guest.img | cut -d: -f1",
  ].join("\n");
  const teardown = [
    "xl destroy labguest 2>/dev/null",
    "for d in $(losetup -j /var/tmp/lab-guest.img | cut -d: -f1); do losetup -d $d; done",
    "rm -f /var/tmp/lab-guest.img /tmp/labguest.cfg",
    "ip link del labtestbr0 2>/dev/null",
    "true",
  ].join("\n");
  const record = /xen-ha-lab-guest name=labguest counter=(\d+) uptime=[\d.]+ boot=([0-9a-f-]+)/;

  afterAll(async () => {
    await labExec("ha1", teardown);
  });

  test.each(["pvh", "pv"])("boots as a %s guest, answers ping and writes its counter to its disk", async (type) => {
    await labExec("ha1", teardown);
    const loop = (await labRun("ha1", setup)).trim();
    const config = [
      'name = "labguest"',
      `type = "${type}"`,
      'kernel = "/var/lib/xen-ha-lab/guest/vmlinuz"',
      'ramdisk = "/var/lib/xen-ha-lab/guest/initrd.img"',
      'extra = "console=hvc0 ip=10.99.99.2/24 name=labguest"',
      "memory = 128",
      `disk = [ "phy:${loop},xvda,w" ]`,
      'vif = [ "bridge=labtestbr0" ]',
      'on_crash = "destroy"',
    ].join("\n");
    await labRun("ha1", "cat > /tmp/labguest.cfg && xl create /tmp/labguest.cfg", { stdin: config + "\n" });
    const readRecord = async () => {
      const raw = await labRun("ha1", `dd if=${loop} bs=512 count=1 iflag=direct status=none | tr -d '\\000'`);
      const m = record.exec(raw);
      return m ? { counter: Number(m[1]), boot: m[2] } : undefined;
    };
    const first = await waitFor(readRecord, { timeoutMs: 120_000, intervalMs: 2000, what: "the guest's first counter" });
    await waitFor(() => labPing("ha1", "10.99.99.2", 1, 1), { timeoutMs: 90_000, what: "the guest to answer ping" });
    const later = await waitFor(
      async () => {
        const r = await readRecord();
        return r && r.counter > first.counter ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 2000, what: "the guest's counter to grow" },
    );
    expect(later.boot).toBe(first.boot);
    expect(await labRun("ha1", "xl list labguest")).toMatch(/^labguest\s/m);
  });
});

describe("the lab's hard kill", () => {
  test("a hard-killed node boots again on its disks with their content kept", async () => {
    const marker = `lab-marker-${Date.now()}-${Math.random().toString(36).slice(2)}`;
    await labRun("ha2", `echo ${marker} > /root/lab-kill-marker && sync`);
    const bootBefore = (await labRun("ha2", "cat /proc/sys/kernel/random/boot_id")).trim();

    await labKill("ha2");
    const dead = await labExec("ha2", "true", { connectTimeoutS: 5, timeoutMs: 20_000 });
    expect(dead.code).not.toBe(0);
    expect(await labPing("ha1", labConnection().nodes.ha2.crossoverAddress, 1, 1)).toBe(false);
    // The overlay survives the power cut consistent (QEMU honours the guest's flushes).
    const overlay = path.join(labDir(), "nodes", "ha2", "root.qcow2");
    expect(execFileSync("qemu-img", ["check", "-q", overlay], { encoding: "utf8" })).toBe("");

    await labStart("ha2");
    expect((await labRun("ha2", "cat /root/lab-kill-marker")).trim()).toBe(marker);
    expect((await labRun("ha2", "cat /proc/sys/kernel/random/boot_id")).trim()).not.toBe(bootBefore);
    expect(await labRun("ha2", "xl info")).toMatch(/^xen_major/m);
    // The links come back with the node (their addresses are runtime state: assign them again).
    await assignSeedAddresses(["ha2"]);
    await waitFor(() => labPing("ha1", labConnection().nodes.ha2.crossoverAddress, 1, 1), {
      timeoutMs: 30_000,
      what: "ha1 to reach the restarted ha2 over the crossover link",
    });
    await labRun("ha2", "rm -f /root/lab-kill-marker");
  });
});

describe("the SSH layer against the lab's OpenSSH", () => {
  const hostOfHa1 = () => {
    const conn = labConnection();
    const n = conn.nodes.ha1;
    return connect(connectionSchema.parse({ host: n.host, port: n.port, user: n.user, hostKey: n.hostKey, privateKey: readFileSync(conn.privateKeyPath, "utf8") }));
  };

  afterAll(() => closeAll());

  test("a command past its timeout is killed on the host", async () => {
    const host = await hostOfHa1();
    const started = Date.now();
    const err = (await host.exec(sh`sleep 300`, { timeoutMs: 2000 }).catch((e: unknown) => e)) as HostCommandError;
    expect([isHostCommandError(err), err.exitCode, err.signal, Date.now() - started < 15_000]).toEqual([true, null, "timeout after 2 s", true]);
    expect((await labRun("ha1", "pgrep -fx 'sleep 300' || true")).trim()).toBe("");
  });

  test("a command the host never ends is given up, and the next command gets a new connection", async () => {
    const host = await hostOfHa1();
    const started = Date.now();
    // The command stops the host-side `timeout` that runs it (as a process stuck in the kernel
    // would not react either): sshd keeps the channel open while its child lives.
    const err = (await host.exec(sh`kill -STOP "$PPID"; sleep 600`, { timeoutMs: 2000 }).catch((e: unknown) => e)) as HostCommandError;
    const waited = Date.now() - started;
    await labRun("ha1", "pkill -KILL -f '^timeout -k 10 2 sh -c' || true; pkill -f '^sleep 600$' || true");
    expect([isHostCommandError(err), err.exitCode, /connection was dropped/.test(err.signal ?? ""), waited < 40_000]).toEqual([true, null, true, true]);
    expect((await (await hostOfHa1()).exec(sh`echo again`)).stdout).toBe("again\n");
  });
});
