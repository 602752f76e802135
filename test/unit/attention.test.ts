/** Findings that need a person are named, with what to do. */
import { drbdAttention } from "../../provider/drbd/attention";
import type { DrbdNodeStatus } from "../../provider/drbd/status";
import { holdsDrift, refreshedInputs } from "../../provider/refreshed-inputs";
import { xenDomUSchema } from "../../provider/xen/schema";
import { awayFromRunOn } from "../../provider/xen/rules";

const healthy: DrbdNodeStatus = { connection: "Connected", role: "Secondary", peerRole: "Secondary", disk: "UpToDate", peerDisk: "UpToDate" };

describe("DRBD states that need a person", () => {
  it("a healthy pair needs nobody", () => {
    expect(drbdAttention("r", { ha1: healthy, ha2: healthy })).toEqual([]);
  });

  it("a split brain names the recovery commands", () => {
    const notes = drbdAttention("r", { ha1: { ...healthy, connection: "StandAlone", splitBrain: true }, ha2: healthy });
    expect(notes).toEqual([expect.stringMatching(/split brain seen on ha1.*drbdadm connect --discard-my-data r/)]);
  });

  it("an Outdated disk is never to be promoted", () => {
    expect(drbdAttention("r", { ha2: { ...healthy, connection: "WFConnection", disk: "Outdated" } })).toEqual([expect.stringMatching(/Outdated .*Never promote it/)]);
  });

  it("an Inconsistent disk that is resyncing is left to DRBD", () => {
    expect(drbdAttention("r", { ha2: { ...healthy, connection: "SyncTarget", disk: "Inconsistent" } })).toEqual([]);
  });
});

describe("a guest away from where the program places it", () => {
  it("is named with both hosts", () => {
    expect(awayFromRunOn({ state: "running", runOn: "ha2" }, { name: "test", runOn: "ha1", state: "running", placedBy: "none" })).toMatch(/^test runs on ha2 .* places it on ha1/);
  });

  it("says nothing when it runs where it should", () => {
    expect(awayFromRunOn({ state: "running", runOn: "ha1" }, { name: "test", runOn: "ha1", state: "running", placedBy: "none" })).toBeUndefined();
  });
});

describe("what a refresh records as inputs", () => {
  const props = {
    name: "test",
    runOn: "ha2",
    state: "stopped",
    domid: null,
    configDrift: ["ha1: /etc/xen/test.cfg differs from the rendered config"],
    observedHostKeys: { ha1: "SHA256:x" },
  };

  it("takes the observed placement and state in place of the recorded inputs, and leaves outputs out", () => {
    expect(refreshedInputs(xenDomUSchema, props, ["configDrift"])).toEqual({ name: "test", runOn: "ha2", state: "stopped", configDrift: props.configDrift });
  });

  it("records drift only when there is some", () => {
    expect([holdsDrift([]), holdsDrift({ ha1: [] }), holdsDrift({ ha1: ["x"] })]).toEqual([false, false, true]);
  });
});
