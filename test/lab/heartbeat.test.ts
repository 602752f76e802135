/**
 * HeartbeatCluster on the lab through the real engine, on the network NodeNetwork builds in the
 * same program: Heartbeat in v1 mode on both nodes with heartbeats on both links, its secret
 * kept out of the state, read reporting the group holders, a timer change reloaded in place, and
 * destroy stopping Heartbeat on both nodes. The groups hold no DomU yet: failover with guests is
 * the cluster component's test. afterAll puts the nodes back to bare.
 */
import { randomBytes } from "node:crypto";
import { HeartbeatCluster, NodeNetwork } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, LAB_TIMEOUT_MS, type EngineStack } from "../support/engine";
import { labConnection, labExec, labRun, LAB_NODES, waitFor, type LabNodeName } from "../support/lab";
import { restoreBareNetworkLines, saveNetworkFilesScript } from "../support/lab-snapshot";
import { labConnectionInput, report } from "../support/lab-inputs";

jest.setTimeout(LAB_TIMEOUT_MS);

const peerOf = (node: LabNodeName): LabNodeName => (node === "ha1" ? "ha2" : "ha1");
const fqdn = (node: LabNodeName) => `${node}.domain.local`;
const secret = `hb-${randomBytes(12).toString("hex")}`;
const nextSecret = `hb-${randomBytes(12).toString("hex")}`;
const desired = { deadtime: 10, authKey: secret };

function program() {
  const lab = labConnection();
  const networks = LAB_NODES.map((node) => {
    const peer = peerOf(node);
    return new NodeNetwork(`${node}-network`, {
      connection: labConnectionInput(node, { pin: true }),
      hostname: fqdn(node),
      public: { address: lab.nodes[node].publicAddress },
      crossover: { address: lab.nodes[node].crossoverAddress },
      peer: { hostname: fqdn(peer), publicAddress: lab.nodes[peer].publicAddress, crossoverAddress: lab.nodes[peer].crossoverAddress },
    });
  });
  const member = (node: LabNodeName) => ({
    connection: labConnectionInput(node, { pin: true }),
    name: fqdn(node),
    publicAddress: lab.nodes[node].publicAddress,
    crossoverAddress: lab.nodes[node].crossoverAddress,
  });
  const cluster = new HeartbeatCluster(
    "cluster",
    // A plain string on purpose: the resource itself must keep the key secret.
    { nodes: [member("ha1"), member("ha2")], authKey: desired.authKey, watchdog: null, deadtime: desired.deadtime },
    { dependsOn: networks },
  );
  return Promise.resolve({ groups: cluster.groups });
}

const MANAGED = ["/etc/ha.d/authkeys", "/etc/ha.d/ha.cf", "/etc/ha.d/haresources", "/etc/ha.d/resource.d/xendomainsHA1", "/etc/ha.d/resource.d/xendomainsHA2"];
const SNAPSHOT = "/var/tmp/pulumi-xen-ha-heartbeat-test.tar";
const HB_STATE_BEFORE = "/var/tmp/pulumi-xen-ha-heartbeat-test.state";

/** Back to the lab's bare node: Heartbeat stopped and its files and state gone, no bridge, the image's network files. */
function restoreBareScript(node: LabNodeName): string {
  return `set -u
systemctl stop heartbeat.service >/dev/null 2>&1 || true
systemctl disable --quiet heartbeat.service >/dev/null 2>&1 || true
rm -f ${MANAGED.join(" ")} /etc/ha.d/.*.pulumi-new /var/log/ha-debug
rm -rf /etc/xen/auto/HA1 /etc/xen/auto/HA2
if [ -f ${HB_STATE_BEFORE} ]; then
  for f in $(ls -A /var/lib/heartbeat); do grep -qx "$f" ${HB_STATE_BEFORE} || rm -rf "/var/lib/heartbeat/$f"; done
  grep -qx "(xen-auto)" ${HB_STATE_BEFORE} || rmdir /etc/xen/auto 2>/dev/null || true
  rm -f ${HB_STATE_BEFORE}
fi
${restoreBareNetworkLines(node, SNAPSHOT)}`;
}

/** What cl_status says on `node` about the peer: its status and each heartbeat link's. */
async function peerAsSeenFrom(node: LabNodeName): Promise<{ status: string; links: Record<string, string> }> {
  const peer = fqdn(peerOf(node));
  const status = (await labRun(node, `cl_status nodestatus ${peer}`)).trim();
  const names = (await labRun(node, `cl_status listhblinks ${peer}`)).trim().split(/\s+/);
  const links: Record<string, string> = {};
  for (const link of names) links[link] = (await labRun(node, `cl_status hblinkstatus ${peer} ${link}`)).trim();
  return { status, links };
}

const daemonStart = (node: LabNodeName) => labRun(node, "systemctl show -p MainPID -p ActiveEnterTimestampMonotonic heartbeat.service");

describeWithEngine("HeartbeatCluster on the lab through the engine", () => {
  let stack: EngineStack;

  beforeAll(async () => {
    for (const node of LAB_NODES) {
      if ((await labRun(node, "cat /etc/ha.d/ha.cf /etc/network/interfaces.d/pulumi-xen-ha 2>/dev/null || true")).includes("Managed by pulumi-xen-ha")) {
        await labRun(node, restoreBareScript(node));
      }
      expect((await labExec(node, "systemctl is-active heartbeat.service")).stdout.trim()).toBe("inactive");
      await labRun(node, `${saveNetworkFilesScript(SNAPSHOT)} && { ls -A /var/lib/heartbeat; [ ! -d /etc/xen/auto ] || echo "(xen-auto)"; } > ${HB_STATE_BEFORE}`);
    }
    stack = await createEngineStack({ program, projectName: "heartbeat-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await stack?.dispose();
    for (const node of LAB_NODES) await labRun(node, restoreBareScript(node)).catch(() => undefined);
  });

  it("starts Heartbeat on both nodes, each seeing the other active over both links", async () => {
    const started = Date.now();
    const up = await stack.up();
    report(`network and Heartbeat up on both nodes: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(changesOnly(up.changes)).toEqual({ create: 4 });
    for (const node of LAB_NODES) {
      const seen = await waitFor(async () => {
        const s = await peerAsSeenFrom(node);
        return Object.values(s.links).every((l) => l === "up") && s;
      }, { timeoutMs: 60_000, what: `${node} to see both heartbeat links up` });
      const active = (await labRun(node, "systemctl is-active heartbeat.service; systemctl is-enabled heartbeat.service")).trim().split("\n");
      expect([active, seen]).toEqual([["active", "enabled"], { status: "active", links: { xenbr0: "up", eth1: "up" } }]);
    }
  });

  it("writes the same authkeys on both nodes, mode 0600", async () => {
    const seen = await Promise.all(LAB_NODES.map((node) => labRun(node, "stat -c '%a %U' /etc/ha.d/authkeys; sha256sum < /etc/ha.d/authkeys")));
    const [ha1, ha2] = seen.map((s) => s.trim().split("\n"));
    expect([ha1?.[0], ha2?.[0], ha1?.[1] === ha2?.[1]]).toEqual(["600 root", "600 root", true]);
  });

  it("keeps the key out of the state file and the engine's output", async () => {
    const up = await stack.up();
    expect([stack.readStateFile().includes(secret), up.stdout.includes(secret), (await labRun("ha1", "cat /etc/ha.d/authkeys")).includes(secret)]).toEqual([false, false, true]);
  });

  it("runs the stock xendomains at no boot and creates both groups' home directories", async () => {
    for (const node of LAB_NODES) {
      const seen = await labRun(node, "systemctl is-enabled xendomains.service 2>/dev/null; test -d /etc/xen/auto/HA1 && test -d /etc/xen/auto/HA2 && echo dirs");
      expect(seen.trim().split("\n")).toEqual(["disabled", "dirs"]);
    }
  });

  it("read reports which node holds which group, as cl_status does", async () => {
    await stack.refresh();
    const state = (await stack.exportState()).deployment as { resources: { urn: string; outputs?: Record<string, unknown> }[] };
    const groups = state.resources.find((r) => r.urn.endsWith("::cluster"))?.outputs?.groups;
    const held = await Promise.all(LAB_NODES.map(async (node) => (await labRun(node, "cl_status rscstatus")).trim()));
    expect([held, groups]).toEqual([
      ["local", "local"],
      [
        { group: "xendomainsHA1", homeNode: "ha1.domain.local", heldBy: ["ha1.domain.local"], domains: [] },
        { group: "xendomainsHA2", homeNode: "ha2.domain.local", heldBy: ["ha2.domain.local"], domains: [] },
      ],
    ]);
  });

  it("a second up changes nothing", async () => {
    expect(changeCount((await stack.up()).changes)).toBe(0);
  });

  it("a new deadtime previews as exactly that update", async () => {
    desired.deadtime = 12;
    const preview = await stack.preview();
    expect(preview.steps.map((s) => `${s.op} ${s.urn.split("::").pop()} ${s.changedInputs.join(",")}`)).toEqual(["update cluster deadtime"]);
  });

  it("applies it by reloading both daemons, without restarting them", async () => {
    const before = await Promise.all(LAB_NODES.map(daemonStart));
    const started = Date.now();
    const up = await stack.up();
    report(`deadtime change reloaded on both nodes: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const node of LAB_NODES) {
      await waitFor(async () => (await peerAsSeenFrom(node)).status === "active", { timeoutMs: 60_000, what: `${node} to see its peer active after the reload` });
    }
    const live = await Promise.all(LAB_NODES.map(async (node) => (await labRun(node, "cl_status hbparameter -p deadtime")).trim()));
    expect([changesOnly(up.changes), live, await Promise.all(LAB_NODES.map(daemonStart))]).toEqual([{ update: 1 }, ["12", "12"], before]);
  });

  it("brings a new key in on both nodes without them ever losing each other", async () => {
    desired.authKey = nextSecret;
    // Watches ha1's view of ha2 during the change: one "dead" would mean the nodes disagreed on the key.
    const stop = "/run/pulumi-xen-ha-test-watch-stop";
    const watch = labExec("ha1", `rm -f ${stop}; while [ ! -e ${stop} ]; do cl_status nodestatus ha2.domain.local; sleep 1; done; rm -f ${stop}`, { timeoutMs: 900_000 });
    const started = Date.now();
    const up = await stack.up().finally(() => labRun("ha1", `touch ${stop}`));
    report(`authkeys changed on both nodes in three steps: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const views = new Set((await watch).stdout.trim().split("\n"));
    const keys = await Promise.all(LAB_NODES.map((node) => labRun(node, "cat /etc/ha.d/authkeys")));
    expect([changesOnly(up.changes), keys[0] === keys[1], keys[0]?.includes(nextSecret), keys[0]?.includes(secret), [...views], stack.readStateFile().includes(nextSecret)]).toEqual([
      { update: 1 },
      true,
      true,
      false,
      ["active"],
      false,
    ]);
  });

  it("destroy stops Heartbeat on both nodes and removes its files", async () => {
    await stack.destroy();
    for (const node of LAB_NODES) {
      const seen = await labRun(node, `systemctl is-active heartbeat.service || true; ls ${MANAGED.join(" ")} /etc/xen/auto/HA1 2>/dev/null || true`);
      expect(seen.trim()).toBe("inactive");
    }
  });
});
