/**
 * Whether tests that need the real Pulumi engine run, skip or fail (test/support/engine.ts): a run
 * that asked for the engine must never pass by skipping it.
 */
import { engineVerdict, type EngineAvailability } from "../support/engine";

const missing: EngineAvailability = { ok: false, reason: "go: command not found" };
const found: EngineAvailability = { ok: true, pulumiPath: "/bin/pulumi", binDir: "/bin", version: "3.248.0" };

describe("the engine verdict", () => {
  it("runs wherever the engine is, required or not", () => {
    expect([engineVerdict(found, {}), engineVerdict(found, { CI: "true", PULUMI_XEN_HA_REQUIRE_ENGINE: "1" })]).toEqual([
      { action: "run" },
      { action: "run" },
    ]);
  });

  it("lets a developer's plain jest run skip a missing engine, with the reason", () => {
    expect(engineVerdict(missing, { CI: "false", PULUMI_XEN_HA_REQUIRE_ENGINE: "" })).toEqual({ action: "skip", reason: "go: command not found" });
  });

  it("fails a CI run whose engine is missing, naming the reason", () => {
    expect(engineVerdict(missing, { CI: "true" })).toEqual({
      action: "fail",
      reason: "the Pulumi engine is required (CI=true) but not available: go: command not found",
    });
  });

  it("fails a run of test:engine, test:lab or test:all whose engine is missing", () => {
    expect(engineVerdict(missing, { PULUMI_XEN_HA_REQUIRE_ENGINE: "1" })).toEqual({
      action: "fail",
      reason: "the Pulumi engine is required (PULUMI_XEN_HA_REQUIRE_ENGINE=1, as npm run test:engine, test:lab and test:all set it) but not available: go: command not found",
    });
  });
});
