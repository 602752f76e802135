/**
 * The example program at the top of the repository (Pulumi.yaml → examples/cluster), run by the
 * Node.js language host as `npm run demo` and a reviewer's `pulumi preview` run it: its lab stack's
 * config is previewed against a lab connection file whose nodes do not exist, so any step that
 * reached for a host would fail.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENGINE_TIMEOUT_MS, EngineStack, changesOnly, createEngineStack, describeWithEngine, repoRoot } from "../support/engine";

const STACK = "example-check";

/** A lab directory as `npm run lab:up` and the demo leave it, for nodes nobody listens for. */
function fakeLabDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-example-lab-"));
  fs.mkdirSync(path.join(dir, "run"));
  const keyPath = path.join(dir, "id_ed25519");
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", keyPath]);
  const node = (n: number) => ({
    host: "127.0.0.1",
    port: 9 + n * 1000,
    user: "root",
    hostKey: "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
    publicAddress: `10.1.1.${99 + n}`,
    crossoverAddress: `192.168.1.${99 + n}`,
    dataDisk: "/dev/vdb",
  });
  fs.writeFileSync(path.join(dir, "run", "lab.json"), JSON.stringify({ privateKeyPath: keyPath, nodes: { ha1: node(1), ha2: node(2) } }));
  fs.writeFileSync(path.join(dir, "heartbeat-authkey"), "example-check-key\n", { mode: 0o600 });
  fs.writeFileSync(path.join(dir, "corosync-authkey"), `${"example-check-corosync-key-".repeat(6)}\n`, { mode: 0o600 });
  return dir;
}

describeWithEngine("the example program at the top of the repository", () => {
  jest.setTimeout(ENGINE_TIMEOUT_MS);

  const configFile = path.join(repoRoot, `Pulumi.${STACK}.yaml`);
  let labDir: string;
  let stack: EngineStack;

  beforeAll(async () => {
    labDir = fakeLabDir();
    fs.copyFileSync(path.join(repoRoot, "examples", "stacks", "Pulumi.lab.yaml"), configFile);
    stack = await createEngineStack({ workDir: repoRoot, stackName: STACK, envVars: { XEN_HA_LAB_DIR: labDir } });
  });

  afterAll(async () => {
    await stack?.dispose();
    fs.rmSync(configFile, { force: true });
    if (labDir) fs.rmSync(labDir, { recursive: true, force: true });
  });

  it("previews the whole cluster of the lab stack from its config alone, reaching no host", async () => {
    const preview = await stack.preview();
    const created = (type: string) => preview.steps.filter((s) => s.op === "create" && s.urn.includes(`${type}::`)).map((s) => s.urn.split("::").pop());
    expect([
      changesOnly(preview.changes),
      created("pulumi-xen-ha:index:TwoNodeXenHa"),
      created("pulumi-nodejs:dynamic/xenha:XenDomU"),
      created("pulumi-nodejs:dynamic/xenha:HeartbeatCluster"),
      created("pulumi-nodejs:dynamic/xenha:NodeNetwork").sort(),
    ]).toEqual([{ create: 14 }, ["cluster"], ["cluster-test"], ["cluster-heartbeat"], ["cluster-ha1-network", "cluster-ha2-network"]]);
  });
});

describeWithEngine("the example program's Pacemaker lab stack", () => {
  jest.setTimeout(ENGINE_TIMEOUT_MS);

  const stackName = `${STACK}-pacemaker`;
  const configFile = path.join(repoRoot, `Pulumi.${stackName}.yaml`);
  let labDir: string;
  let stack: EngineStack;

  beforeAll(async () => {
    labDir = fakeLabDir();
    fs.copyFileSync(path.join(repoRoot, "examples", "stacks", "Pulumi.lab-pacemaker.yaml"), configFile);
    stack = await createEngineStack({ workDir: repoRoot, stackName, envVars: { XEN_HA_LAB_DIR: labDir } });
  });

  afterAll(async () => {
    await stack?.dispose();
    fs.rmSync(configFile, { force: true });
    if (labDir) fs.rmSync(labDir, { recursive: true, force: true });
  });

  it("previews Corosync with the arbiter and Pacemaker after the guest instead of Heartbeat, reaching no host", async () => {
    const preview = await stack.preview();
    const created = (type: string) => preview.steps.filter((s) => s.op === "create" && s.urn.includes(`${type}::`)).map((s) => s.urn.split("::").pop());
    expect([
      changesOnly(preview.changes),
      created("pulumi-nodejs:dynamic/xenha:CorosyncCluster"),
      created("pulumi-nodejs:dynamic/xenha:PacemakerConfig"),
      created("pulumi-nodejs:dynamic/xenha:HeartbeatCluster"),
      /two_node/.test(`${preview.stdout}${preview.stderr}`),
    ]).toEqual([{ create: 15 }, ["cluster-corosync"], ["cluster-pacemaker"], [], false]);
  });
});
