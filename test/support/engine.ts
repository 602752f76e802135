/**
 * The real Pulumi engine for tests, through the Automation API (`@pulumi/pulumi/automation`,
 * `LocalWorkspace`) over a local file backend, offline.
 *
 * - The CLI is the one `scripts/pulumi-install.sh` finds or builds (`npm run pulumi:install`): a
 *   matching `pulumi` on PATH or the cache's `bin/` (pulumi, pulumi-language-nodejs,
 *   pulumi-resource-pulumi-nodejs). Nothing is ever downloaded.
 * - Every stack gets its own temp dir: a file backend (`state/`), a random passphrase file (0600),
 *   a `PULUMI_HOME`, and for inline programs a work dir whose `node_modules` links to this repo's.
 * - Where dynamic providers run: the engine starts the launcher `pulumi-resource-pulumi-nodejs`
 *   (a separate node process) in the project's `main` directory. It resolves
 *   `@pulumi/pulumi/cmd/dynamic-provider` from there, and the serialized provider's `require(...)`s
 *   (e.g. `require("pulumi-xen-ha/runtime")`) resolve from that process's cwd too. For inline
 *   programs the Automation API's default project says `main: process.cwd()` (the test process's
 *   cwd when the stack was created), so this helper writes the project with `main` = the work dir.
 *   For a program directory it is the directory itself (give it a node_modules, see `linkNodeModules`).
 * - Operations return the engine's own results: change counts (`changeSummary` /
 *   `summary.resourceChanges`), the diff text (`--diff`), the per-resource steps the engine
 *   announced (operation and changed property names), and the stack's outputs.
 *
 * Usage:
 * ```ts
 * import { describeWithEngine, createEngineStack, changeCount } from "../support/engine";
 *
 * describeWithEngine("my resource", () => {
 *   it("converges", async () => {
 *     const s = await createEngineStack({
 *       program: async () => { const r = new MyDynamicResource("r", { ... }); return { id: r.id }; },
 *       config: { "lab:host": "10.0.0.1", "lab:password": { value: "s3cret", secret: true } },
 *       onOutput: process.env.ENGINE_VERBOSE ? (s) => process.stdout.write(s) : undefined,
 *     });
 *     try {
 *       expect((await s.up()).changes).toEqual({ create: 2 });
 *       expect(changeCount((await s.up()).changes)).toBe(0);
 *     } finally {
 *       await s.dispose(); // destroys what is left and removes the temp dirs
 *     }
 *   }, 30 * 60_000);
 * });
 * ```
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  ConfigMap,
  ConfigValue,
  Deployment,
  EngineEvent,
  LocalWorkspace,
  LocalWorkspaceOptions,
  OpMap,
  OutputMap,
  PulumiFn,
  Stack,
  UpdateSummary,
} from "@pulumi/pulumi/automation";
import { pulumiCommand } from "./engine-locate";
import { createEngineEnv, linkNodeModules, type EngineEnv } from "./engine-program";

export * from "./engine-locate";
export * from "./engine-program";

/** A config value: plain string, or `{ value, secret: true }` for an encrypted one. */
export type ConfigInput = string | { value: string; secret?: boolean };

export interface EngineStackOptions {
  /** An inline program (runs in this process). Give this or `workDir`. */
  program?: PulumiFn;
  /**
   * A program directory with Pulumi.yaml (run by pulumi-language-nodejs), or for an inline program
   * the work dir to use (default: a temp dir whose node_modules links to the repo's). Setting
   * config writes `Pulumi.<stack>.yaml` into it; `dispose` removes that file if it created it.
   */
  workDir?: string;
  /** Project name for an inline program (default "xen-ha-test"). */
  projectName?: string;
  /** Stack name (default "test"). */
  stackName?: string;
  /** Config to set before the first operation; keys are "namespace:key" or plain (project namespace). */
  config?: Record<string, ConfigInput>;
  /** Streams the engine's output of every operation (e.g. `(s) => process.stdout.write(s)`). */
  onOutput?: (out: string) => void;
  /** Use this backend directory instead of a fresh temp one (e.g. a lab's state dir). */
  backendDir?: string;
  /** Use this passphrase file instead of a fresh random one. */
  passphraseFile?: string;
  /** Extra environment for the CLI, the language host and the providers. */
  envVars?: Record<string, string>;
  /** Keep the temp dirs after `dispose` (for debugging). Also set by PULUMI_XEN_HA_KEEP_TEMP=1. */
  keepTemp?: boolean;
}

/** One resource step the engine announced (from its `resourcePreEvent`s). */
export interface EngineStep {
  op: string;
  urn: string;
  type: string;
  /**
   * Top-level input names whose values differ between the old and new inputs the engine announced
   * (`__provider` left out; see `providerCodeChanged`). Secret values are announced as "[secret]",
   * so a change of a secret's value alone does not show here (the step's `op` still does).
   */
  changedInputs: string[];
  /** For dynamic resources: the serialized provider code (`__provider`) differs from the state's. */
  providerCodeChanged: boolean;
  /**
   * The provider's own `diffs` / `detailedDiff` (property name -> kind). Dynamic providers never
   * report them (the Node.js dynamic-provider server returns only changes/replaces), so for dynamic
   * resources these are empty: use `changedInputs`.
   */
  diffs: string[];
  detailedDiff: Record<string, string>;
  /** Seconds from the engine announcing the step to its outputs (or failure), by the engine's clock; undefined while it runs. */
  seconds?: number;
}

/** What every operation returns. */
export interface OpResult {
  /** The engine's change counts, e.g. { create: 1 } or { same: 2, update: 1 }. */
  changes: OpMap;
  /**
   * The steps the engine announced, without "same" steps, the stack and provider resources (the
   * default `pulumi:providers:pulumi-nodejs` provider is "updated" whenever stack config changes,
   * since its inputs are the stack's config).
   */
  steps: EngineStep[];
  /** All steps the engine announced, including "same" ones, the stack and providers. */
  allSteps: EngineStep[];
  stdout: string;
  stderr: string;
}
export interface PreviewResult extends OpResult {
  /** The diff text the CLI printed (`--diff`, colours off). */
  diff: string;
}
export interface UpResult extends OpResult {
  /** The diff text (`--diff`). */
  diff: string;
  /** The stack's outputs as plain values (secrets in clear: they are the test's own). */
  outputs: Record<string, unknown>;
  /** The raw outputs with their secret flags. */
  rawOutputs: OutputMap;
  summary: UpdateSummary;
}
export interface RefreshResult extends OpResult {
  summary: UpdateSummary;
}
export interface DestroyResult extends OpResult {
  summary: UpdateSummary;
}

/** Options shared by the operations. */
export interface OpOptions {
  /** Streams this operation's output (in addition to the stack's `onOutput`). */
  onOutput?: (out: string) => void;
  /** Fail if the engine reports any change (the CLI's --expect-no-changes). */
  expectNoChanges?: boolean;
  /** Refresh before the operation (--refresh). */
  refresh?: boolean;
  /** Only these URNs (--target). */
  target?: string[];
  /** Engine parallelism. */
  parallel?: number;
  /** Abort the operation. */
  signal?: AbortSignal;
}

/** Sum of the changes in an OpMap, not counting "same" (0 means the stack is converged). */
export function changeCount(changes: OpMap | undefined): number {
  return Object.entries(changes ?? {})
    .filter(([op]) => op !== "same")
    .reduce((n, [, c]) => n + (c ?? 0), 0);
}

/** The OpMap without the "same" entry and zero counts: `{}` when nothing changes. */
export function changesOnly(changes: OpMap | undefined): OpMap {
  const out: OpMap = {};
  for (const [op, c] of Object.entries(changes ?? {}) as [keyof OpMap, number][]) {
    if (op !== "same" && c) out[op] = c;
  }
  return out;
}

/** A stack on the real engine. Make one with `createEngineStack`. */
export class EngineStack {
  private disposed = false;
  private constructor(
    /** The Automation API stack, for anything not wrapped here. */
    readonly stack: Stack,
    readonly workspace: LocalWorkspace,
    readonly env: EngineEnv,
    /** The program's (or inline program's) work dir. */
    readonly workDir: string,
    private readonly opts: EngineStackOptions,
    private readonly cleanupPaths: string[],
  ) {}

  /** @internal */
  static async create(opts: EngineStackOptions): Promise<EngineStack> {
    if (!opts.program && !opts.workDir) throw new Error("createEngineStack: give `program` or `workDir`");
    const command = await pulumiCommand();
    const env = createEngineEnv({ backendDir: opts.backendDir, passphraseFile: opts.passphraseFile });
    const stackName = opts.stackName ?? "test";
    const cleanupPaths: string[] = [];
    let workDir: string;
    if (opts.workDir) {
      workDir = path.resolve(opts.workDir);
      for (const ext of [".yaml", ".yml", ".json"]) {
        const settings = path.join(workDir, `Pulumi.${stackName}${ext}`);
        if (!fs.existsSync(settings)) cleanupPaths.push(settings);
      }
    } else {
      workDir = path.join(env.root, "work");
      fs.mkdirSync(workDir, { recursive: true });
      linkNodeModules(workDir);
    }
    const wsOpts: LocalWorkspaceOptions = {
      workDir,
      pulumiCommand: command,
      pulumiHome: env.pulumiHome,
      envVars: { ...env.envVars, ...(opts.envVars ?? {}) },
      secretsProvider: "passphrase",
    };
    if (opts.program && !hasProjectFile(workDir)) {
      // The engine starts plugins (the dynamic-provider launcher) in the project's `main` dir. For
      // inline programs the Automation API's default project says `main: process.cwd()`, i.e.
      // wherever the test process happens to be; pin it to the work dir, whose node_modules
      // links to this repo's.
      wsOpts.projectSettings = { name: opts.projectName ?? "xen-ha-test", runtime: "nodejs", main: workDir };
    }
    const stack = opts.program
      ? await LocalWorkspace.createOrSelectStack(
          { stackName, projectName: opts.projectName ?? "xen-ha-test", program: opts.program },
          wsOpts,
        )
      : await LocalWorkspace.createOrSelectStack({ stackName, workDir }, wsOpts);
    const s = new EngineStack(stack, stack.workspace as LocalWorkspace, env, workDir, opts, cleanupPaths);
    if (opts.config) await s.setConfig(opts.config);
    return s;
  }

  /** The stack's name. */
  get name(): string {
    return this.stack.name;
  }

  /** Sets config values (plain or secret); see `ConfigInput`. */
  async setConfig(values: Record<string, ConfigInput>): Promise<void> {
    const map: ConfigMap = {};
    for (const [k, v] of Object.entries(values)) {
      map[k] = typeof v === "string" ? { value: v, secret: false } : { value: v.value, secret: !!v.secret };
    }
    await this.stack.setAllConfig(map);
  }

  /** Reads the stack's config as the CLI reports it (secrets decrypted). */
  async getConfig(): Promise<Record<string, ConfigValue>> {
    return this.stack.getAllConfig();
  }

  /** `pulumi preview --diff`. */
  async preview(o: OpOptions = {}): Promise<PreviewResult> {
    const ev = this.collector();
    const r = await this.stack.preview({ ...this.common(o, ev.onEvent), diff: true, refresh: o.refresh, expectNoChanges: o.expectNoChanges });
    return { changes: r.changeSummary ?? {}, diff: stripAnsi(r.stdout), stdout: r.stdout, stderr: r.stderr, ...ev.result() };
  }

  /** `pulumi up --diff --skip-preview`. */
  async up(o: OpOptions = {}): Promise<UpResult> {
    const ev = this.collector();
    const r = await this.stack.up({ ...this.common(o, ev.onEvent), diff: true, refresh: o.refresh, expectNoChanges: o.expectNoChanges });
    const outputs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r.outputs)) outputs[k] = v.value;
    return {
      changes: r.summary.resourceChanges ?? {},
      diff: stripAnsi(r.stdout),
      outputs,
      rawOutputs: r.outputs,
      summary: r.summary,
      stdout: r.stdout,
      stderr: r.stderr,
      ...ev.result(),
    };
  }

  /** `pulumi refresh` (reads every resource back through its provider's `read`). */
  async refresh(o: OpOptions = {}): Promise<RefreshResult> {
    const ev = this.collector();
    const r = await this.stack.refresh({ ...this.common(o, ev.onEvent), expectNoChanges: o.expectNoChanges });
    return { changes: r.summary.resourceChanges ?? {}, summary: r.summary, stdout: r.stdout, stderr: r.stderr, ...ev.result() };
  }

  /** `pulumi destroy`. */
  async destroy(o: OpOptions = {}): Promise<DestroyResult> {
    const ev = this.collector();
    const r = await this.stack.destroy({ ...this.common(o, ev.onEvent), refresh: o.refresh });
    return { changes: r.summary.resourceChanges ?? {}, summary: r.summary, stdout: r.stdout, stderr: r.stderr, ...ev.result() };
  }

  /** The stack's current outputs as plain values. */
  async outputs(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(await this.stack.outputs())) out[k] = v.value;
    return out;
  }

  /**
   * `pulumi stack export`: the deployment as the engine exports it. Secrets stay encrypted unless
   * `showSecrets` (note: the Automation API's own `stack.exportStack()` always passes
   * `--show-secrets`, i.e. returns secrets in clear).
   */
  async exportState(o: { showSecrets?: boolean } = {}): Promise<Deployment> {
    if (o.showSecrets) return this.stack.exportStack();
    const r = await this.cli(["stack", "export", "--stack", this.name]);
    if (r.code !== 0) throw new Error(`pulumi stack export failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as Deployment;
  }

  /** `pulumi stack import` of a (possibly edited) deployment. */
  async importState(state: Deployment): Promise<void> {
    await this.stack.importStack(state);
  }

  /** The path of the stack's state file in the file backend (`.pulumi/stacks/<project>/<stack>.json[.gz]`). */
  stateFilePath(): string {
    const dir = path.join(this.env.backendDir, ".pulumi", "stacks");
    const names = [`${this.name}.json`, `${this.name}.json.gz`];
    const found: string[] = [];
    const walk = (d: string): void => {
      if (!fs.existsSync(d)) return;
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (names.includes(e.name)) found.push(p);
      }
    };
    walk(dir);
    const project = this.projectName();
    const own = found.find((p) => path.basename(path.dirname(p)) === project) ?? found[0];
    if (!own) throw new Error(`no state file for stack ${this.name} under ${dir}`);
    return own;
  }

  /** The raw text of the state file on disk (what an attacker with the backend would read). */
  readStateFile(): string {
    const p = this.stateFilePath();
    const buf = fs.readFileSync(p);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return p.endsWith(".gz") ? (require("node:zlib") as typeof import("node:zlib")).gunzipSync(buf).toString("utf8") : buf.toString("utf8");
  }

  /** Runs the CLI itself in the stack's work dir with its environment (e.g. `["stack", "ls"]`). */
  async cli(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
    const command = await pulumiCommand();
    const env = { ...process.env, ...this.env.envVars, ...(this.opts.envVars ?? {}) };
    return new Promise((resolve) => {
      execFile(command.command, [...args, "--non-interactive"], { cwd: this.workDir, env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
        resolve({ stdout, stderr, code });
      });
    });
  }

  /**
   * Cleans up: destroys what the stack still manages, removes the stack and the settings file it
   * created, and deletes the temp dirs. With a backend of its own (the default) it destroys and
   * removes by default; with a given `backendDir` (e.g. the lab's) it keeps the stack unless told.
   * Safe to call twice.
   */
  async dispose(o: { destroy?: boolean; removeStack?: boolean } = {}): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const ownBackend = !this.opts.backendDir;
    try {
      if (o.destroy ?? ownBackend) {
        const state = await this.exportState().catch(() => undefined);
        const resources = (state?.deployment as { resources?: unknown[] } | undefined)?.resources ?? [];
        if (resources.length > 0) await this.stack.destroy({ onOutput: this.opts.onOutput });
      }
      if (o.removeStack ?? ownBackend) await this.workspace.removeStack(this.name).catch(() => undefined);
    } finally {
      for (const p of this.cleanupPaths) fs.rmSync(p, { force: true });
      if (!this.opts.keepTemp && !process.env.PULUMI_XEN_HA_KEEP_TEMP) {
        fs.rmSync(this.env.root, { recursive: true, force: true });
      }
    }
  }

  private projectName(): string {
    if (this.opts.program) return this.opts.projectName ?? "xen-ha-test";
    for (const f of ["Pulumi.yaml", "Pulumi.yml"]) {
      const p = path.join(this.workDir, f);
      if (fs.existsSync(p)) {
        const m = /^name:\s*["']?([^"'\s]+)/m.exec(fs.readFileSync(p, "utf8"));
        if (m?.[1]) return m[1];
      }
    }
    return "";
  }

  private common(o: OpOptions, onEvent: (e: EngineEvent) => void) {
    const outs = [this.opts.onOutput, o.onOutput].filter((f): f is (s: string) => void => !!f);
    return {
      color: "never" as const,
      onOutput: outs.length ? (s: string) => outs.forEach((f) => f(s)) : undefined,
      onEvent,
      target: o.target,
      parallel: o.parallel,
      signal: o.signal,
    };
  }

  private collector() {
    const all: EngineStep[] = [];
    const started = new Map<string, { step: EngineStep; at: number }>();
    return {
      onEvent: (e: EngineEvent) => {
        const ended = e.resOutputsEvent?.metadata ?? e.resOpFailedEvent?.metadata;
        if (ended) {
          const step = started.get(ended.urn);
          if (step) step.step.seconds = e.timestamp - step.at;
          return;
        }
        const m = e.resourcePreEvent?.metadata;
        if (!m) return;
        const detailed: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.detailedDiff ?? {})) detailed[k] = String(v.diffKind);
        const olds = (m.old?.inputs ?? {}) as Record<string, unknown>;
        const news = (m.new?.inputs ?? {}) as Record<string, unknown>;
        const differs = (k: string) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]);
        const keys = [...new Set([...Object.keys(olds), ...Object.keys(news)])].sort();
        const step: EngineStep = {
          op: String(m.op),
          urn: m.urn,
          type: m.type,
          changedInputs: m.old && m.new ? keys.filter((k) => k !== "__provider" && differs(k)) : [],
          providerCodeChanged: !!(m.old && m.new) && differs("__provider"),
          diffs: m.diffs ?? [],
          detailedDiff: detailed,
        };
        all.push(step);
        started.set(m.urn, { step, at: e.timestamp });
      },
      result: () => ({
        allSteps: all,
        steps: all.filter(
          (s) => s.op !== "same" && s.type !== "pulumi:pulumi:Stack" && !s.type.startsWith("pulumi:providers:"),
        ),
      }),
    };
  }
}

/** Creates (or selects) a stack for an inline program or a program directory; see `EngineStackOptions`. */
export function createEngineStack(opts: EngineStackOptions): Promise<EngineStack> {
  return EngineStack.create(opts);
}

function hasProjectFile(dir: string): boolean {
  return ["Pulumi.yaml", "Pulumi.yml", "Pulumi.json"].some((f) => fs.existsSync(path.join(dir, f)));
}

/** Removes ANSI colour codes. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}
