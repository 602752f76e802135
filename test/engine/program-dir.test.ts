/**
 * A program directory (Pulumi.yaml + index.ts) run by the Node.js language host
 * (pulumi-language-nodejs, built by scripts/pulumi-install.sh), through the Automation API and
 * through the CLI by hand with the environment that scripts/lab-env.sh prints.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ENGINE_TIMEOUT_MS,
  EngineStack,
  changeCount,
  changesOnly,
  createEngineStack,
  describeWithEngine,
  linkNodeModules,
  repoRoot,
} from "../support/engine";

const verbose = !!process.env.ENGINE_VERBOSE;
const onOutput = verbose ? (s: string) => process.stdout.write(s) : undefined;
const TYPE = "pulumi-nodejs:dynamic/xenHaTest:TestFile";

/** Writes a TypeScript program using the TestFile fixture into a new temp dir. */
function writeProgram(project: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-program-"));
  fs.writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    `name: ${project}\nruntime: nodejs\ndescription: engine test program\n`,
  );
  const fixture = path.join(repoRoot, "test", "engine", "fixtures", "test-file");
  fs.writeFileSync(
    path.join(dir, "index.ts"),
    [
      `import * as pulumi from "@pulumi/pulumi";`,
      `import { TestFile } from ${JSON.stringify(fixture)};`,
      `const cfg = new pulumi.Config();`,
      `const f = new TestFile("greeting", {`,
      `  dir: cfg.require("dir"), name: "greeting.txt", content: cfg.require("content"), token: cfg.requireSecret("token"),`,
      `});`,
      `export const path = f.path;`,
      `export const providerCwd = f.providerCwd;`,
      `export const token = f.token;`,
      ``,
    ].join("\n"),
  );
  fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: project, main: "index.ts" }, null, 2));
  linkNodeModules(dir);
  return dir;
}

describeWithEngine("a program directory through the Node.js language host", () => {
  jest.setTimeout(ENGINE_TIMEOUT_MS);

  let programDir: string;
  let dataDir: string;
  let stack: EngineStack;
  const token = `tok-${Math.random().toString(36).slice(2)}-plaintext`;

  beforeAll(async () => {
    programDir = writeProgram("engine-program");
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-data-"));
    stack = await createEngineStack({
      workDir: programDir,
      stackName: "dev",
      config: { dir: dataDir, content: "from a program dir", token: { value: token, secret: true } },
      onOutput,
    });
  });

  afterAll(async () => {
    await stack?.dispose();
    for (const d of [programDir, dataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it("up runs the TypeScript program and creates the resource", async () => {
    const r = await stack.up();
    expect(changesOnly(r.changes)).toEqual({ create: 2 });
    expect(r.steps.map((s) => [s.op, s.type])).toEqual([["create", TYPE]]);
    expect(fs.readFileSync(path.join(dataDir, "greeting.txt"), "utf8")).toBe("from a program dir");
    expect(r.rawOutputs.token).toEqual({ value: token, secret: true });
    // The engine starts the dynamic provider in the program's directory.
    expect(fs.realpathSync(String(r.outputs.providerCwd))).toBe(fs.realpathSync(programDir));
    expect(stack.readStateFile()).not.toContain(token);
  });

  it("a second up and a preview report zero changes", async () => {
    expect(changeCount((await stack.up()).changes)).toBe(0);
    expect(changeCount((await stack.preview()).changes)).toBe(0);
  });

  it("the CLI by hand (pulumi preview --diff) sees a config change as that one update", async () => {
    await stack.setConfig({ content: "changed" });
    const r = await stack.cli(["preview", "--diff", "--stack", "dev", "--color", "never"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/~ content\s*:\s*"from a program dir" => "changed"/);
    expect(r.stdout).toMatch(/~ 1 to update/);
    expect(r.stdout).not.toContain(token);
  });

  it("refresh and destroy", async () => {
    expect(changeCount((await stack.refresh()).changes)).toBe(0);
    const d = await stack.destroy();
    expect(changesOnly(d.changes)).toEqual({ delete: 2 });
    expect(fs.existsSync(path.join(dataDir, "greeting.txt"))).toBe(false);
  });
});

describeWithEngine("npm run lab:env: the CLI by hand against a lab backend", () => {
  jest.setTimeout(ENGINE_TIMEOUT_MS);

  let labDir: string;
  let programDir: string;
  let dataDir: string;

  beforeAll(() => {
    labDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-lab-"));
    programDir = writeProgram("lab-program");
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-data-"));
  });

  afterAll(() => {
    for (const d of [labDir, programDir, dataDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  /** Runs a bash script after `eval "$(bash scripts/lab-env.sh)"`, in the program dir. */
  function sh(script: string): string {
    return execFileSync("bash", ["-c", `set -euo pipefail\neval "$(bash ${JSON.stringify(path.join(repoRoot, "scripts", "lab-env.sh"))})"\n${script}`], {
      cwd: programDir,
      env: { ...process.env, XEN_HA_LAB_DIR: labDir, PATH: "/usr/local/bin:/usr/bin:/bin" },
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  it("prints exports for an offline file backend in the lab's state dir", () => {
    const out = execFileSync("bash", [path.join(repoRoot, "scripts", "lab-env.sh")], {
      env: { ...process.env, XEN_HA_LAB_DIR: labDir },
      encoding: "utf8",
    });
    expect(out).toContain(`export PULUMI_BACKEND_URL=file://${fs.realpathSync(labDir)}/state`);
    expect(out).toMatch(/^export PULUMI_SKIP_UPDATE_CHECK=true$/m);
    expect(out).toMatch(/^export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true$/m);
    const pass = /^export PULUMI_CONFIG_PASSPHRASE_FILE=(.*)$/m.exec(out)?.[1];
    expect(pass).toBeDefined();
    expect(fs.statSync(pass!).mode & 0o777).toBe(0o600);
    expect(path.relative(repoRoot, pass!).startsWith("..")).toBe(true);
    expect(fs.existsSync(path.join(labDir, "state"))).toBe(true);
  });

  it("pulumi up, then preview --diff --stack lab shows the change", () => {
    const up = sh(
      [
        "pulumi version",
        "pulumi stack init lab --non-interactive",
        `pulumi config set --stack lab dir ${JSON.stringify(dataDir)}`,
        "pulumi config set --stack lab content one",
        "pulumi config set --stack lab --secret token s3cr3t-by-hand",
        "pulumi up --yes --stack lab --non-interactive --color never",
        "pulumi config set --stack lab content two",
        "pulumi preview --diff --stack lab --non-interactive --color never",
      ].join("\n"),
    );
    expect(up).toMatch(/^v\d+\.\d+\.\d+$/m);
    expect(up).toMatch(/\+ 2 created/);
    expect(up).toMatch(/~ content\s*:\s*"one" => "two"/);
    expect(fs.readFileSync(path.join(dataDir, "greeting.txt"), "utf8")).toBe("one");
    const stateFiles = execFileSync("find", [path.join(labDir, "state"), "-name", "lab.json"], { encoding: "utf8" }).trim();
    expect(stateFiles).not.toBe("");
    expect(fs.readFileSync(stateFiles.split("\n")[0]!, "utf8")).not.toContain("s3cr3t-by-hand");
    const down = sh("pulumi destroy --yes --stack lab --non-interactive --color never\npulumi stack rm --yes lab");
    expect(down).toMatch(/- 2 deleted/);
    expect(fs.existsSync(path.join(dataDir, "greeting.txt"))).toBe(false);
  });
});
