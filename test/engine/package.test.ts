/**
 * The package as users get it: `npm pack`, installed with a plain `npm install` into separate
 * program directories, run by the real engine through the Node.js language host. Preview runs
 * every resource's `check` in the dynamic provider process, which loads the implementation from
 * the installed package.
 *
 * Two programs: one on the SDK this repository pins, and one on the oldest SDK the peer
 * dependency accepts (`^3.52.0`: 3.52.0 is the first whose `dynamic.Resource` takes the type name
 * that makes these resources `pulumi-nodejs:dynamic/xenha:<Kind>`; on 3.51 every one of them is a
 * `pulumi-nodejs:dynamic:Resource`, so its URNs would change with the SDK).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ENGINE_TIMEOUT_MS,
  createEngineStack,
  describeWithEngine,
  installProgram,
  installedVersion,
  packPackage,
  repoRoot,
  type EngineStack,
} from "../support/engine";

jest.setTimeout(ENGINE_TIMEOUT_MS);

const PINNED_SDK = installedVersion(repoRoot, "@pulumi/pulumi");
const OLDEST_SDK = "3.52.0";

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { VolumeGroup, LogicalVolume } = require("pulumi-xen-ha");
const config = new pulumi.Config();
const connection = { host: "192.0.2.10", privateKey: config.requireSecret("sshKey") };
const vg = new VolumeGroup("vg", { connection, name: "vg", devices: [config.require("device")] });
new LogicalVolume("test-disk", { connection, volumeGroup: vg.name, name: "test-disk", size: "5G" });
`;
const CONFIG = { device: "/dev/sda3", sshKey: { value: "not-a-real-key", secret: true } };

let root: string;
let tarball: string;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-consumer-"));
  tarball = packPackage(root);
});

afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

/** A program directory with PROGRAM, whose package.json depends on `sdk` and the packed package. */
function program(sdk: string): string {
  const dir = path.join(root, `sdk-${sdk}`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
  fs.writeFileSync(path.join(dir, "index.js"), PROGRAM);
  installProgram(dir, { "@pulumi/pulumi": sdk, "pulumi-xen-ha": `file:${tarball}` });
  return dir;
}

/** The dynamic resources a preview announced, as "op type". */
const dynamicSteps = (steps: { op: string; type: string }[]) =>
  steps.filter((s) => s.type.startsWith("pulumi-nodejs:dynamic")).map((s) => `${s.op} ${s.type}`).sort();

describe("the packed package", () => {
  it("ships compiled JavaScript and type declarations, and neither sources nor tests", () => {
    const files = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n").filter(Boolean);
    expect([
      files.includes("package/dist/index.js"),
      files.includes("package/dist/index.d.ts"),
      files.includes("package/dist/provider/runtime.js"),
      files.some((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")),
      files.some((f) => f.includes("/test/")),
    ]).toEqual([true, true, true, false, false]);
  });

  it("takes @pulumi/pulumi as a peer from the oldest SDK tested below, up to the next major", () => {
    const manifest = JSON.parse(execFileSync("tar", ["-xzOf", tarball, "package/package.json"], { encoding: "utf8" })) as {
      peerDependencies?: Record<string, string>;
    };
    expect(manifest.peerDependencies).toEqual({ "@pulumi/pulumi": `^${OLDEST_SDK}` });
  });
});

describeWithEngine(`the packed package in a program on @pulumi/pulumi ${PINNED_SDK}`, () => {
  let dir: string;
  let stack: EngineStack;

  beforeAll(() => {
    dir = program(PINNED_SDK);
  });

  afterAll(async () => {
    await stack?.dispose();
  });

  it("previews under the real engine with the provider loaded from the installed package", async () => {
    stack = await createEngineStack({ workDir: dir, config: CONFIG });
    const preview = await stack.preview();
    expect(dynamicSteps(preview.steps)).toEqual([
      "create pulumi-nodejs:dynamic/xenha:LogicalVolume",
      "create pulumi-nodejs:dynamic/xenha:VolumeGroup",
    ]);
  });

  it("reports bad input by field, before anything runs", async () => {
    await stack.setConfig({ device: "sda3" });
    const failure = await stack.preview().then(() => "preview succeeded", (e: Error) => e.message);
    expect(failure).toMatch(/property devices\[0\] .*has a problem: must be a block device path/);
  });
});

describeWithEngine(`the packed package in a program on the oldest SDK it supports, @pulumi/pulumi ${OLDEST_SDK}`, () => {
  let dir: string;
  let stack: EngineStack;

  afterAll(async () => {
    await stack?.dispose();
  });

  it("installs beside that SDK with a plain npm install, and previews under the real engine", async () => {
    // An exact peer pin would make this install fail with ERESOLVE.
    dir = program(OLDEST_SDK);
    stack = await createEngineStack({ workDir: dir, config: CONFIG });
    const preview = await stack.preview();
    expect([installedVersion(dir, "@pulumi/pulumi"), dynamicSteps(preview.steps)]).toEqual([
      OLDEST_SDK,
      ["create pulumi-nodejs:dynamic/xenha:LogicalVolume", "create pulumi-nodejs:dynamic/xenha:VolumeGroup"],
    ]);
  });
});
