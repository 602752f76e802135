/**
 * NodeNetwork on both lab nodes, through the real engine: from bare nodes (eth0 and eth1 up
 * without addresses, the lab's management link on eth2) to the seed's network, then the changes a
 * user makes. Destroy leaves the network in place by design; afterAll puts the nodes back to bare
 * for the test files that follow.
 */
import { NodeNetwork } from "../../index";
import { changeCount, changesOnly, createEngineStack, describeWithEngine, LAB_TIMEOUT_MS, type EngineStack } from "../support/engine";
import { labConnection, labPing, labRun, LAB_NODES, type LabNodeName } from "../support/lab";
import { restoreBareNetworkLines, saveNetworkFilesScript } from "../support/lab-snapshot";
import { labConnectionInput, report } from "../support/lab-inputs";

jest.setTimeout(LAB_TIMEOUT_MS);

const peerOf = (node: LabNodeName): LabNodeName => (node === "ha1" ? "ha2" : "ha1");
const fqdn = (node: LabNodeName) => `${node}.domain.local`;

const desired = {
  crossover: { ha1: "", ha2: "" } as Record<LabNodeName, string>,
  publicDevice: "eth0",
  allowManagementAddressChange: false,
};

function program() {
  const lab = labConnection();
  const out: Record<string, unknown> = {};
  for (const node of LAB_NODES) {
    const peer = peerOf(node);
    const network = new NodeNetwork(`${node}-network`, {
      connection: labConnectionInput(node, { pin: true }),
      hostname: fqdn(node),
      public: { device: node === "ha1" ? desired.publicDevice : "eth0", address: lab.nodes[node].publicAddress },
      crossover: { address: desired.crossover[node] },
      peer: { hostname: fqdn(peer), publicAddress: lab.nodes[peer].publicAddress, crossoverAddress: desired.crossover[peer] },
      allowManagementAddressChange: node === "ha1" ? desired.allowManagementAddressChange : false,
    });
    out[`${node}-drift`] = network.drift;
    out[`${node}-sessionInterface`] = network.sessionInterface;
  }
  return Promise.resolve(out);
}

const SNAPSHOT = "/var/tmp/pulumi-xen-ha-network-test.tar";

/** Back to the lab's bare node: no bridge, eth0/eth1 up without addresses, the image's files, chrony masked. */
function restoreBareScript(node: LabNodeName): string {
  return `set -u\n${restoreBareNetworkLines(node, SNAPSHOT)}`;
}

const inet = async (node: LabNodeName, device: string): Promise<string[]> => {
  const rows = JSON.parse(await labRun(node, `ip -j -4 addr show dev ${device} 2>/dev/null || echo '[]'`)) as { addr_info?: { local: string; prefixlen: number }[] }[];
  return rows.flatMap((r) => (r.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
};

describeWithEngine("NodeNetwork on the lab through the engine", () => {
  let stack: EngineStack;
  const management: Partial<Record<LabNodeName, string[]>> = {};

  beforeAll(async () => {
    const lab = labConnection();
    for (const node of LAB_NODES) {
      desired.crossover[node] = lab.nodes[node].crossoverAddress;
      // Leftovers of an interrupted run of this file are ours to clean; anything else fails loudly below.
      if ((await labRun(node, "cat /etc/network/interfaces.d/pulumi-xen-ha 2>/dev/null || true")).includes("pulumi-xen-ha (NodeNetwork)")) {
        await labRun(node, restoreBareScript(node));
      }
      // Bare, or with the seed's addresses put on the NICs by hand (what assignSeedAddresses() leaves):
      // NodeNetwork takes such addresses over as a user's hand-set ones.
      const seen = [await inet(node, "eth0"), await inet(node, "eth1"), await inet(node, "xenbr0")];
      const handSet = [[`${lab.nodes[node].publicAddress}/24`], [`${lab.nodes[node].crossoverAddress}/24`], []];
      if (seen.flat().length > 0) report(`${node} starts with addresses set by hand: ${seen.flat().join(", ")}`);
      expect([[[], [], []], handSet]).toContainEqual(seen);
      management[node] = await inet(node, "eth2");
      await labRun(node, saveNetworkFilesScript(SNAPSHOT));
    }
    stack = await createEngineStack({ program, projectName: "network-lab", onOutput: (s) => process.stdout.write(s) });
  });

  afterAll(async () => {
    await stack?.dispose();
    for (const node of LAB_NODES) await labRun(node, restoreBareScript(node)).catch(() => undefined);
  });

  it("brings both bare nodes onto the seed's network: the public address on the bridge over eth0, the crossover on eth1", async () => {
    const started = Date.now();
    const up = await stack.up();
    report(`NodeNetwork up on two bare nodes: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const lab = labConnection();
    for (const node of LAB_NODES) {
      const master = (await labRun(node, "basename \"$(readlink /sys/class/net/eth0/master)\"")).trim();
      expect([await inet(node, "xenbr0"), master, await inet(node, "eth1"), await inet(node, "eth0")]).toEqual([
        [`${lab.nodes[node].publicAddress}/24`],
        "xenbr0",
        [`${lab.nodes[node].crossoverAddress}/24`],
        [],
      ]);
    }
    expect(changesOnly(up.changes)).toEqual({ create: 3 });
  });

  it("leaves the management link alone", async () => {
    for (const node of LAB_NODES) expect(await inet(node, "eth2")).toEqual(management[node]);
  });

  it("the nodes reach each other over both links, the public one through the bridge", async () => {
    const lab = labConnection();
    for (const node of LAB_NODES) {
      const peer = lab.nodes[peerOf(node)];
      expect([await labPing(node, peer.publicAddress, 3), await labPing(node, peer.crossoverAddress, 3)]).toEqual([true, true]);
    }
    const rtt = await labRun("ha1", `ping -c 5 -q ${lab.nodes.ha2.publicAddress} | tail -n 1`);
    report(`ping ha1 -> ha2 over the bridge: ${rtt.trim()}`);
  });

  it("hostname and hostname -f answer the FQDN, which /etc/hostname holds", async () => {
    for (const node of LAB_NODES) {
      const answer = await labRun(node, "hostname; hostname -f; cat /etc/hostname");
      expect(answer.trim().split("\n")).toEqual([fqdn(node), fqdn(node), fqdn(node)]);
    }
  });

  it("/etc/hosts resolves the peer's crossover alias", async () => {
    const resolved = await labRun("ha1", "getent hosts ha2X");
    expect([resolved.trim().split(/\s+/), await labPing("ha1", "ha2X", 3)]).toEqual([[desired.crossover.ha2, "ha2X"], true]);
  });

  it("chrony runs on both nodes, each serving time to the other over the crossover link", async () => {
    for (const node of LAB_NODES) {
      const state = await labRun(node, "systemctl is-active chrony.service; systemctl is-enabled chrony.service; chronyc -n sources | awk 'NR > 2 { print $2 }'");
      expect(state.trim().split("\n")).toEqual(["active", "enabled", desired.crossover[peerOf(node)]]);
    }
  });

  it("a second up changes nothing", async () => {
    const up = await stack.up();
    expect(changeCount(up.changes)).toBe(0);
  });

  it("a new crossover address previews as exactly that update: ha1's crossover and ha2's peer", async () => {
    desired.crossover.ha1 = "192.168.1.110";
    const preview = await stack.preview();
    const steps = preview.steps.map((s) => `${s.op} ${s.urn.split("::").pop()} ${s.changedInputs.join(",")}`).sort();
    expect([changesOnly(preview.changes), steps, await inet("ha1", "eth1")]).toEqual([
      { update: 2 },
      ["update ha1-network crossover", "update ha2-network peer"],
      [`${labConnection().nodes.ha1.crossoverAddress}/24`],
    ]);
  });

  it("applies it: ha1's crossover link moves and ha2 reaches it under the alias", async () => {
    const started = Date.now();
    const up = await stack.up();
    report(`crossover address change applied on both nodes: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const resolved = (await labRun("ha2", "getent hosts ha1X")).trim().split(/\s+/)[0];
    expect([changesOnly(up.changes), await inet("ha1", "eth1"), resolved, await labPing("ha2", "ha1X", 3)]).toEqual([
      { update: 2 },
      ["192.168.1.110/24"],
      "192.168.1.110",
      true,
    ]);
  });

  it("refuses in preview to put the management NIC under the bridge, naming the opt-in", async () => {
    desired.publicDevice = "eth2";
    const failure = await stack.preview().then(
      () => "preview succeeded",
      (err: Error) => err.message,
    );
    expect([failure, await inet("ha1", "eth2")]).toEqual([expect.stringMatching(/10\.0\.2\.15 on eth2.*allowManagementAddressChange/s), management.ha1]);
  });

  it("with the opt-in, the same change previews as an update of ha1 (and is not applied here)", async () => {
    desired.allowManagementAddressChange = true;
    const preview = await stack.preview();
    desired.publicDevice = "eth0";
    desired.allowManagementAddressChange = false;
    expect(preview.steps.map((s) => `${s.op} ${s.urn.split("::").pop()}`)).toEqual(["update ha1-network"]);
  });

  it("refresh reports a hosts file edited by hand as drift, and the next up puts it right", async () => {
    await labRun("ha2", "sed -i '/ha1X/d' /etc/hosts");
    await stack.refresh();
    const state = (await stack.exportState()).deployment as { resources: { urn: string; outputs?: Record<string, unknown> }[] };
    const drift = state.resources.find((r) => r.urn.endsWith("::ha2-network"))?.outputs?.drift;
    const up = await stack.up();
    expect([drift, changesOnly(up.changes), (await labRun("ha2", "getent hosts ha1X")).trim().split(/\s+/)[0]]).toEqual([
      [{ property: "extraHosts", detail: "/etc/hosts differs from the desired content" }],
      { update: 1 },
      "192.168.1.110",
    ]);
  });

  it("destroy forgets the resources and leaves the network up", async () => {
    const destroy = await stack.destroy();
    const deleted = destroy.steps.filter((s) => s.op === "delete").map((s) => s.urn.split("::").pop()).sort();
    expect([deleted, await inet("ha1", "xenbr0"), await labPing("ha1", labConnection().nodes.ha2.publicAddress, 3)]).toEqual([
      ["ha1-network", "ha2-network"],
      [`${labConnection().nodes.ha1.publicAddress}/24`],
      true,
    ]);
  });
});
