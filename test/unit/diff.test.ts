import { deepEqual, diffInputs, nested } from "../../provider/diff";
import { connectionRule } from "../../provider/lifecycle";
import { UNKNOWN } from "../../provider/inputs";

const conn = { host: "10.1.1.100", port: 22, user: "root", privateKey: "k", sudo: false, dialTimeoutSeconds: 20 };

describe("property diffs", () => {
  it("reports nothing when inputs are equal in another key order", () => {
    expect(diffInputs({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }, { a: "update" }).changes).toBe(false);
  });

  it("names a replace only for the property that needs it", () => {
    expect(diffInputs({ name: "a", size: 1 }, { name: "b", size: 2 }, { name: "replace", size: "update" })).toEqual({
      changes: true,
      replaces: ["name"],
      updates: ["size"],
    });
  });

  it("treats a value unknown during preview as a change", () => {
    expect(diffInputs({ name: "a" }, { name: UNKNOWN }, { name: "update" }).updates).toEqual(["name"]);
  });

  it("ignores outputs that have no rule", () => {
    expect(diffInputs({ name: "a", sizeBytes: 5 }, { name: "a" }, { name: "replace" }).changes).toBe(false);
  });

  it("a new SSH key for the same host is an update", () => {
    expect(connectionRule(conn, { ...conn, privateKey: "other" })).toBe("update");
  });

  it("the same machine reached at another address is an update (its recorded host key proves it is the same)", () => {
    expect(connectionRule(conn, { ...conn, host: "ha1.domain.local" })).toBe("update");
  });

  it("nested rules take the strongest change", () => {
    expect(nested({ a: "update", b: "replace" })({ a: 1, b: 1 }, { a: 2, b: 2 })).toBe("replace");
  });

  it("a key holding undefined equals a missing key", () => {
    expect(deepEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });
});
