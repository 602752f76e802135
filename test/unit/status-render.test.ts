import { assess } from "../../cli/status/assess";
import { renderStatus } from "../../cli/status/render";
import { fixture, labModel, steady } from "./fixtures/status/readings";

const now = new Date("2025-03-01T12:00:05Z");
const bothActive = { "ha1.domain.local": "active", "ha2.domain.local": "active" };

/** ha1 gone (a hard kill), ha2 holding both groups and running the guest, DRBD waiting for its peer. */
const failover = labModel({
  ha1: "127.0.0.1:2221: SSH connection failed: Timed out while waiting for handshake",
  ha2: { uname: "ha2.domain.local", xl: "xen/xl-list.txt", drbd: "drbd/proc-drbd-waiting.txt", resources: "all", nodeStatus: { "ha1.domain.local": "dead", "ha2.domain.local": "active" }, links: { public: "cut", crossover: "cut" } },
});

describe("the status screen", () => {
  it("shows a healthy cluster on one screen with nothing that needs a person", () => {
    expect(renderStatus(labModel(steady), now)).toBe(fixture("status/screen-steady.txt"));
  });

  it("shows a failover: the dead node unreachable, the guest away from home, DRBD waiting, the survivor holding both groups", () => {
    expect(renderStatus(failover, now)).toBe(fixture("status/screen-failover.txt"));
  });

  it("draws a resync as a progress bar with the time DRBD estimates is left", () => {
    const model = labModel({ ha1: { ...steady.ha1, drbd: "drbd/proc-drbd-sync-source.txt" }, ha2: { ...steady.ha2, drbd: "drbd/proc-drbd-sync-target.txt" } });
    expect(renderStatus(model, now)).toContain("\n              [####................] 22.7%  about 4 min 49 s left\n");
  });

  it("does not count an Inconsistent disk that is resyncing as needing a person", () => {
    const model = labModel({ ha1: { ...steady.ha1, drbd: "drbd/proc-drbd-sync-source.txt" }, ha2: { ...steady.ha2, drbd: "drbd/proc-drbd-sync-target.txt" } });
    expect(assess(model).attention.filter((a) => a.startsWith("DRBD test-disk"))).toEqual([]);
  });

  it("shows a guest listed on both nodes in capitals, first of what needs a person", () => {
    const model = labModel({ ha1: steady.ha1, ha2: { ...steady.ha2, xl: "xen/xl-list.txt" } });
    const text = renderStatus(model, now);
    expect([text.includes("  test    RUNNING ON BOTH ha1 AND ha2   home ha1\n"), assess(model).attention[0]]).toEqual([
      true,
      "test runs on ha1 and ha2 at once: its disks are written from two guests; stop all but one by hand (xl destroy)",
    ]);
  });

  it("does not take a live migration for a guest on both nodes", () => {
    const model = labModel({ ha1: steady.ha1, ha2: { ...steady.ha2, xl: "xen/xl-list-incoming.txt" } });
    expect(assess(model).vms.find((v) => v.name === "test")?.placement).toEqual({ kind: "migrating", from: "ha1", to: "ha2" });
  });

  it("treats StandAlone as a split brain that needs a person, even though /proc/drbd does not say so", () => {
    const model = labModel({ ha1: steady.ha1, ha2: { ...steady.ha2, drbd: "drbd/proc-drbd-split-brain.txt" } });
    expect(assess(model).attention[0]).toBe("DRBD test-disk is StandAlone on ha2: it does not replicate, most likely after a split brain (see dmesg; resolve by hand)");
  });

  it("names a cut link and the node that sees it cut when the peer still answers over SSH", () => {
    const model = labModel({ ha1: { ...steady.ha1, links: { public: "up", crossover: "cut" } }, ha2: steady.ha2 });
    expect(assess(model).attention).toEqual(["the crossover link is cut: ha1 gets no answer from ha2 at 192.168.1.101"]);
  });

  it("flags a guest that should run but runs nowhere", () => {
    const model = labModel({ ha1: { ...steady.ha1, xl: "xen/xl-list-dom0-only.txt" }, ha2: steady.ha2 });
    expect(assess(model).attention).toEqual(["test runs nowhere, but should run (home ha1)"]);
  });

  it("flags a node whose Heartbeat is not running", () => {
    const model = labModel({ ha1: steady.ha1, ha2: { ...steady.ha2, resources: "stopped", nodeStatus: bothActive } });
    expect(assess(model).attention).toEqual(["Heartbeat is not running on ha2"]);
  });

  it("keeps every line within 100 columns of plain ASCII, whatever the hosts print", () => {
    const model = labModel({ ha1: `127.0.0.1:2221: ${"a very long error from a host, ".repeat(8)}with “quotes” and a tab\there`, ha2: steady.ha2 });
    const tooWide = renderStatus(model, now).split("\n").filter((line) => !/^[\x20-\x7e]{0,100}$/.test(line));
    expect(tooWide).toEqual([]);
  });
});
