/**
 * The package as users get it: `npm pack`, installed into a separate program directory, run by the
 * real engine through the Node.js language host. Preview runs every resource's `check` in the
 * dynamic provider process, which loads the implementation from the installed package.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENGINE_TIMEOUT_MS, createEngineStack, describeWithEngine, repoRoot, type EngineStack } from "../support/engine";

jest.setTimeout(ENGINE_TIMEOUT_MS);

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const { VolumeGroup, LogicalVolume } = require("pulumi-xen-ha");
const config = new pulumi.Config();
const connection = { host: "192.0.2.10", privateKey: config.requireSecret("sshKey") };
const vg = new VolumeGroup("vg", { connection, name: "vg", devices: [config.require("device")] });
new LogicalVolume("test-disk", { connection, volumeGroup: vg.name, name: "test-disk", size: "5G" });
`;

describeWithEngine("the packed package in a separate program", () => {
  let dir: string;
  let stack: EngineStack;
  let tarball: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-consumer-"));
    const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: repoRoot, encoding: "utf8" })) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(dir, packed[0]!.filename);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: consumer\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "index.js"), PROGRAM);
    fs.writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", private: true, main: "index.js" }));
    const sdk = path.join(repoRoot, "node_modules", "@pulumi", "pulumi");
    execFileSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball, `@pulumi/pulumi@${require(path.join(sdk, "package.json")).version}`], {
      cwd: dir,
      stdio: "inherit",
    });
  });

  afterAll(async () => {
    await stack?.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

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

  it("previews under the real engine with the provider loaded from the installed package", async () => {
    stack = await createEngineStack({ workDir: dir, config: { device: "/dev/sda3", sshKey: { value: "not-a-real-key", secret: true } } });
    const preview = await stack.preview();
    const resources = preview.steps.filter((s) => s.type.startsWith("pulumi-nodejs:dynamic/xenha:"));
    expect(resources.map((s) => `${s.op} ${s.type}`).sort()).toEqual([
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
