import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseInputs } from "../../provider/inputs";
import { buildCorosyncProbeScript, buildStartStackScript, renderCorosyncConf, stackServices } from "../../provider/corosync/render";
import { restartOnlyChanges } from "../../provider/corosync/rules";
import { corosyncClusterSchema, quorumModeOf, twoNodeWarning } from "../../provider/corosync/schema";
import { corosyncDrift, membershipProblems, parseCorosyncProbe, parseQuorumStatus, sha256Of } from "../../provider/corosync/status";
import { corosyncArgs } from "./fixtures/pacemaker/seed";

const seed = corosyncClusterSchema.parse(corosyncArgs);
const fixture = (name: string) => readFileSync(join(__dirname, "fixtures/pacemaker", name), "utf8");

function failuresOf(args: unknown): string[] {
  const parsed = parseInputs(corosyncClusterSchema, args as Record<string, unknown>);
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

describe("corosync.conf", () => {
  it("names both links per node, knet with encryption, and the arbiter's qdevice", () => {
    const conf = renderCorosyncConf(seed);
    expect(conf).toContain("    cluster_name: xen-ha\n    transport: knet\n    crypto_cipher: aes256\n    crypto_hash: sha256\n    token: 3000\n");
    expect(conf).toContain("        ring0_addr: 10.1.1.100\n        ring1_addr: 192.168.1.100\n        name: ha1.domain.local\n        nodeid: 1\n");
    expect(conf).toContain("        ring0_addr: 10.1.1.101\n        ring1_addr: 192.168.1.101\n        name: ha2.domain.local\n        nodeid: 2\n");
    expect(conf).toContain("        linknumber: 1\n");
    expect(conf).toContain("            host: 10.0.2.101\n            port: 5403\n            algorithm: ffsplit\n            tls: off\n");
    expect(conf).not.toContain("two_node");
  });

  it("uses two_node for two nodes without an arbiter, and plain majority for more", () => {
    const { arbiter: _a, ...rest } = corosyncArgs;
    const two = corosyncClusterSchema.parse(rest);
    expect(quorumModeOf(two)).toBe("twoNode");
    expect(renderCorosyncConf(two)).toContain("    provider: corosync_votequorum\n    two_node: 1\n}");
    expect(twoNodeWarning(two)).toMatch(/no quorum arbiter.*fence race/s);
    const three = corosyncClusterSchema.parse({ ...rest, nodes: [...rest.nodes, { connection: { host: "h3", privateKey: "k" }, name: "ha3", addresses: ["10.1.1.102", "192.168.1.102"] }] });
    expect(quorumModeOf(three)).toBe("majority");
    expect(renderCorosyncConf(three)).not.toMatch(/two_node|device/);
    expect(renderCorosyncConf(three)).toContain("        name: ha3\n        nodeid: 3\n");
  });

  it("starts the qdevice only with an arbiter, Pacemaker last", () => {
    expect(stackServices(seed)).toEqual(["corosync", "corosync-qdevice", "pacemaker"]);
    expect(buildStartStackScript(seed).text).toContain("systemctl enable --quiet corosync.service corosync-qdevice.service pacemaker.service");
    const { arbiter: _a, ...rest } = corosyncArgs;
    expect(buildStartStackScript(corosyncClusterSchema.parse(rest)).text).toContain("systemctl stop corosync-qdevice.service");
  });
});

describe("CorosyncCluster inputs", () => {
  it("refuses a short authkey, mixed link counts, duplicate names, ids and addresses, naming the field", () => {
    expect(failuresOf({ ...corosyncArgs, authKey: "short" })).toEqual([expect.stringMatching(/^authKey: must be at least 128 characters/)]);
    const [a, b] = corosyncArgs.nodes as unknown as [Record<string, unknown>, Record<string, unknown>];
    expect(failuresOf({ ...corosyncArgs, nodes: [a, { ...b, addresses: ["10.1.1.101"] }] })).toEqual([expect.stringMatching(/^nodes\[1\]\.addresses: has 1 addresses but nodes\[0\] has 2/)]);
    expect(failuresOf({ ...corosyncArgs, nodes: [a, { ...b, name: a.name }] })).toEqual([expect.stringMatching(/^nodes\[1\]\.name: ha1.domain.local is named twice/)]);
    expect(failuresOf({ ...corosyncArgs, nodes: [a, { ...b, nodeId: 1 }] })).toEqual([expect.stringMatching(/^nodes\[1\]\.nodeId: node id 1 is used twice/)]);
    expect(failuresOf({ ...corosyncArgs, nodes: [a, { ...b, addresses: ["10.1.1.100", "192.168.1.101"] }] })).toEqual([expect.stringMatching(/^nodes\[1\]\.addresses\[0\]: 10.1.1.100 is used twice/)]);
    expect(failuresOf({ ...corosyncArgs, clusterName: "has space" })).toEqual([expect.stringMatching(/^clusterName: must be 1 to 32 letters/)]);
  });

  it("refuses in preview what only a restart applies, and lets a reloadable change through", () => {
    const other = corosyncClusterSchema.parse({ ...corosyncArgs, clusterName: "other", authKey: "z".repeat(128) });
    expect(restartOnlyChanges(seed, other).map((f) => f.property)).toEqual(["clusterName", "authKey"]);
    expect(restartOnlyChanges(seed, other)[0]!.reason).toMatch(/maintenance-mode=true/);
    expect(restartOnlyChanges(seed, corosyncClusterSchema.parse({ ...corosyncArgs, tokenMs: 10_000 }))).toEqual([]);
  });
});

describe("reading a node", () => {
  const quorum = fixture("quorumtool-arbiter.txt");

  it("reads votequorum's status with the arbiter's vote", () => {
    expect(parseQuorumStatus(quorum)).toEqual({
      quorate: true,
      expectedVotes: 3,
      totalVotes: 3,
      flags: ["Quorate", "Qdevice"],
      members: [
        { nodeId: 1, votes: 1, name: "ha1.domain.local" },
        { nodeId: 2, votes: 1, name: "ha2.domain.local" },
      ],
      arbiterVotes: 1,
    });
  });

  const report = (overrides: { conf?: string; key?: string; keyMode?: string; quorumText?: string } = {}) =>
    parseCorosyncProbe(
      [
        "uname\tha1.domain.local",
        `file\t/etc/corosync/corosync.conf\t${sha256Of(overrides.conf ?? renderCorosyncConf(seed))}\t644`,
        `file\t/etc/corosync/authkey\t${sha256Of(overrides.key ?? seed.authKey)}\t${overrides.keyMode ?? "400"}`,
        "service\tcorosync\tactive\tenabled",
        "service\tcorosync-qdevice\tactive\tenabled",
        "service\tpacemaker\tactive\tenabled",
        "package\tcorosync\t1",
        "package\tcrmsh\t0",
        "boot\tb-1",
        ...(overrides.quorumText ?? quorum).split("\n").map((l) => `quorum\t${l}`),
      ].join("\n"),
    );

  it("finds no drift on a node as the inputs say, and names each difference without a secret", () => {
    expect(report().packages).toEqual({ corosync: true, crmsh: false });
    expect(corosyncDrift(seed, report())).toEqual([]);
    const drift = corosyncDrift(seed, report({ conf: "x", key: "y", keyMode: "644" }));
    expect(drift).toEqual(["corosync.conf differs", "authkey differs", "authkey mode 0644"]);
    expect(drift.join(" ")).not.toContain(seed.authKey);
  });

  it("waits for every node, quorum and the arbiter's vote", () => {
    expect(membershipProblems(seed, [report(), report()])).toEqual([]);
    const noArbiter = quorum.replace("         0          1            Qdevice", "         0          0            Qdevice");
    expect(membershipProblems(seed, [report({ quorumText: noArbiter }), undefined])).toEqual([
      "ha1.domain.local: the arbiter's vote is not counted (corosync-qdevice-tool -s says why)",
      "ha2.domain.local: corosync does not answer",
    ]);
    const alone = quorum.replace("Quorate:          Yes", "Quorate:          No").replace(/^.*ha2\.domain\.local\n/m, "");
    expect(membershipProblems(seed, [report({ quorumText: alone })].concat([report()]))).toEqual(["ha1.domain.local: not quorate", "ha1.domain.local does not see ha2.domain.local"]);
  });

  it("never reads the authkey back", () => {
    const probe = buildCorosyncProbeScript().text;
    expect(probe).toContain("sha256sum");
    expect(probe).not.toMatch(/cat [^|]*authkey/);
  });
});



describe("CorosyncCluster's check", () => {
  it("warns about two_node in every preview, creates included, and not with an arbiter", async () => {
    const { corosyncClusterLifecycle } = await import("../../provider/corosync/corosync-cluster");
    const written: string[] = [];
    const spy = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      const { arbiter: _a, ...twoNode } = corosyncArgs;
      expect((await corosyncClusterLifecycle.check({}, twoNode as Record<string, unknown>)).failures).toEqual([]);
      expect((await corosyncClusterLifecycle.check({}, corosyncArgs as Record<string, unknown>)).failures).toEqual([]);
    } finally {
      spy.mockRestore();
    }
    expect(written.filter((w) => /no quorum arbiter, so it runs votequorum's two_node/.test(w))).toHaveLength(1);
  });
});
