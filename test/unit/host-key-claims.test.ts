import { UNKNOWN } from "../../provider/inputs";
import { claimsOfCall, hostKeyClaims, serverEndpoint } from "../../provider/ssh/host-key-claims";

const key = (c: string) => `SHA256:${c.repeat(43)}`;
const conn = (host: string, extra: Record<string, unknown> = {}) => ({ host, port: 22, user: "root", privateKey: "k", ...extra });

describe("host key claims in a resource's properties", () => {
  it("finds a single-host resource's recorded key beside its connection", () => {
    const state = { name: "vg", connection: conn("10.0.0.1"), observedHostKey: key("A") };
    expect(hostKeyClaims(state)).toEqual([{ endpoint: "10.0.0.1:22", key: key("A"), kind: "record", path: "observedHostKey" }]);
  });

  it("finds a pin in a top-level connection", () => {
    expect(hostKeyClaims({ connection: conn("ha1", { port: 2222, hostKey: key("P") }) })).toEqual([
      { endpoint: "ha1:2222", key: key("P"), kind: "pin", path: "connection.hostKey" },
    ]);
  });

  it("pairs DrbdResource's keys with the node of that hostname", () => {
    const state = {
      nodes: [
        { hostname: "ha1.domain.local", connection: conn("10.0.0.1") },
        { hostname: "ha2.domain.local", connection: conn("10.0.0.2") },
      ],
      observedHostKeys: { "ha2.domain.local": key("B"), "ha1.domain.local": key("A") },
    };
    expect(hostKeyClaims(state).map((c) => [c.endpoint, c.key, c.path])).toEqual([
      ["10.0.0.2:22", key("B"), "observedHostKeys.ha2.domain.local"],
      ["10.0.0.1:22", key("A"), "observedHostKeys.ha1.domain.local"],
    ]);
  });

  it("pairs XenDomU's and XenMigrationTrust's keys with the host of that name", () => {
    const state = { hosts: [{ name: "ha1", connection: conn("10.0.0.1") }, { name: "ha2", connection: conn("10.0.0.2") }], observedHostKeys: { ha2: key("B") } };
    expect(hostKeyClaims(state)).toEqual([{ endpoint: "10.0.0.2:22", key: key("B"), kind: "record", path: "observedHostKeys.ha2" }]);
  });

  it("pairs HeartbeatCluster's keys with its nodes by index", () => {
    const state = { nodes: [{ name: "ha1", connection: conn("10.0.0.1") }, { name: "ha2", connection: conn("10.0.0.2") }], observedHostKeys: [key("A"), key("B")] };
    expect(hostKeyClaims(state).map((c) => `${c.path} ${c.endpoint}`)).toEqual(["observedHostKeys[0] 10.0.0.1:22", "observedHostKeys[1] 10.0.0.2:22"]);
  });

  it("finds pins in every node's connection", () => {
    const inputs = { nodes: [{ hostname: "a", connection: conn("10.0.0.1", { hostKey: key("A") }) }, { hostname: "b", connection: conn("10.0.0.2", { hostKey: key("B") }) }] };
    expect(hostKeyClaims(inputs).map((c) => `${c.kind} ${c.path}`)).toEqual(["pin nodes[0].connection.hostKey", "pin nodes[1].connection.hostKey"]);
  });

  it("takes the default port when the program leaves it out", () => {
    expect(hostKeyClaims({ connection: { host: "ha1", hostKey: key("P") } })[0]?.endpoint).toBe("ha1:22");
  });

  it("skips values still unknown in preview", () => {
    const inputs = { connection: { host: UNKNOWN, hostKey: key("P") }, nodes: [{ connection: conn("ha2", { hostKey: UNKNOWN }) }] };
    expect(hostKeyClaims(inputs)).toEqual([]);
  });

  it("skips a record whose node is no longer in the bag", () => {
    expect(hostKeyClaims({ hosts: [{ name: "ha1", connection: conn("10.0.0.1") }], observedHostKeys: { gone: key("G") } })).toEqual([]);
  });

  it("skips anything that is not a fingerprint", () => {
    expect(hostKeyClaims({ connection: conn("ha1", { hostKey: "ssh-ed25519 AAAA" }), observedHostKey: "" })).toEqual([]);
  });

  it("knows a server by host and port, whatever the user or the case of its name", () => {
    expect([serverEndpoint({ host: "HA1.domain.local", port: 22 }), serverEndpoint({ host: "ha1.domain.local" })]).toEqual(["ha1.domain.local:22", "ha1.domain.local:22"]);
  });
});

describe("host key claims of one provider call", () => {
  const olds = { connection: conn("10.0.0.1"), observedHostKey: key("A") };

  it("names the resource and whether the claim is from the program or its state", () => {
    expect(claimsOfCall('VolumeGroup "vg"', { olds }).map((c) => c.source)).toEqual(['recorded at observedHostKey in the state of VolumeGroup "vg"']);
  });

  it("lets a pin in the program decide over the same resource's record for that host", () => {
    const news = { connection: conn("10.0.0.1", { hostKey: key("N") }) };
    expect(claimsOfCall('VolumeGroup "vg"', { news, olds }).map((c) => c.key)).toEqual([key("N")]);
  });

  it("keeps the record of a host the program no longer pins", () => {
    const news = { connection: conn("10.0.0.9", { hostKey: key("N") }) };
    expect(claimsOfCall('VolumeGroup "vg"', { news, olds }).map((c) => `${c.endpoint} ${c.key}`)).toEqual([`10.0.0.9:22 ${key("N")}`, `10.0.0.1:22 ${key("A")}`]);
  });
});
