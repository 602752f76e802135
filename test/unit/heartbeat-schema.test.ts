import { parseInputs } from "../../provider/inputs";
import { heartbeatClusterSchema, STOCK_RESOURCE_SCRIPTS } from "../../provider/heartbeat/schema";
import { seedArgs } from "./fixtures/heartbeat/seed";

function failures(change: Record<string, unknown>): string[] {
  const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, ...change });
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

const groups = (first: Record<string, unknown>) => ({
  resourceGroups: [{ name: "xendomainsHA1", autoDirectory: "/etc/xen/auto/HA1", ...first }, { name: "xendomainsHA2", autoDirectory: "/etc/xen/auto/HA2" }],
});

describe("HeartbeatCluster resource groups", () => {
  it("accepts the seed's groups and directories", () => {
    expect(failures(groups({}))).toEqual([]);
  });

  it.each([...STOCK_RESOURCE_SCRIPTS])("refuses a group named like the stock resource script %s", (name) => {
    expect(failures(groups({ name }))).toEqual([expect.stringMatching(/^resourceGroups\[0\]\.name: is the name of a resource script the heartbeat package installs/)]);
  });

  it("refuses a stock script's name in another case too", () => {
    expect(failures(groups({ name: "ipaddr2" }))).toHaveLength(1);
  });

  it("refuses a group name starting with -", () => {
    expect(failures(groups({ name: "-HA1" }))[0]).toMatch(/^resourceGroups\[0\]\.name: /);
  });
});

describe("HeartbeatCluster autoDirectory", () => {
  it.each(["/etc/xen/auto/HA1", "/etc/xen/auto/web_group.2"])("accepts %s, one level under /etc/xen/auto", (autoDirectory) => {
    expect(failures(groups({ autoDirectory }))).toEqual([]);
  });

  it.each([
    ["xendomains' own directory", "/etc/xen/auto"],
    ["a trailing slash", "/etc/xen/auto/HA1/"],
    ["a parent segment", "/etc/xen/auto/../auto/HA1"],
    ["a current segment", "/etc/xen/auto/./HA1"],
    ["a directory elsewhere", "/tmp/HA1"],
    ["a deeper directory", "/etc/xen/auto/HA1/more"],
    ["a hidden directory", "/etc/xen/auto/.HA1"],
    ["the root", "/"],
  ])("refuses %s (%s): clean-ups remove the symlinks in it", (_what, autoDirectory) => {
    expect(failures(groups({ autoDirectory }))).toEqual([expect.stringMatching(/^resourceGroups\[0\]\.autoDirectory: /)]);
  });

  it("explains the rule in the failure", () => {
    expect(failures(groups({ autoDirectory: "/var/lib/ha" }))).toEqual([
      "resourceGroups[0].autoDirectory: must be a directory directly under /etc/xen/auto/, such as /etc/xen/auto/HA1 (one name of letters, digits, _ . -): the provider removes stray symlinks from it, so it must be one it owns, not /etc/xen/auto itself nor a path elsewhere",
    ]);
  });
});

describe("HeartbeatCluster values", () => {
  it("refuses a node address with leading zeros", () => {
    const nodes = [{ ...seedArgs.nodes[0], publicAddress: "010.1.1.100" }, seedArgs.nodes[1]];
    expect(failures({ nodes })[0]).toMatch(/^nodes\[0\]\.publicAddress: must not have leading zeros/);
  });

  it("refuses a crossover interface starting with -", () => {
    expect(failures({ crossoverInterface: "-eth1" })).toEqual(["crossoverInterface: must not start with - (commands would read it as an option)"]);
  });

  it("refuses a node name longer than uname -n holds", () => {
    const nodes = [{ ...seedArgs.nodes[0], name: `${"a".repeat(40)}.${"b".repeat(30)}` }, seedArgs.nodes[1]];
    expect(failures({ nodes }).some((f) => f.startsWith("nodes[0].name: "))).toBe(true);
  });

  it("refuses a domain name DomU would refuse", () => {
    expect(failures({ domains: [{ name: "migrating-test", home: "ha1.domain.local" }] })[0]).toMatch(/^domains\[0\]\.name: /);
  });
});
