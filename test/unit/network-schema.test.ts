import { parseInputs } from "../../provider/inputs";
import { nodeNetworkSchema } from "../../provider/network/schema";

const base = {
  connection: { host: "10.1.1.100", privateKey: "key" },
  hostname: "ha1.domain.local",
  public: { address: "10.1.1.100" },
  crossover: { address: "192.168.1.100" },
  peer: { hostname: "ha2.domain.local", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
};

function failures(change: Record<string, unknown>): string[] {
  const parsed = parseInputs(nodeNetworkSchema, { ...base, ...change });
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

describe("NodeNetwork inputs", () => {
  it("accepts the seed's node", () => {
    expect(failures({})).toEqual([]);
  });

  it("refuses a NIC name starting with -", () => {
    expect(failures({ crossover: { device: "-eth1", address: "192.168.1.100" } })).toEqual(["crossover.device: must not start with - (commands would read it as an option)"]);
  });

  it("refuses an address alias where an interface is meant", () => {
    expect(failures({ public: { device: "eth0:1", address: "10.1.1.100" } })).toEqual(["public.device: must name an interface, not an address alias (no :)"]);
  });

  it("refuses a gateway with leading zeros", () => {
    expect(failures({ public: { address: "10.1.1.100", gateway: "10.1.1.001" } })[0]).toMatch(/^public\.gateway: must not have leading zeros/);
  });

  it("refuses a time server that looks like an address but is not one", () => {
    expect(failures({ ntp: { servers: ["10.1.1"] } })[0]).toMatch(/^ntp\.servers\[0\]: must be an IPv4 address/);
  });

  it("refuses a host name longer than uname -n holds", () => {
    expect(failures({ hostname: `${"a".repeat(40)}.${"b".repeat(30)}` })[0]).toMatch(/^hostname: must be a host name of 1 to 64 characters/);
  });

  it("takes an IPv6 address in /etc/hosts entries, which already took one", () => {
    expect(failures({ extraHosts: [{ address: "fd00::50", names: ["test"] }] })).toEqual([]);
  });
});
