/**
 * The real engine end to end: a trivial dynamic resource with a secret input, through
 * `pulumi up` / `preview --diff` / `refresh` / `destroy` (Automation API, file backend, offline).
 * Every assertion is on what the engine itself reports, on the files the provider manages, or on
 * the state file the engine wrote.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import {
  ENGINE_TIMEOUT_MS,
  EngineStack,
  changeCount,
  changesOnly,
  createEngineStack,
  describeWithEngine,
  engineAvailable,
} from "../support/engine";
import { TestFile } from "./fixtures/test-file";

const verbose = !!process.env.ENGINE_VERBOSE;
const onOutput = verbose ? (s: string) => process.stdout.write(s) : undefined;
const TYPE = "pulumi-nodejs:dynamic/xenHaTest:TestFile";

describeWithEngine("the real Pulumi engine with a dynamic resource (inline program)", () => {
  jest.setTimeout(ENGINE_TIMEOUT_MS);

  const token = `tok-${Math.random().toString(36).slice(2)}-plaintext`;
  let dataDir: string;
  let stack: EngineStack;
  let content = "hello v1";

  const program = async () => {
    const cfg = new pulumi.Config();
    const f = new TestFile("greeting", {
      dir: dataDir,
      name: "greeting.txt",
      content: cfg.require("content"),
      token: cfg.requireSecret("token"),
    });
    return { path: f.path, size: f.size, token: f.token, providerCwd: f.providerCwd };
  };

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-data-"));
    stack = await createEngineStack({
      program,
      projectName: "engine-test",
      stackName: "dev",
      config: { content, token: { value: token, secret: true } },
      onOutput,
    });
  });

  afterAll(async () => {
    await stack?.dispose();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const file = () => path.join(dataDir, "greeting.txt");

  it("uses the CLI at the SDK's version", () => {
    const a = engineAvailable();
    const sdk = require("@pulumi/pulumi/package.json").version as string;
    expect(a).toMatchObject({ ok: true, version: sdk });
  });

  it("up creates the resource once", async () => {
    // Run from a directory without node_modules: the provider process must not depend on the test
    // process's cwd (the engine starts it in the project's `main` dir, which the helper pins).
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-cwd-"));
    const cwd = process.cwd();
    process.chdir(elsewhere);
    let r;
    try {
      r = await stack.up();
    } finally {
      process.chdir(cwd);
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
    expect(fs.realpathSync(String(r.outputs.providerCwd))).toBe(fs.realpathSync(stack.workDir));
    expect(changesOnly(r.changes)).toEqual({ create: 2 }); // the stack and the file
    expect(r.steps.map((s) => [s.op, s.type])).toEqual([["create", TYPE]]);
    expect(fs.readFileSync(file(), "utf8")).toBe(content);
    // The provider got the secret in clear...
    expect(fs.readFileSync(file() + ".token", "utf8")).toBe(token);
    // ...and the engine kept the output that carries it secret.
    expect(r.outputs).toMatchObject({ path: file(), size: Buffer.byteLength(content), token });
    expect(r.rawOutputs.token.secret).toBe(true);
    expect(r.rawOutputs.path.secret).toBe(false);
  });

  it("a second up reports zero changes", async () => {
    const r = await stack.up();
    expect(changeCount(r.changes)).toBe(0);
    expect(r.changes).toEqual({ same: 2 });
    expect(r.steps).toEqual([]);
  });

  it("preview reports zero changes", async () => {
    const r = await stack.preview();
    expect(changeCount(r.changes)).toBe(0);
    expect(r.changes).toEqual({ same: 2 });
  });

  it("the state file on disk has the secret encrypted, never in plain text", async () => {
    const raw = stack.readStateFile();
    expect(raw).not.toContain(token);
    const state = JSON.parse(raw);
    const res = state.checkpoint.latest.resources.find((r: { type: string }) => r.type === TYPE);
    expect(res).toBeDefined();
    // Secret values are stored as { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext }.
    const sig = "4dabf18193072939515e22adb298388d";
    for (const bag of [res.inputs, res.outputs]) {
      expect(bag.token[sig]).toBe("1b47061264138c4ac30d75fd1eb44270");
      expect(typeof bag.token.ciphertext).toBe("string");
      expect(bag.token.ciphertext.length).toBeGreaterThan(0);
      expect(bag.content).toBe(content);
    }
    // The serialized provider (the code the engine runs for read/delete) is stored in clear: the
    // SDK marks it secret only when the serialized closure captured a secret, and ours captures none.
    expect(typeof res.inputs.__provider).toBe("string");
    expect(res.inputs.__provider).toContain("exports.handler");
    expect(state.checkpoint.latest.secrets_providers.type).toBe("passphrase");
    // The engine's own export keeps it encrypted as well, unless asked for the secrets.
    const exported = JSON.stringify(await stack.exportState());
    expect(exported).not.toContain(token);
    expect(exported).toContain("ciphertext");
    expect(JSON.stringify(await stack.exportState({ showSecrets: true }))).toContain(token);
    // And the stack's config file keeps the config secret encrypted.
    const settings = fs.readFileSync(path.join(stack.workDir, "Pulumi.dev.yaml"), "utf8");
    expect(settings).not.toContain(token);
    expect(settings).toMatch(/engine-test:token:\s+secure:/);
  });

  it("preview --diff after an input change shows exactly that change", async () => {
    const next = "hello v2";
    await stack.setConfig({ content: next });
    const r = await stack.preview();
    expect(changesOnly(r.changes)).toEqual({ update: 1 });
    expect(r.steps).toHaveLength(1);
    expect(r.steps[0]).toMatchObject({ op: "update", type: TYPE, changedInputs: ["content"], providerCodeChanged: false });
    // The CLI's --diff text names the property with its old and new values.
    expect(r.diff).toMatch(/~ content\s*:\s*"hello v1" => "hello v2"/);
    expect(r.diff).not.toMatch(/^\s*[~+-] (dir|name|token|path|size)\s*:/m);
    expect(r.diff).not.toContain(token);
    // Preview changed nothing.
    expect(fs.readFileSync(file(), "utf8")).toBe(content);
    content = next;
  });

  it("up applies the change as an update", async () => {
    const r = await stack.up();
    expect(changesOnly(r.changes)).toEqual({ update: 1 });
    expect(fs.readFileSync(file(), "utf8")).toBe(content);
    expect(r.outputs.size).toBe(Buffer.byteLength(content));
  });

  it("refresh reads the resource back: nothing to change, then the drift made by hand", async () => {
    const clean = await stack.refresh();
    expect(changeCount(clean.changes)).toBe(0);

    fs.writeFileSync(file(), "edited by hand\n");
    const drift = await stack.refresh();
    expect(changesOnly(drift.changes)).toEqual({ update: 1 });
    const state = await stack.exportState();
    const res = (state.deployment.resources as { type: string; outputs: Record<string, unknown> }[]).find(
      (x) => x.type === TYPE,
    );
    expect(res?.outputs.content).toBe("edited by hand\n");

    // The program still says `content`: preview shows the way back, up takes it. Refresh updated
    // the outputs, not the inputs, so no input differs; the provider's diff (which gets the
    // refreshed outputs as `olds`) is what reports the update. Dynamic providers cannot return a
    // detailed diff, so the CLI's --diff marks the resource "(update)" but no property with "~".
    const p = await stack.preview();
    expect(changesOnly(p.changes)).toEqual({ update: 1 });
    expect(p.steps).toHaveLength(1);
    expect(p.steps[0]).toMatchObject({ op: "update", type: TYPE, changedInputs: [] });
    expect(p.diff).toContain(`~ ${TYPE}: (update)`);
    expect(p.diff).not.toMatch(/^\s*~ content/m);
    await stack.up();
    expect(fs.readFileSync(file(), "utf8")).toBe(content);
  });

  it("destroy deletes the resource and its file", async () => {
    const r = await stack.destroy();
    expect(changesOnly(r.changes)).toEqual({ delete: 2 });
    expect(fs.existsSync(file())).toBe(false);
    expect(fs.existsSync(file() + ".token")).toBe(false);
    const state = await stack.exportState();
    expect(state.deployment.resources ?? []).toHaveLength(0);
  });
});
