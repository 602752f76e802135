import { readFileSync } from "node:fs";
import { join } from "node:path";
import { diffInputs } from "../../provider/diff";
import { heartbeatFiles } from "../../provider/heartbeat/render";
import { checkNodes, heartbeatClusterRules, heartbeatDrift, planAuthKeyRotation, sha256Of } from "../../provider/heartbeat/rules";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { parseHeartbeatProbe } from "../../provider/heartbeat/status";
import { seedArgs } from "./fixtures/heartbeat/seed";

const seed = heartbeatClusterSchema.parse(seedArgs);
const before = seed as unknown as Record<string, unknown>;
const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "heartbeat", name), "utf8");

/** The steady-state probe of ha1, with the digests of what we render in place of the fixture's placeholders. */
function steadyHa1() {
  const [authkeys, haCf, haresources, script1, script2] = heartbeatFiles(seed, 0).map((f) => sha256Of(f.content));
  const text = fixture("probe-ha1-steady.txt")
    .replace("AUTHKEYS_SHA", authkeys!)
    .replace("HACF_SHA", haCf!)
    .replace("HARESOURCES_SHA", haresources!)
    .replace("SCRIPT1_SHA", script1!)
    .replace("SCRIPT2_SHA", script2!);
  return parseHeartbeatProbe(text);
}

describe("HeartbeatCluster diffs", () => {
  it("a new secret is an update (authkeys rewritten on both nodes)", () => {
    expect(diffInputs(before, { ...seed, authKey: "AnotherSecret456" }, heartbeatClusterRules)).toEqual({ changes: true, replaces: [], updates: ["authKey"] });
  });

  it("new timers are an update (reread with heartbeat -r)", () => {
    expect(diffInputs(before, { ...seed, deadtime: 15, initdead: 30 }, heartbeatClusterRules).updates).toEqual(["deadtime", "initdead"]);
  });

  it("renaming a node is a replace", () => {
    const renamed = { ...seed, nodes: [seed.nodes[0], { ...seed.nodes[1], name: "ha3.domain.local" }] };
    expect(diffInputs(before, renamed, heartbeatClusterRules).replaces).toEqual(["nodes"]);
  });

  it("reaching a node at another SSH address is an update", () => {
    const moved = { ...seed, nodes: [{ ...seed.nodes[0], connection: { ...seed.nodes[0].connection, host: "10.1.1.100" } }, seed.nodes[1]] };
    expect(diffInputs(before, moved, heartbeatClusterRules)).toEqual({ changes: true, replaces: [], updates: ["nodes"] });
  });

  it("adding a DomU is an update", () => {
    const more = { ...seed, domains: [...seed.domains, { name: "web", home: "ha2.domain.local" }] };
    expect(diffInputs(before, more, heartbeatClusterRules).updates).toEqual(["domains"]);
  });
});

describe("changing the shared key", () => {
  const current = { index: 1, method: "sha1" as const, secret: "SecretKey123!!!" };
  const rotation = planAuthKeyRotation(current, { method: "sha1", secret: "AnotherSecret456" });

  it("first accepts the new key while signing with the old, then signs with the new, then drops the old", () => {
    expect(rotation.steps).toEqual([
      "auth 1\n1 sha1 SecretKey123!!!\n2 sha1 AnotherSecret456\n",
      "auth 2\n1 sha1 SecretKey123!!!\n2 sha1 AnotherSecret456\n",
      "auth 2\n2 sha1 AnotherSecret456\n",
    ]);
  });

  it("leaves the new key under the other index", () => {
    expect(rotation.index).toBe(2);
  });

  it("has nothing to do when the key is the same", () => {
    expect(planAuthKeyRotation(current, { method: "sha1", secret: "SecretKey123!!!" }).steps).toEqual([]);
  });
});

describe("what the nodes must satisfy", () => {
  const bare = parseHeartbeatProbe(fixture("probe-bare-lab-node.txt"));

  it("refuses a node whose uname -n is not its name in ha.cf, naming the field and the fix", () => {
    const failures = checkNodes(heartbeatClusterSchema.parse({ ...seedArgs, watchdog: null }), [bare, { ...bare, nodeName: "ha2.domain.local" }]);
    expect(failures).toEqual([{ property: "nodes[0].name", reason: expect.stringContaining("Set the node's host name (NodeNetwork's hostname) to ha1.domain.local") }]);
  });

  it("refuses a watchdog device the node does not have", () => {
    const named = { ...bare, nodeName: "ha1.domain.local" };
    expect(checkNodes(seed, [named, { ...named, nodeName: "ha2.domain.local" }]).map((f) => f.property)).toEqual(["watchdog", "watchdog"]);
  });
});

describe("drift", () => {
  it("none on a node that matches", () => {
    expect(heartbeatDrift(seed, 0, steadyHa1())).toEqual([]);
  });

  it("an authkeys with another secret, reported against authKey without showing it", () => {
    const drift = heartbeatDrift({ ...seed, authKey: "AnotherSecret456" }, 0, steadyHa1());
    expect(drift).toEqual([{ property: "authKey", detail: "/etc/ha.d/authkeys differs from the desired content" }]);
  });

  it("a missing home link", () => {
    const drift = heartbeatDrift(seed, 0, { ...steadyHa1(), links: [] });
    expect(drift).toEqual([{ property: "domains", detail: "the home links are none" }]);
  });

  it("a resource script rendered for the other node", () => {
    expect(heartbeatDrift(seed, 1, steadyHa1()).map((d) => d.detail)).toEqual([
      "/etc/ha.d/resource.d/xendomainsHA1 differs from the desired content",
      "/etc/ha.d/resource.d/xendomainsHA2 differs from the desired content",
    ]);
  });
});
