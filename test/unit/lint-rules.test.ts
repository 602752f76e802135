/**
 * `npm run lint`'s rules fail on what they are for: a pure module that loads ssh2 or the Pulumi SDK,
 * directly or through the layer that runs commands, and a shell line ShellCheck objects to.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

jest.setTimeout(120_000);

const repo = path.resolve(__dirname, "..", "..");

function run(command: string, args: string[]): { code: number | null; output: string } {
  const r = spawnSync(command, args, { cwd: repo, encoding: "utf8" });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

/** depcruise over one probe module written into provider/lvm/, as a pure module there would be. */
function cruise(source: string): { code: number | null; output: string } {
  const file = path.join(repo, "provider", "lvm", `zz-lint-probe-${process.pid}-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, source);
  try {
    return run(path.join(repo, "node_modules", ".bin", "depcruise"), ["--config", ".dependency-cruiser.cjs", "--output-type", "err", path.relative(repo, file)]);
  } finally {
    rmSync(file, { force: true });
  }
}

describe("the import rules", () => {
  it("refuse a pure module that loads ssh2", () => {
    const r = cruise('import { Client } from "ssh2";\nexport const client = Client;\n');
    expect([r.code !== 0, /pure-no-io: provider\/lvm\/zz-lint-probe.* → node_modules\/ssh2\//.test(r.output)]).toEqual([true, true]);
  });
  it("refuse a pure module that requires the Pulumi SDK", () => {
    const r = cruise('export const sdk = () => require("@pulumi/pulumi");\n');
    expect([r.code !== 0, /pure-no-io: .* → node_modules\/@pulumi\/pulumi\//.test(r.output)]).toEqual([true, true]);
  });
  it("refuse a pure module that imports the SSH layer, which loads ssh2 for it", () => {
    const r = cruise("import { connect } from '../ssh/pool';\nexport const open = connect;\n");
    expect([r.code !== 0, /pure-no-layer: .* → provider\/ssh\/pool\.ts/.test(r.output)]).toEqual([true, true]);
  });
  it("allow a pure module to import the SDK's types", () => {
    const r = cruise('import type * as pulumi from "@pulumi/pulumi";\nexport type Name = pulumi.Input<string>;\n');
    expect([r.code, r.output]).toEqual([0, expect.stringContaining("no dependency violations")]);
  });
  it("hold for the repository as it is", () => {
    const r = run(path.join(repo, "node_modules", ".bin", "depcruise"), ["--config", ".dependency-cruiser.cjs", "--output-type", "err", "provider", "components", "cli", "index.ts"]);
    expect([r.code, r.output]).toEqual([0, expect.stringContaining("no dependency violations")]);
  });
});

describe("the shell lint", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "lint-shell-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("fails on an unquoted expansion and passes its quoted form", () => {
    const bad = path.join(dir, "bad.sh");
    const good = path.join(dir, "good.sh");
    writeFileSync(bad, '#!/bin/sh\nfile=$1\nrm $file\n');
    writeFileSync(good, '#!/bin/sh\nfile=$1\nrm -- "$file"\n');
    const [b, g] = [run("bash", ["scripts/lint-shell.sh", bad]), run("bash", ["scripts/lint-shell.sh", good])];
    expect([b.code !== 0, /SC2086/.test(b.output), g.code, g.output]).toEqual([true, true, 0, ""]);
  });
});
