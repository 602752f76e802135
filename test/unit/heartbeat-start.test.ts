import { membershipUntouched, startBlockedBy } from "../../provider/heartbeat/nodes";
import type { NodeInstallPlan } from "../../provider/heartbeat/install-plan";
import { heartbeatPaths } from "../../provider/heartbeat/render";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { parseHeartbeatProbe, type HeartbeatNodeReport } from "../../provider/heartbeat/status";
import { seedArgs } from "./fixtures/heartbeat/seed";

const seed = heartbeatClusterSchema.parse(seedArgs);

function node(name: string, over: Partial<HeartbeatNodeReport>): HeartbeatNodeReport {
  return { ...parseHeartbeatProbe(""), nodeName: name, ...over };
}
const stopped = (name: string) => node(name, { heartbeatRunning: false });
const ha2 = (resources: HeartbeatNodeReport["resources"], ha1Seen: string) =>
  node("ha2.domain.local", { heartbeatRunning: true, resources, nodeStatus: { "ha1.domain.local": ha1Seen, "ha2.domain.local": "active" } });

describe("when a stopped node's Heartbeat may start", () => {
  it("starts both at once when neither runs", () => {
    const reports = [stopped("ha1.domain.local"), stopped("ha2.domain.local")] as const;
    expect([startBlockedBy(seed, 0, [...reports]), startBlockedBy(seed, 1, [...reports])]).toEqual([undefined, undefined]);
  });

  it("waits while the peer still takes the stopped node's group over", () => {
    expect(startBlockedBy(seed, 0, [stopped("ha1.domain.local"), ha2("transition", "dead")])).toBe("ha2.domain.local holds transition");
  });

  it("waits while the peer has not yet noticed the node is gone", () => {
    expect(startBlockedBy(seed, 0, [stopped("ha1.domain.local"), ha2("local", "active")])).toBe("ha2.domain.local still sees ha1.domain.local active");
  });

  it("starts once the peer declared the node dead and holds every group", () => {
    expect(startBlockedBy(seed, 0, [stopped("ha1.domain.local"), ha2("all", "dead")])).toBeUndefined();
  });

  it("never waits for a node that already runs, nor for a peer that could not be read", () => {
    const running = node("ha1.domain.local", { heartbeatRunning: true });
    expect([startBlockedBy(seed, 0, [running, ha2("transition", "active")]), startBlockedBy(seed, 0, [stopped("ha1.domain.local"), undefined])]).toEqual([undefined, undefined]);
  });
});

describe("after an install, whether the membership must be waited for again", () => {
  const both = { "ha1.domain.local": "active", "ha2.domain.local": "active" };
  const steady = (name: string, over: Partial<HeartbeatNodeReport> = {}) =>
    node(name, { heartbeatRunning: true, resources: "local", nodeStatus: both, services: { heartbeat: { active: "active", enabled: "enabled" }, xendomains: { active: "inactive", enabled: "disabled" } }, ...over });
  const linksOnly: NodeInstallPlan = { write: [], reload: [], bootGate: "remove", dopdPermissions: false, autoLinks: true, disableStockXendomains: false };
  const reloading: NodeInstallPlan = { ...linksOnly, reload: [{ path: heartbeatPaths.haCf, content: "", mode: "0644", secret: false, property: "deadtime" }] };

  it("reads only what the install wrote when both nodes ran, saw each other and nothing was reread", () => {
    expect(membershipUntouched(seed, [steady("ha1.domain.local"), steady("ha2.domain.local")], [linksOnly, linksOnly])).toBe(true);
  });

  it("waits again when ha.cf or authkeys were reloaded, a node was down or not read, or one did not see the other", () => {
    expect([
      membershipUntouched(seed, [steady("ha1.domain.local"), steady("ha2.domain.local")], [linksOnly, reloading]),
      membershipUntouched(seed, [steady("ha1.domain.local"), stopped("ha2.domain.local")], [linksOnly, linksOnly]),
      membershipUntouched(seed, [steady("ha1.domain.local"), undefined], [linksOnly, linksOnly]),
      membershipUntouched(seed, [steady("ha1.domain.local"), steady("ha2.domain.local", { nodeStatus: { ...both, "ha1.domain.local": "dead" } })], [linksOnly, linksOnly]),
      membershipUntouched(seed, [steady("ha1.domain.local", { resources: "transition" }), steady("ha2.domain.local")], [linksOnly, linksOnly]),
      membershipUntouched(seed, [steady("ha1.domain.local", { services: { heartbeat: { active: "active", enabled: "disabled" }, xendomains: { active: "", enabled: "" } } }), steady("ha2.domain.local")], [linksOnly, linksOnly]),
    ]).toEqual([false, false, false, false, false, false]);
  });
});
