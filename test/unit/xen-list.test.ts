import { locateGuest, parseDomainList, parseLongList, presenceIn } from "../../provider/xen/list";
import { fixture } from "./fixtures/xen/inputs";

const running = parseDomainList(fixture("xl-list.txt"));
const empty = parseDomainList(fixture("xl-list-dom0-only.txt"));

describe("xl list and xm list", () => {
  it("reads the guest's domid, memory, vcpus and state from xl list", () => {
    expect(running.find((d) => d.name === "test")).toEqual({
      name: "test",
      domid: 3,
      memoryMiB: 384,
      vcpus: 1,
      stateLetters: "-b----",
      state: { running: false, blocked: true, paused: false, shutdown: false, crashed: false, dying: false },
      cpuSeconds: 21.4,
    });
  });

  it("reads the seed's xm list, including a domain xend knows but does not run", () => {
    expect(parseDomainList(fixture("xm-list.txt")).map((d) => [d.name, d.domid, d.memoryMiB])).toEqual([
      ["Domain-0", 0, 500],
      ["test", 7, 384],
      ["old", null, 256],
    ]);
  });

  it("sees a guest kept after a crash by on_crash=preserve", () => {
    expect(presenceIn(parseDomainList(fixture("xl-list-crashed.txt")), "test").presence).toBe("crashed");
  });

  it("sees a guest arriving by migration under its temporary name", () => {
    expect(presenceIn(parseDomainList(fixture("xl-list-incoming.txt")), "test").presence).toBe("migrating");
  });

  it("refuses to guess at a line it cannot read", () => {
    expect(() => parseDomainList("Name ID Mem VCPUs State Time(s)\nlibxl: error: cannot connect\n")).toThrow(/cannot read this line/);
  });
});

describe("where a guest runs", () => {
  it("finds it on the host that lists it", () => {
    expect(locateGuest("test", { ha1: running, ha2: empty })).toMatchObject({ where: "one", host: "ha1", presence: "running" });
  });

  it("reports a guest listed on both hosts as such", () => {
    expect(locateGuest("test", { ha1: running, ha2: running })).toEqual({ where: "several", hosts: ["ha1", "ha2"] });
  });

  it("does not call a guest stopped when a host could not be asked", () => {
    expect(locateGuest("test", { ha1: empty, ha2: undefined })).toEqual({ where: "unknown", unreachable: ["ha2"] });
  });

  it("calls it stopped when both hosts were asked", () => {
    expect(locateGuest("test", { ha1: empty, ha2: empty })).toEqual({ where: "nowhere" });
  });
});

describe("xl list -l", () => {
  it("reads the limits the running guest was started with", () => {
    expect(parseLongList(fixture("xl-list-long.json"), "test")).toEqual({ domid: 3, maxMemoryMiB: 384, maxVcpus: 1, type: "pv" });
  });

  it("answers undefined for a guest it does not list", () => {
    expect(parseLongList("[]", "test")).toBeUndefined();
  });
});
