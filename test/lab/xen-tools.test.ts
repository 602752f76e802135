/**
 * The seed's way of making a guest, through the real engine: XenToolsImage runs xen-create-image
 * on ha1 (offline, from the lab's rootfs tarball), DRBD is layered on the volumes it made with ha1
 * as the sync source, and a XenDomU built from the image's outputs boots from `drbd:` disks. The
 * public link gets a bridge by fixture (NodeNetwork's job).
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { DrbdResource, LogicalVolume, VolumeGroup, XenDomU, XenToolsImage } from "../../index";
import { changesOnly, createEngineStack, describeWithEngine, LAB_TIMEOUT_MS, type EngineStack } from "../support/engine";
import { assignSeedAddresses, guestBridgeScript, labConnection, VOLUME_GROUP_LEFTOVERS_SCRIPT, labExec, labRun, labScript, LAB_NODES, REPO_ROOT, waitFor, type LabNodeName } from "../support/lab";
import { labConnectionInput, report } from "../support/lab-inputs";

jest.setTimeout(LAB_TIMEOUT_MS);

const NAME = "xtguest";
const ADDRESS = "10.1.1.210";
const BRIDGE = "xenbr0";
const TARBALL = "/var/tmp/xenha-rootfs.tar.gz";
const VOLUMES = [`${NAME}-disk`, `${NAME}-swap`];
const desired = { image: true, drbdAndGuest: true };
const facts = { kernel: "", hostnames: { ha1: "", ha2: "" } as Record<LabNodeName, string> };

function program() {
  const lab = labConnection();
  const connection = (node: LabNodeName) => labConnectionInput(node, { pin: true });
  const groups = Object.fromEntries(LAB_NODES.map((node) => [node, new VolumeGroup(`${node}-vg`, { connection: connection(node), name: "vg", devices: [lab.nodes[node].dataDisk] })]));
  const metas = LAB_NODES.map((node) => new LogicalVolume(`${node}-meta`, { connection: connection(node), volumeGroup: "vg", name: "meta", size: "256M" }, { dependsOn: groups[node] }));
  if (!desired.image) return Promise.resolve({});
  const image = new XenToolsImage(
    "image",
    {
      connection: connection("ha1"),
      name: NAME,
      ip: ADDRESS,
      size: "1Gb",
      swap: "128Mb",
      memory: 256,
      fs: "ext4",
      installMethod: "tar",
      installSource: TARBALL,
      kernel: facts.kernel,
      initrd: "/var/lib/xen-ha-lab/guest/initrd-rootfs.img",
      password: pulumi.secret("lab guest password"),
    },
    { dependsOn: groups.ha1 },
  );
  const out: Record<string, unknown> = { drbdDisks: image.drbdDisks, volumes: image.volumes };
  if (!desired.drbdAndGuest) return Promise.resolve(out);
  // The seed's lvcreate on ha2: volumes of the same sizes as the ones xen-create-image made.
  const peerVolumes = VOLUMES.map(
    (volume) =>
      new LogicalVolume(
        `ha2-${volume}`,
        { connection: connection("ha2"), volumeGroup: "vg", name: volume, size: image.volumes.apply((vs) => vs.find((v) => v.name === volume)?.size ?? "0") },
        { dependsOn: groups.ha2 },
      ),
  );
  const drbd = VOLUMES.map(
    (volume, index) =>
      new DrbdResource(
        volume,
        {
          name: volume,
          initialSyncSource: facts.hostnames.ha1,
          usageCount: "no",
          wipeMetadataOnDelete: true,
          nodes: [drbdNode("ha1", volume, index), drbdNode("ha2", volume, index)],
        },
        { dependsOn: [image, ...peerVolumes, ...metas] },
      ),
  );
  const hosts = LAB_NODES.map((node) => ({ name: node, connection: connection(node), crossoverAddress: lab.nodes[node].crossoverAddress }));
  new XenDomU(
    NAME,
    {
      name: NAME,
      hosts,
      runOn: "ha1",
      kernel: image.kernel,
      ramdisk: image.ramdisk,
      root: image.root,
      extra: image.extra,
      memory: 256,
      vifs: [{ bridge: BRIDGE, ip: ADDRESS }],
      disks: image.drbdDisks,
      shutdownTimeoutSeconds: 90,
    },
    { dependsOn: drbd },
  );
  return Promise.resolve(out);
}

function drbdNode(node: LabNodeName, volume: string, index: number) {
  return {
    connection: labConnectionInput(node, { pin: true }),
    hostname: facts.hostnames[node],
    address: labConnection().nodes[node].crossoverAddress,
    port: 7821 + index,
    device: `/dev/drbd${21 + index}`,
    disk: `/dev/vg/${volume}`,
    metaDisk: { device: "/dev/vg/meta", index },
  };
}

/** Streams a file from this machine to a node (the tarball is too big for a command's stdin string). */
function upload(node: LabNodeName, file: string, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-c", `bash ${path.join(REPO_ROOT, "lab", "lab.sh")} ssh ${node} "cat > ${target}.part && mv ${target}.part ${target}" < "$0"`, file], { stdio: "inherit" });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`upload of ${file} to ${node} exited ${code}`))));
  });
}

/** This file's leftovers, DRBD resources backed by volume group "vg", and the group (the data disk is the tests'). */
const cleanup = [
  `xl destroy ${NAME} 2>/dev/null && echo "destroyed ${NAME}"`,
  `rm -f /etc/xen/${NAME}.cfg /var/lib/xen-ha/xen-tools/${NAME}.cfg /etc/xen-tools/xen-ha-${NAME}.conf ${TARBALL} ${TARBALL}.part`,
  VOLUME_GROUP_LEFTOVERS_SCRIPT,
].join("\n");

describeWithEngine("XenToolsImage on the lab through the engine", () => {
  let stack: EngineStack;

  beforeAll(async () => {
    await assignSeedAddresses();
    for (const node of LAB_NODES) {
      facts.hostnames[node] = (await labRun(node, "uname -n")).trim();
      const removed = (await labRun(node, cleanup)).trim();
      if (removed) report(`${node}: leftovers of an earlier run removed: ${removed.split("\n").join("; ")}`);
      await labRun(node, guestBridgeScript(node, true));
    }
    facts.kernel = `/boot/vmlinuz-${(await labRun("ha1", "uname -r")).trim()}`;
    let started = Date.now();
    const tarball = (await labScript(["guest-tarball"], 30 * 60_000)).split("\n").find((l) => /\/rootfs-[0-9a-f]+\.tar\.gz$/.test(l))!;
    report(`guest tarball (built or cached): ${Math.round((Date.now() - started) / 1000)} s`);
    started = Date.now();
    await upload("ha1", tarball, TARBALL);
    report(`tarball copied to ha1: ${Math.round((Date.now() - started) / 1000)} s`);
    stack = await createEngineStack({ program, projectName: "xen-tools-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await labExec("ha1", `xl destroy ${NAME} 2>/dev/null; true`);
    await stack?.dispose();
    for (const node of LAB_NODES) await labExec(node, `${cleanup}\n${guestBridgeScript(node, false)}`);
  });

  it("installs the guest with xen-create-image on ha1, leaving /etc/xen to the DomU", async () => {
    desired.drbdAndGuest = false;
    const started = Date.now();
    const up = await stack.up();
    report(`XenToolsImage create (xen-create-image from the tarball): ${Math.round((Date.now() - started) / 1000)} s`);
    const lvs = await labRun("ha1", "lvs --noheadings -o lv_name vg | sort");
    const generated = await labRun("ha1", `cat /var/lib/xen-ha/xen-tools/${NAME}.cfg`);
    const inXen = await labExec("ha1", `test -e /etc/xen/${NAME}.cfg`);
    expect([changesOnly(up.changes), lvs.split(/\s+/).filter(Boolean), /'phy:\/dev\/vg\/xtguest-disk,xvda2,w'/.test(generated), inXen.code, up.outputs.drbdDisks]).toEqual([
      { create: 6 },
      ["meta", "xtguest-disk", "xtguest-swap"],
      true,
      1,
      [
        { drbd: "xtguest-disk", vdev: "xvda2", access: "w" },
        { drbd: "xtguest-swap", vdev: "xvda1", access: "w" },
      ],
    ]);
  });

  it("never gives xen-create-image the root password, so its log holds none", async () => {
    const log = await labRun("ha1", `cat /var/log/xen-tools/${NAME}.log`);
    expect([log.includes("lab guest password"), /^Root Password\s*:\s*N\/A\s*$/m.test(log)]).toEqual([false, true]);
  });

  it("sets the guest's root password in its shadow file as a SHA-512 hash of the secret", async () => {
    const check = [
      "set -e; m=$(mktemp -d); mount -o ro /dev/vg/xtguest-disk \"$m\"",
      "h=$(awk -F: '$1 == \"root\" { print $2 }' \"$m/etc/shadow\"); umount \"$m\"; rmdir \"$m\"",
      "perl -e 'my $pw = <STDIN>; chomp $pw; print substr($ARGV[0], 0, 3), \" \", (crypt($pw, $ARGV[0]) eq $ARGV[0] ? \"match\" : \"differs\")' \"$h\"",
    ].join("; ");
    expect((await labRun("ha1", check, { stdin: "lab guest password\n" })).trim()).toBe("$6$ match");
  });

  it("layers DRBD on its volumes (ha1's data the sync source) and boots the DomU from drbd: disks", async () => {
    // The meta volume may sit where an earlier test left DRBD meta-data: start it blank.
    for (const node of LAB_NODES) await labRun(node, "dd if=/dev/zero of=/dev/vg/meta bs=1M count=256 oflag=direct status=none");
    desired.drbdAndGuest = true;
    const started = Date.now();
    const up = await stack.up();
    report(`DRBD full sync of 1 GiB + 128 MiB and DomU start: ${Math.round((Date.now() - started) / 1000)} s`);
    const pinged = Date.now();
    await waitFor(async () => (await labExec("ha2", `ping -c 1 -W 2 ${ADDRESS}`)).code === 0, { timeoutMs: 300_000, intervalMs: 3000, what: `${NAME} to answer ping` });
    report(`the installed guest answered ping from ha2 ${Math.round((Date.now() - pinged) / 1000)} s after up returned`);
    const config = await labRun("ha2", `cat /etc/xen/${NAME}.cfg`);
    expect([changesOnly(up.changes), /^xtguest\s/m.test(await labRun("ha1", "xl list")), /'drbd:xtguest-disk,xvda2,w'/.test(config), (await labRun("ha1", `drbdadm role ${NAME}-disk`)).trim()]).toEqual([
      { create: 5 },
      true,
      true,
      "Primary/Secondary",
    ]);
  });

  it("refuses to delete the image while its volumes are open, and deletes it once they are not", async () => {
    desired.drbdAndGuest = false;
    const down = await stack.up();
    // A unit of its own: a background process of the SSH session ends with the session.
    await labRun("ha1", `systemd-run --quiet --unit=hold-${NAME} --collect sh -c 'exec 3</dev/vg/${NAME}-swap; exec sleep 900'`);
    desired.image = false;
    const failure = await stack.up().then(
      () => "up succeeded",
      (e: Error) => e.message,
    );
    const kept = (await labRun("ha1", "lvs --noheadings -o lv_name vg")).includes(`${NAME}-disk`);
    await labRun("ha1", `systemctl stop hold-${NAME} || true`);
    const up = await stack.up();
    const after = await labRun("ha1", "lvs --noheadings -o lv_name vg");
    expect([changesOnly(down.changes), new RegExp(`/dev/vg/${NAME}-swap is open`).test(failure), kept, changesOnly(up.changes), after.trim()]).toEqual([
      { delete: 5 },
      true,
      true,
      { delete: 1 },
      "meta",
    ]);
  });

  it("destroy leaves no guest, DRBD, volumes or configs", async () => {
    await stack.destroy();
    const left = await Promise.all(
      LAB_NODES.map((n) => labRun(n, `ls /etc/xen/${NAME}.cfg /var/lib/xen-ha/xen-tools/${NAME}.cfg 2>/dev/null; xl list | grep -c ${NAME}; vgs --noheadings 2>/dev/null; true`)),
    );
    expect(left.map((l) => l.trim())).toEqual(["0", "0"]);
  });
});
