import { buildHoldingProbe, type ResourceHolding } from "../../provider/heartbeat/holding";
import { groupMove, handBackNotice, handBackProgress, parseHolding, type HeartbeatHolding } from "../../provider/xen/heartbeat-placement";
import { parseDomainList } from "../../provider/xen/list";
import { awayFromRunOn } from "../../provider/xen/rules";

const running = (resources: ResourceHolding): HeartbeatHolding => ({ running: true, resources });
const stopped: HeartbeatHolding = { running: false, resources: "unknown" };

describe("parseHolding", () => {
  it("reads cl_status's answer while Heartbeat runs", () => {
    expect(parseHolding("heartbeat\trunning\nresources\tall\n")).toEqual({ running: true, resources: "all" });
  });
  it("reads an answer it does not know as unknown", () => {
    expect(parseHolding("heartbeat\trunning\nresources\t\n")).toEqual({ running: true, resources: "unknown" });
  });
  it("reads what the probe prints when cl_status answers", () => {
    const text = buildHoldingProbe().text;
    expect([text.startsWith("if cl_status hbstatus"), text.includes("printf 'resources\\t%s\\n'")]).toEqual([true, true]);
  });
  it("reads a stopped Heartbeat as holding nothing", () => {
    expect(parseHolding("heartbeat\tstopped\n")).toEqual({ running: false, resources: "unknown" });
  });
});

describe("groupMove: a guest of ha1's group that runs on ha2, going home to ha1", () => {
  const move = (source: HeartbeatHolding, target: HeartbeatHolding) =>
    groupMove("test", { name: "ha2", holding: source }, { name: "ha1", holding: target });

  it.each<ResourceHolding>(["all", "foreign"])("hands the group back when ha2 holds it (%s) and Heartbeat runs on ha1", (held) => {
    expect(move(running(held), running("none"))).toEqual({ kind: "handBack" });
  });
  it.each<ResourceHolding>(["local", "none"])("migrates the guest itself when ha2 holds only its own group or nothing (%s): it was moved by hand", (held) => {
    expect(move(running(held), running("local"))).toEqual({ kind: "direct" });
  });
  it("migrates the guest itself when Heartbeat does not run on ha2", () => {
    expect(move(stopped, running("all"))).toEqual({ kind: "direct" });
  });
  it("waits while Heartbeat on ha2 is moving resources", () => {
    expect(move(running("transition"), running("none"))).toEqual({ kind: "wait" });
  });
  it("leaves test on ha2 for this up when ha2 holds the group and Heartbeat does not run on ha1, saying how it gets home", () => {
    const m = move(running("all"), stopped);
    expect(m.kind).toBe("deferred");
    expect(m.kind === "deferred" && m.reason).toMatch(/test stays on ha2 in this up: .*HeartbeatCluster starts Heartbeat on ha1 later in this up.*auto_failback on.*set the VM's home to ha2/);
  });
});

describe("awayFromRunOn", () => {
  const olds = { state: "running", runOn: "ha2" };
  it("says that up gives the group back when Heartbeat places the guest", () => {
    expect(awayFromRunOn(olds, { name: "test", runOn: "ha1", state: "running", placedBy: "heartbeat" })).toBe(handBackNotice("test", "ha2", "ha1"));
    expect(handBackNotice("test", "ha2", "ha1")).toMatch(/hb_standby foreign on ha2/);
  });
  it("says that up migrates the guest when nothing else places it", () => {
    expect(awayFromRunOn(olds, { name: "test", runOn: "ha1", state: "running", placedBy: "none" })).toMatch(/up moves it there \(a live migration/);
  });
  it("says nothing for a guest at home or stopped", () => {
    expect(awayFromRunOn({ state: "running", runOn: "ha1" }, { name: "test", runOn: "ha1", state: "running", placedBy: "heartbeat" })).toBeUndefined();
    expect(awayFromRunOn(olds, { name: "test", runOn: "ha1", state: "stopped", placedBy: "heartbeat" })).toBeUndefined();
  });
});

describe("handBackProgress: test going home from ha2 to ha1 after hb_standby foreign on ha2", () => {
  const entry = parseDomainList("Name  ID   Mem VCPUs      State   Time(s)\ntest   3   128     1     -b----       1.5\n")[0]!;
  const on = (host: string) => ({ where: "one" as const, host, presence: "running" as const, entry });
  const progress = (where: Parameters<typeof handBackProgress>[0], source: HeartbeatHolding, target: HeartbeatHolding) =>
    handBackProgress(where, "ha1", { name: "ha2", holding: source }, target);

  it("is done once test runs on ha1 alone", () => {
    expect(progress(on("ha1"), running("local"), running("all"))).toBe("done");
  });
  it("is idle, to be asked again, while ha2 still holds the group, nothing moves and test still runs there", () => {
    expect(progress(on("ha2"), running("all"), running("none"))).toBe("idle");
  });
  it.each<[string, HeartbeatHolding, HeartbeatHolding]>([
    ["ha2 is giving the group up", running("transition"), running("none")],
    ["ha1 is taking it", running("all"), running("transition")],
    ["ha2 gave it up and ha1 starts test", running("local"), running("all")],
  ])("is moving while %s", (_what, source, target) => {
    expect(progress(on("ha2"), source, target)).toBe("moving");
  });
  it("is moving while test is listed on both hosts during the live migration", () => {
    expect(progress({ where: "several", hosts: ["ha1", "ha2"] }, running("all"), running("none"))).toBe("moving");
  });
});
