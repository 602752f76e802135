import { HostKeyConflictError, HostKeyMismatchError, isHostKeyConflictError } from "../../provider/errors";
import { KnownHosts } from "../../provider/ssh/known-hosts";

const key = (c: string) => `SHA256:${c.repeat(43)}`;
const claim = (k: string, source: string, endpoint = "10.0.0.1:22") => ({ endpoint, key: k, source });

function failureOf(f: () => void): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("known host keys", () => {
  it("knows a key by its server, with where it came from", () => {
    const known = new KnownHosts();
    known.learn(claim(key("A"), "pinned at connection.hostKey of VolumeGroup \"vg\" in the program"));
    expect(known.keyFor("10.0.0.1:22")).toEqual({ key: key("A"), source: "pinned at connection.hostKey of VolumeGroup \"vg\" in the program" });
  });

  it("accepts the same key from another source and keeps the first source", () => {
    const known = new KnownHosts();
    known.learnAll([claim(key("A"), "first"), claim(key("A"), "second")]);
    expect(known.keyFor("10.0.0.1:22")?.source).toBe("first");
  });

  it("refuses a second key for the same server, naming both sources", () => {
    const known = new KnownHosts();
    known.learn(claim(key("A"), "recorded at observedHostKey in the state of VolumeGroup \"vg\""));
    const err = failureOf(() => known.learn(claim(key("B"), "pinned at connection.hostKey of LogicalVolume \"lv\" in the program"))) as HostKeyConflictError;
    expect([isHostKeyConflictError(err), /VolumeGroup "vg".*LogicalVolume "lv"/s.test(err.message)]).toEqual([true, true]);
  });

  it("refuses two keys for one server within one call", () => {
    const known = new KnownHosts();
    expect(isHostKeyConflictError(failureOf(() => known.learnAll([claim(key("A"), "nodes[0]"), claim(key("B"), "nodes[1]")])))).toBe(true);
  });

  it("learns nothing from a call whose claims conflict", () => {
    const known = new KnownHosts();
    known.learn(claim(key("A"), "first"));
    failureOf(() => known.learnAll([claim(key("C"), "other server", "10.0.0.2:22"), claim(key("B"), "conflicting")]));
    expect(known.keyFor("10.0.0.2:22")).toBeUndefined();
  });

  it("keeps different servers apart", () => {
    const known = new KnownHosts();
    known.learnAll([claim(key("A"), "a", "10.0.0.1:22"), claim(key("B"), "b", "10.0.0.1:2222")]);
    expect([known.keyFor("10.0.0.1:22")?.key, known.keyFor("10.0.0.1:2222")?.key]).toEqual([key("A"), key("B")]);
  });

  it("forgets everything on request", () => {
    const known = new KnownHosts();
    known.learn(claim(key("A"), "a"));
    known.forget();
    expect(known.keyFor("10.0.0.1:22")).toBeUndefined();
  });
});

describe("host key errors", () => {
  const mismatch = (context: ConstructorParameters<typeof HostKeyMismatchError>[3]) => new HostKeyMismatchError("ha1", key("E"), key("P"), context).message;

  it("says a handshake refusal sent nothing", () => {
    expect(mismatch({ refusedAt: "handshake" })).toContain("before authentication: no credential and no command was sent to it");
  });

  it("does not claim nothing was sent when another connection had already logged in", () => {
    expect(mismatch({ refusedAt: "pooled" })).not.toContain("no credential and no command was sent");
  });

  it("says a pooled refusal found the key on a connection made earlier in the run", () => {
    expect(mismatch({ refusedAt: "pooled" })).toContain(`another connection to this endpoint had already been made in this run`);
  });

  it("tells a resource whose recorded key differs how to move its data on purpose", () => {
    const text = mismatch({ expectation: { from: "record" } });
    expect([/another machine than the one this resource's data lives on/, /only after verifying that fingerprint out of band/, /create new resources on the new machine and copy the data, then delete the old ones/].map((r) => r.test(text))).toEqual([
      true,
      true,
      true,
    ]);
  });

  it("names where a key known from elsewhere came from", () => {
    expect(mismatch({ expectation: { from: "known", source: 'recorded at observedHostKeys.ha1 in the state of DrbdResource "r0"' } })).toContain('DrbdResource "r0"');
  });

  it("says whether a conflict was found before connecting", () => {
    const before = new HostKeyConflictError("ha1:22", { key: key("A"), source: "a" }, { key: key("B"), source: "b" }).message;
    const after = new HostKeyConflictError("ha1:22", { key: key("A"), source: "a" }, { key: key("B"), source: "b" }, true).message;
    expect([before.includes("nothing was sent"), after.includes("had already logged in")]).toEqual([true, true]);
  });
});
