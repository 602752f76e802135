/**
 * The benchmark's counters count: commands run through the package's own SSH layer (one pooled
 * connection per host) and commands that each dial their own connection, counted on the hosts by
 * the logging `timeout` and sshd's log, agree exactly with what was run.
 */
import { readFileSync } from "node:fs";
import { installCounters, labEndpoint, markCounters, readCounters, removeCounters } from "../../bench/hosts";
import { runEachOnItsOwnConnection } from "../../bench/per-command";
import { sh } from "../../provider/shell";
import { connectionSchema } from "../../provider/ssh/connection";
import { closeAll, connect } from "../../provider/ssh/pool";
import { LAB_NODES, labConnection, labExec, labRun, type LabNodeName } from "../support/lab";

jest.setTimeout(10 * 60_000);

const packageHost = (node: LabNodeName) => {
  const lab = labConnection();
  const n = lab.nodes[node];
  return connect(connectionSchema.parse({ host: n.host, port: n.port, user: n.user, hostKey: n.hostKey, privateKey: readFileSync(lab.privateKeyPath, "utf8") }));
};

const figures = (counts: Awaited<ReturnType<typeof readCounters>>) =>
  Object.fromEntries(LAB_NODES.map((n) => [n, { connections: counts[n]?.connections, commands: counts[n]?.commands }]));

describe("the benchmark's host-side counters", () => {
  beforeAll(async () => {
    await installCounters();
  });

  afterAll(async () => {
    await closeAll();
    await removeCounters();
  });

  it("put the logging timeout first on root's PATH on every node", async () => {
    const found = await Promise.all(LAB_NODES.map((n) => labRun(n, "command -v timeout").then((s) => s.trim())));
    expect(found).toEqual(["/usr/local/bin/timeout", "/usr/local/bin/timeout"]);
  });

  it("count each command the package's SSH layer runs, and its one connection per host", async () => {
    await closeAll();
    const marks = await markCounters();
    const [ha1, ha2] = await Promise.all(LAB_NODES.map(packageHost));
    await Promise.all(Array.from({ length: 7 }, (_, i) => ha1!.exec(sh`echo ${`command ${i}`}`)));
    for (let i = 0; i < 4; i++) await ha2!.exec(["true"]);
    await ha2!.writeFile("/tmp/pulumi-xen-ha-bench-counter-test", "counted\n", { mode: "0600" });
    await ha2!.removeFiles(["/tmp/pulumi-xen-ha-bench-counter-test"]);
    await closeAll();
    expect(figures(await readCounters(marks))).toEqual({ ha1: { connections: 1, commands: 7 }, ha2: { connections: 1, commands: 6 } });
  });

  it("count a connection per command when every command dials its own, as remote.Command does", async () => {
    const marks = await markCounters();
    const codes = await runEachOnItsOwnConnection(labEndpoint("ha1"), Array.from({ length: 5 }, (_, i) => sh`timeout 30 sh -c ${`exit ${i % 2}`}`), 2);
    expect([figures(await readCounters(marks)), codes]).toEqual([
      { ha1: { connections: 5, commands: 5 }, ha2: { connections: 0, commands: 0 } },
      [0, 1, 0, 1, 0],
    ]);
  });

  it("leave out what did not come from this machine's sessions through timeout", async () => {
    const marks = await markCounters();
    // One session: a command without timeout, one under it, and one under it outside any SSH session.
    await labExec("ha2", "true; timeout 5 true; env -u SSH_CONNECTION timeout 5 true");
    expect(figures(await readCounters(marks))).toEqual({ ha1: { connections: 0, commands: 0 }, ha2: { connections: 1, commands: 1 } });
  });
});
