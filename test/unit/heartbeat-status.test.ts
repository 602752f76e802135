import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { buildHeartbeatProbeScript, groupPlacement, parseHeartbeatProbe } from "../../provider/heartbeat/status";
import { seedArgs } from "./fixtures/heartbeat/seed";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "heartbeat", name), "utf8");
const seed = heartbeatClusterSchema.parse(seedArgs);
const ha1 = parseHeartbeatProbe(fixture("probe-ha1-steady.txt"));
const ha2AfterFailover = parseHeartbeatProbe(fixture("probe-ha2-after-failover.txt"));
const ha2Steady = { ...ha2AfterFailover, resources: "local" as const, running: [], domains: [] };

describe("the Heartbeat probe", () => {
  it("is a valid POSIX shell script", () => {
    expect(() => execFileSync("sh", ["-n", "-c", buildHeartbeatProbeScript(seed).text])).not.toThrow();
  });

  it("hashes authkeys instead of reading it back", () => {
    expect(buildHeartbeatProbeScript(seed).text).toContain(`sha256sum <"$f"`);
  });

  it("reads the node name, the files' modes and what cl_status says", () => {
    expect([ha1.nodeName, ha1.files["/etc/ha.d/authkeys"]?.mode, ha1.heartbeatRunning, ha1.resources]).toEqual(["ha1.domain.local", "0600", true, "local"]);
  });

  it("reads the peer's status and each heartbeat link after a failover", () => {
    expect([ha2AfterFailover.nodeStatus["ha1.domain.local"], ha2AfterFailover.heartbeatLinks.filter((l) => l.status === "dead").map((l) => l.link)]).toEqual([
      "dead",
      ["xenbr0", "eth1"],
    ]);
  });

  it("reads a bare node: no files, Heartbeat stopped, no watchdog", () => {
    const bare = parseHeartbeatProbe(fixture("probe-bare-lab-node.txt"));
    expect([bare.files["/etc/ha.d/ha.cf"], bare.heartbeatRunning, bare.resources, bare.watchdogPresent]).toEqual([null, false, "unknown", false]);
  });
});

describe("which node holds which group", () => {
  it("in the steady state each node holds its own group and the DomU runs at home", () => {
    expect(groupPlacement(seed, [ha1, ha2Steady])).toEqual([
      { group: "xendomainsHA1", homeNode: "ha1.domain.local", heldBy: ["ha1.domain.local"], domains: [{ name: "test", runsOn: ["ha1.domain.local"] }] },
      { group: "xendomainsHA2", homeNode: "ha2.domain.local", heldBy: ["ha2.domain.local"], domains: [] },
    ]);
  });

  it("after ha1 died, ha2 holds both groups and runs ha1's DomU", () => {
    expect(groupPlacement(seed, [undefined, ha2AfterFailover])[0]).toEqual({
      group: "xendomainsHA1",
      homeNode: "ha1.domain.local",
      heldBy: ["ha2.domain.local"],
      domains: [{ name: "test", runsOn: ["ha2.domain.local"] }],
    });
  });

  it("shows a DomU running on both nodes, the split brain this package guards against", () => {
    expect(groupPlacement(seed, [ha1, ha2AfterFailover])[0]?.domains).toEqual([{ name: "test", runsOn: ["ha1.domain.local", "ha2.domain.local"] }]);
  });

  it("counts no group as held while a node's Heartbeat is in transition", () => {
    expect(groupPlacement(seed, [{ ...ha1, resources: "transition" }, ha2Steady])[0]?.heldBy).toEqual([]);
  });
});
