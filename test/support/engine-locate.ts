/**
 * Where the Pulumi CLI is for tests, and whether a block of engine tests runs, skips or fails
 * without it. The CLI is the one `scripts/pulumi-install.sh` finds or builds; nothing is downloaded.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation";

/** The repository's root (where package.json and node_modules are). */
export const repoRoot: string = path.resolve(__dirname, "..", "..");

/** Timeouts to hand to jest for engine tests: the first operation of a stack starts the CLI and plugins. */
export const ENGINE_TIMEOUT_MS = 10 * 60_000;
/** For lab tests whose operations (DRBD sync, DomU migration) take many minutes. */
export const LAB_TIMEOUT_MS = 60 * 60_000;


/** Where the engine is, or why it is not. */
export interface EngineAvailability {
  ok: boolean;
  /** Why the engine cannot be used (only when `ok` is false). */
  reason?: string;
  /** Absolute path of the `pulumi` binary (when `ok`). */
  pulumiPath?: string;
  /** The directory of `pulumi`, `pulumi-language-nodejs` and `pulumi-resource-pulumi-nodejs` (when `ok`). */
  binDir?: string;
  /** The CLI's version, e.g. "3.248.0" (when `ok`). */
  version?: string;
}

let availability: EngineAvailability | undefined;

/**
 * Finds the engine, building it if needed (`scripts/pulumi-install.sh --quiet`: instant when built,
 * many minutes on a fresh machine, its progress on stderr). The answer is computed once per process.
 *
 * `PULUMI_XEN_HA_NO_ENGINE=<reason>` forces `{ ok: false, reason }` (to try the skip or fail path).
 * `PULUMI_XEN_HA_NO_BUILD=1` only looks for a built CLI and never starts a build.
 */
export function engineAvailable(): EngineAvailability {
  if (availability) return availability;
  availability = findEngine();
  return availability;
}

function findEngine(): EngineAvailability {
  const forced = process.env.PULUMI_XEN_HA_NO_ENGINE;
  if (forced) return { ok: false, reason: `PULUMI_XEN_HA_NO_ENGINE: ${forced}` };
  const script = path.join(repoRoot, "scripts", "pulumi-install.sh");
  let pulumiPath: string;
  // The script's progress (a build takes minutes) goes to our stderr as it happens, and to a log
  // whose tail becomes the reason if it fails.
  const log = path.join(os.tmpdir(), `pulumi-xen-ha-install-${process.pid}.log`);
  try {
    const env = { ...process.env };
    if (process.env.PULUMI_XEN_HA_NO_BUILD) env.PULUMI_INSTALL_NO_BUILD = "1";
    const out = execFileSync("bash", ["-c", 'bash "$0" --quiet 2> >(tee "$1" >&2); rc=$?; wait $! 2>/dev/null; exit $rc', script, log], {
      cwd: repoRoot,
      env,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
      maxBuffer: 64 * 1024 * 1024,
    });
    const lines = out.trim().split("\n");
    pulumiPath = lines[lines.length - 1] ?? "";
  } catch (e) {
    const stderr = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim() : "";
    const tail = stderr.split("\n").slice(-6).join(" | ");
    return {
      ok: false,
      reason: `the Pulumi CLI could not be found or built (npm run pulumi:install): ${tail || (e as Error).message}`,
    };
  } finally {
    fs.rmSync(log, { force: true });
  }
  if (!path.isAbsolute(pulumiPath) || !fs.existsSync(pulumiPath)) {
    return { ok: false, reason: `scripts/pulumi-install.sh printed no usable path (got '${pulumiPath}')` };
  }
  const binDir = path.dirname(pulumiPath);
  let version: string;
  try {
    version = execFileSync(pulumiPath, ["version"], {
      encoding: "utf8",
      env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    })
      .trim()
      .replace(/^v/, "");
  } catch (e) {
    return { ok: false, reason: `${pulumiPath} version failed: ${(e as Error).message}` };
  }
  return { ok: true, pulumiPath, binDir, version };
}

export function requireEngine(): Required<Pick<EngineAvailability, "pulumiPath" | "binDir" | "version">> {
  const a = engineAvailable();
  if (!a.ok || !a.pulumiPath || !a.binDir || !a.version) {
    throw new Error(`the Pulumi engine is not available: ${a.reason ?? "unknown reason"}`);
  }
  return { pulumiPath: a.pulumiPath, binDir: a.binDir, version: a.version };
}

let commandPromise: Promise<PulumiCommand> | undefined;

/** The Automation API's handle on the CLI (`PulumiCommand.get`, which never downloads). */
export function pulumiCommand(): Promise<PulumiCommand> {
  if (!commandPromise) {
    const { binDir, version } = requireEngine();
    // PulumiCommand.get({ root }) runs `<root>/bin/pulumi`; `version` raises the minimum it accepts.
    const opts: Parameters<typeof PulumiCommand.get>[0] = { root: path.dirname(binDir) };
    if (path.basename(binDir) === "bin") {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const semver = require("semver") as typeof import("semver");
      opts!.version = new semver.SemVer(version);
    }
    commandPromise =
      path.basename(binDir) === "bin" ? PulumiCommand.get(opts) : PulumiCommand.get(); // else: `pulumi` on PATH
  }
  return commandPromise;
}

/** What a block of tests that needs the engine does: run, or skip or fail with the reason. */
export type EngineVerdict = { action: "run" } | { action: "skip" | "fail"; reason: string };

/**
 * Why this run requires the engine, or undefined when a developer's plain `npx jest` may skip
 * without it. CI (`CI=true`) and the npm scripts that exist to run the engine (`test:engine`,
 * `test:lab`, `test:all` set `PULUMI_XEN_HA_REQUIRE_ENGINE=1`) must never pass by skipping.
 */
export function engineRequiredBy(env: NodeJS.ProcessEnv): string | undefined {
  if (isSet(env.PULUMI_XEN_HA_REQUIRE_ENGINE)) return `PULUMI_XEN_HA_REQUIRE_ENGINE=${env.PULUMI_XEN_HA_REQUIRE_ENGINE}, as npm run test:engine, test:lab and test:all set it`;
  if (isSet(env.CI)) return `CI=${env.CI}`;
  return undefined;
}

/** Run where the engine is; where it is not, fail when the run requires it, else skip. */
export function engineVerdict(availability: EngineAvailability, env: NodeJS.ProcessEnv): EngineVerdict {
  if (availability.ok) return { action: "run" };
  const reason = availability.reason ?? "unknown reason";
  const requiredBy = engineRequiredBy(env);
  if (requiredBy) return { action: "fail", reason: `the Pulumi engine is required (${requiredBy}) but not available: ${reason}` };
  return { action: "skip", reason };
}

function isSet(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false", "no"].includes(value.trim().toLowerCase());
}

/**
 * `describe` for tests that need the engine. Where it is unavailable, a run that requires it (see
 * `engineRequiredBy`) reports the block as one failed test whose error is the reason; any other
 * run reports it as one skipped test whose name carries the reason ("skipped: <reason>"), and
 * logs the reason.
 */
export function describeWithEngine(name: string, fn: () => void): void {
  const verdict = engineVerdict(engineAvailable(), process.env);
  switch (verdict.action) {
    case "run":
      describe(name, fn);
      return;
    case "fail":
      describe(name, () => {
        it("has the Pulumi engine it needs", () => {
          throw new Error(verdict.reason);
        });
      });
      return;
    case "skip":
      describe(name, () => {
        process.stderr.write(`[engine] ${name}: skipped: ${verdict.reason}\n`);
        it.skip(`skipped: ${verdict.reason}`, () => undefined);
      });
      return;
    default: {
      const unreachable: never = verdict;
      throw new Error(`unknown verdict ${JSON.stringify(unreachable)}`);
    }
  }
}

