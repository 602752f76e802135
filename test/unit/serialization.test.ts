import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { providerFor } from "../../provider/shim";
import type { ResourceKind } from "../../provider/runtime";

const repo = path.resolve(__dirname, "../..");
const kinds: ResourceKind[] = ["VolumeGroup", "LogicalVolume", "DrbdResource", "NodeNetwork", "HeartbeatCluster", "XenDomU", "XenMigrationTrust", "XenToolsImage", "CorosyncCluster", "PacemakerConfig"];

const xenHosts = ["ha1", "ha2"].map((n, i) => ({ name: n, connection: { host: n, password: "p" }, crossoverAddress: `192.168.1.${100 + i}` }));

const validInputs: Record<ResourceKind, Record<string, unknown>> = {
  VolumeGroup: { connection: { host: "ha1", password: "p" }, name: "vg", devices: ["/dev/vdb"] },
  LogicalVolume: { connection: { host: "ha1", password: "p" }, volumeGroup: "vg", name: "test-disk", size: "5G" },
  DrbdResource: {
    name: "test-disk",
    initialSyncSource: "ha1.domain.local",
    nodes: ["ha1", "ha2"].map((n, i) => ({
      connection: { host: n, password: "p" },
      hostname: `${n}.domain.local`,
      address: `192.168.1.${100 + i}`,
      device: "/dev/drbd1",
      disk: "/dev/vg/test-disk",
      metaDisk: { device: "/dev/vg/meta", index: 0 },
    })),
  },
  NodeNetwork: {
    connection: { host: "ha1", password: "p" },
    hostname: "ha1.domain.local",
    public: { address: "10.1.1.100" },
    crossover: { address: "192.168.1.100" },
    peer: { hostname: "ha2.domain.local", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
  },
  HeartbeatCluster: {
    nodes: ["ha1", "ha2"].map((n, i) => ({
      connection: { host: n, password: "p" },
      name: `${n}.domain.local`,
      publicAddress: `10.1.1.${100 + i}`,
      crossoverAddress: `192.168.1.${100 + i}`,
    })),
    authKey: "SecretKey123!!!",
  },
  XenDomU: {
    name: "test",
    hosts: xenHosts,
    runOn: "ha1",
    kernel: "/boot/vmlinuz",
    disks: [{ drbd: "test-disk", vdev: "xvda2" }],
  },
  XenMigrationTrust: { hosts: xenHosts },
  XenToolsImage: { connection: { host: "ha1", password: "p" }, name: "test", ip: "10.1.1.50" },
  CorosyncCluster: {
    clusterName: "xen-ha",
    nodes: ["ha1", "ha2"].map((n, i) => ({ connection: { host: n, password: "p" }, name: `${n}.domain.local`, addresses: [`10.1.1.${100 + i}`] })),
    authKey: "k".repeat(128),
  },
  PacemakerConfig: {
    nodes: ["ha1", "ha2"].map((n, i) => ({ connection: { host: n, password: "p" }, name: `${n}.domain.local`, migrationAddress: `192.168.1.${100 + i}` })),
    allowNoFencing: true,
    guests: [{ name: "test", home: "ha1.domain.local" }],
  },
};

async function serialized(kind: ResourceKind): Promise<string> {
  const provider = providerFor(kind);
  // The same call pulumi.dynamic.Resource makes.
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

/** Loads the serialized provider the way the engine's provider process does and runs its check. */
function checkInFreshProcess(text: string, inputs: Record<string, unknown>): unknown {
  const program = `
    const provider = require("require-from-string")(process.env.PROVIDER_TEXT).handler();
    provider.check({}, JSON.parse(process.env.INPUTS)).then((r) => process.stdout.write(JSON.stringify(r)));`;
  const out = execFileSync(process.execPath, ["-e", program], {
    cwd: repo,
    env: { ...process.env, PROVIDER_TEXT: text, INPUTS: JSON.stringify(inputs) },
    encoding: "utf8",
  });
  return JSON.parse(out);
}

describe("serialized providers", () => {
  beforeAll(() => {
    if (!existsSync(path.join(repo, "dist/provider/runtime.js"))) throw new Error("run `npm run build` first: the provider process loads the compiled package");
  });

  it.each(kinds)("%s serializes to a small shim that captures nothing but its kind", async (kind) => {
    const text = await serialized(kind);
    expect([text.length < 4000, /ssh2|zod|readFileSync/.test(text)]).toEqual([true, false]);
  });

  it.each(kinds)("%s works after deserialization in a fresh process", async (kind) => {
    const result = checkInFreshProcess(await serialized(kind), validInputs[kind]) as { failures: unknown[]; inputs: Record<string, unknown> };
    expect([result.failures, JSON.stringify(result.inputs).includes('"port":22')]).toEqual([[], true]);
  });
});

describe("a create cut short", () => {
  it("keeps the serialized provider in the properties the engine records", async () => {
    const { implementation } = await import("../../provider/runtime");
    const { PartialCreateError } = await import("../../provider/lifecycle");
    const lifecycle = require("../../provider/lvm/volume-group").volumeGroupLifecycle;
    const original = lifecycle.create;
    lifecycle.create = async () => {
      throw new PartialCreateError("vg", { name: "vg" }, new Error("cut short"));
    };
    try {
      const error = await implementation("VolumeGroup").create({ __provider: "serialized", name: "vg" }).catch((e: unknown) => e);
      expect((error as { properties: Record<string, unknown> }).properties).toEqual({ name: "vg", __provider: "serialized" });
    } finally {
      lifecycle.create = original;
    }
  });
});
