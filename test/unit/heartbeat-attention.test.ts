import { execFileSync } from "node:child_process";
import { heartbeatAttention, restartedSinceUp, nodeHealthOf } from "../../provider/heartbeat/attention";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { buildHeartbeatProbeScript, parseHeartbeatProbe } from "../../provider/heartbeat/status";
import { seedArgs } from "./fixtures/heartbeat/seed";

const cluster = (watchdog: string | null = "/dev/watchdog") => heartbeatClusterSchema.parse({ ...seedArgs, watchdog });

const report = (lines: string) => parseHeartbeatProbe(`uname\tha1.domain.local\nheartbeat\trunning\n${lines}`);

describe("the probe's node health", () => {
  it("reads the boot id and whether Heartbeat holds the watchdog", () => {
    const r = report("watchdog\tpresent\nwatchdogheld\tyes\nboot\t6f1c0c9e-1d2a-4e55-9a3e-0b6e1c2d3f40\n");
    expect([r.bootId, r.watchdogPresent, r.watchdogHeld]).toEqual(["6f1c0c9e-1d2a-4e55-9a3e-0b6e1c2d3f40", true, true]);
  });

  it("asks for them in valid sh", () => {
    expect(() => execFileSync("sh", ["-n"], { input: buildHeartbeatProbeScript(cluster()).text })).not.toThrow();
    expect(buildHeartbeatProbeScript(cluster()).text).toMatch(/watchdogheld/);
    expect(buildHeartbeatProbeScript(cluster(null)).text).not.toMatch(/watchdogheld/);
  });

  it("says held, not held, absent, none or unknown per node", () => {
    const held = report("watchdog\tpresent\nwatchdogheld\tyes\nboot\ta\n");
    const loose = report("watchdog\tpresent\nwatchdogheld\tno\nboot\tb\n");
    expect(nodeHealthOf(cluster(), [held, loose]).map((h) => h.watchdog)).toEqual(["held", "not held"]);
    expect(nodeHealthOf(cluster(), [report("watchdog\tabsent\n"), undefined]).map((h) => h.watchdog)).toEqual(["absent", "unknown"]);
    expect(nodeHealthOf(cluster(null), [held, loose]).map((h) => h.watchdog)).toEqual(["none", "none"]);
  });
});

describe("heartbeatAttention", () => {
  const health = (a: string, b: string, watchdog: "held" | "not held" = "held") => [
    { node: "ha1.domain.local", bootId: a, watchdog },
    { node: "ha2.domain.local", bootId: b, watchdog: "held" as const },
  ];

  it("names a node whose boot id changed since the last up, as fenced, reset or crashed", () => {
    const notes = heartbeatAttention(cluster(), ["a", "b"], health("a", "c"), [true, true]);
    expect(notes).toEqual([expect.stringMatching(/^ha2\.domain\.local has restarted since the last up .*fenced by its peer, reset by its watchdog/)]);
  });

  it("says nothing when the boot ids are those of the last up, or none was recorded, or a node was not read", () => {
    expect(heartbeatAttention(cluster(), ["a", "b"], health("a", "b"), [true, true])).toEqual([]);
    expect(heartbeatAttention(cluster(), undefined, health("a", "c"), [true, true])).toEqual([]);
    expect(heartbeatAttention(cluster(), ["a", "b"], health("a", ""), [true, false])).toEqual([]);
  });

  it("names a running Heartbeat that does not hold its watchdog", () => {
    expect(heartbeatAttention(cluster(), ["a", "b"], health("a", "b", "not held"), [true, true])).toEqual([
      expect.stringMatching(/^Heartbeat on ha1\.domain\.local does not hold \/dev\/watchdog open/),
    ]);
    expect(heartbeatAttention(cluster(), ["a", "b"], health("a", "b", "not held"), [false, true])).toEqual([]);
  });
});

describe("nodes restarted since the last up, recorded by a read", () => {
  it("names the nodes whose boot id changed, and none that could not be read or have no recorded one", () => {
    const health = [
      { node: "ha1.domain.local", bootId: "a", watchdog: "held" as const },
      { node: "ha2.domain.local", bootId: "c", watchdog: "held" as const },
    ];
    expect([
      restartedSinceUp(["a", "b"], health),
      restartedSinceUp(["a", "c"], health),
      restartedSinceUp(["", "b"], [health[0]!, { ...health[1]!, bootId: "" }]),
      restartedSinceUp(undefined, health),
    ]).toEqual([["ha2.domain.local"], [], [], []]);
  });
});
