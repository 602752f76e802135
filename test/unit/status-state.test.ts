import { clusterFromDeployment } from "../../cli/status/state";
import { EncryptedSecretsError, kindOfUrn, SECRET_SIG, xenHaResources } from "../../cli/status/deployment";
import { labDeployment } from "./fixtures/status/readings";

const K1 = "SHA256:FAKEha1HostKeyNotRealXXXXXXXXXXXXXXXXXXXXXX";
const K2 = "SHA256:FAKEha2HostKeyNotRealXXXXXXXXXXXXXXXXXXXXXX";

/** The lab deployment with one resource's outputs changed. */
function editedLab(urnEnd: string, edit: (outputs: Record<string, unknown>) => void): unknown {
  const d = labDeployment() as { deployment: { resources: { urn: string; outputs?: Record<string, unknown> }[] } };
  const r = d.deployment.resources.find((x) => x.urn.endsWith(urnEnd))!;
  edit(r.outputs!);
  return d;
}

describe("the cluster as the stack recorded it", () => {
  const cluster = clusterFromDeployment(labDeployment());

  it("reads the kind and name of a dynamic resource from its URN's type part", () => {
    expect(kindOfUrn("urn:pulumi:lab::pulumi-xen-ha-example::pulumi-xen-ha:index:TwoNodeXenHa$pulumi-nodejs:dynamic/xenha:XenDomU::cluster-test")).toEqual({ kind: "XenDomU", name: "cluster-test" });
  });

  it("finds both nodes with their names, addresses, peers and the key each must present", () => {
    expect(cluster.nodes.map(({ connection: _c, ...n }) => n)).toEqual([
      {
        name: "ha1",
        hostname: "ha1.domain.local",
        endpoint: "127.0.0.1:2221",
        hostKey: K1,
        hostKeyFrom: "pinned in NodeNetwork cluster-ha1-network",
        refusal: undefined,
        publicAddress: "10.1.1.100",
        crossoverAddress: "192.168.1.100",
        peer: { name: "ha2", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
      },
      {
        name: "ha2",
        hostname: "ha2.domain.local",
        endpoint: "127.0.0.1:2222",
        hostKey: K2,
        hostKeyFrom: "recorded by NodeNetwork cluster-ha2-network",
        refusal: undefined,
        publicAddress: "10.1.1.101",
        crossoverAddress: "192.168.1.101",
        peer: { name: "ha1", publicAddress: "10.1.1.100", crossoverAddress: "192.168.1.100" },
      },
    ]);
  });

  it("takes the connection, credentials included, from the export's clear-text secret, with the schema's defaults", () => {
    expect(cluster.nodes[0]!.connection).toMatchObject({ host: "127.0.0.1", port: 2221, user: "root", hostKey: K1, sudo: false });
  });

  it("gives a guest Heartbeat's home, and a guest outside Heartbeat its recorded runOn; a resource pending deletion is left out", () => {
    expect(cluster.vms).toEqual([
      { name: "spare", home: "ha2", runOn: "ha2", state: "stopped", resources: [], underHeartbeat: false },
      { name: "test", home: "ha1", runOn: "ha1", state: "running", resources: ["test-disk", "test-swap"], underHeartbeat: true },
    ]);
  });

  it("lists each DRBD resource's minor per node, by which /proc/drbd names it", () => {
    expect(cluster.drbd.map((r) => [r.name, r.nodes.map((n) => `${n.node}:${n.minor}`)])).toEqual([
      ["test-disk", ["ha1:1", "ha2:1"]],
      ["test-swap", ["ha1:2", "ha2:2"]],
    ]);
  });

  it("pairs each Heartbeat node with its resource group", () => {
    expect(cluster.heartbeat?.nodes.map((n) => `${n.node}=${n.group}`)).toEqual(["ha1=xendomainsHA1", "ha2=xendomainsHA2"]);
  });

  it("takes the stack's name from the URNs", () => {
    expect(cluster.stack).toBe("lab");
  });

  it("refuses to connect to a node for which two different host keys are known", () => {
    const other = "SHA256:FAKEotherKeyNotRealXXXXXXXXXXXXXXXXXXXXXXXXX";
    const edited = clusterFromDeployment(editedLab("DrbdResource::cluster-test-disk", (o) => ((o.observedHostKeys as Record<string, string>)["ha2.domain.local"] = other)));
    expect(edited.nodes[1]!.refusal).toMatch(/two different host keys are known for 127\.0\.0\.1:2222: SHA256:FAKEha2\S+ \(recorded by NodeNetwork cluster-ha2-network\) and SHA256:FAKEother\S+ \(recorded by DrbdResource cluster-test-disk\)/);
  });

  it("refuses to connect to a node for which no key is pinned or recorded", () => {
    const d = labDeployment() as { deployment: { resources: { outputs?: Record<string, unknown> }[] } };
    const scrub = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(scrub) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).filter(([k]) => k !== "observedHostKey" && k !== "observedHostKeys").map(([k, x]) => [k, scrub(x)])) : v;
    for (const r of d.deployment.resources) if (r.outputs) r.outputs = scrub(r.outputs) as Record<string, unknown>;
    expect(clusterFromDeployment(d).nodes.map((n) => n.refusal)).toEqual([undefined, expect.stringMatching(/^no host key is pinned or recorded for 127\.0\.0\.1:2222 /)]);
  });

  it("says to export with --show-secrets when the secrets are still encrypted", () => {
    const encrypted = { deployment: { resources: [{ urn: "urn:pulumi:lab::p::pulumi-nodejs:dynamic/xenha:NodeNetwork::n", outputs: { connection: { [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:abc" } } }] } };
    expect(() => xenHaResources(encrypted)).toThrow(EncryptedSecretsError);
  });
});
