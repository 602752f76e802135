import { assess } from "../../cli/status/assess";
import { parseSurvey } from "../../cli/status/survey";
import { labModel, steady } from "./fixtures/status/readings";

/** The lab model with ha2's boot id as read now, and the one the last up recorded. */
function withBootIds(now: string, atLastUp: string | undefined) {
  const model = labModel(steady);
  const reading = model.readings.ha2!;
  if (reading.ok) reading.survey.bootId = now;
  for (const n of model.cluster.heartbeat!.nodes) if (n.node === "ha2") n.upBootId = atLastUp;
  return model;
}

describe("the status view and a node that restarted", () => {
  it("reads the boot id the node reports", () => {
    expect(parseSurvey("--8<-- status uname\nha2.domain.local\n--8<-- status boot\n6f1c0c9e-1d2a-4e55-9a3e-0b6e1c2d3f40\n").bootId).toBe("6f1c0c9e-1d2a-4e55-9a3e-0b6e1c2d3f40");
  });

  it("names a node whose boot id is not the one of the last up: fenced, reset or crashed", () => {
    expect(assess(withBootIds("b", "a")).attention).toContain("ha2 has restarted since the last up (fenced, reset by its watchdog, crashed or rebooted); find out why before the next up");
  });

  it("says nothing when the boot id is the last up's, or the state records none", () => {
    expect(assess(withBootIds("a", "a")).attention.filter((t) => /restarted/.test(t))).toEqual([]);
    expect(assess(withBootIds("a", undefined)).attention.filter((t) => /restarted/.test(t))).toEqual([]);
  });
});
