import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { diffInputs } from "../../provider/diff";
import { parseInputs, UNKNOWN } from "../../provider/inputs";
import { paths, renderHostname, renderHosts, renderInterfacesDropIn, renderNtpConfig, ensureLoopModule, renderLoopOptions } from "../../provider/network/render";
import {
  buildNetworkProbeScript,
  networkDrift,
  observedAddresses,
  parseLinks,
  parseNetworkProbe,
  type NetworkProbe,
} from "../../provider/network/probe";
import {
  checkConnectionAddressKept,
  checkManagementAddressChange,
  nodeNetworkRules,
  parseStanzas,
  planInterfacesApply,
  validateNodeNetworkChange,
} from "../../provider/network/rules";
import { nodeNetworkSchema, type NodeNetworkInputArgs } from "../../provider/network/schema";

const args: NodeNetworkInputArgs = {
  connection: { host: "10.1.1.100", privateKey: "key" },
  hostname: "ha1.domain.local",
  public: { address: "10.1.1.100" },
  crossover: { address: "192.168.1.100" },
  peer: { hostname: "ha2.domain.local", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
};
const ha1 = nodeNetworkSchema.parse(args);
const withPublic = (address: string, extra: object = {}) => nodeNetworkSchema.parse({ ...args, ...extra, public: { address } });

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "network", name), "utf8");

/** `ip -j -d addr show` on a lab node NodeNetwork configured (iproute2 6.1), as captured. */
const ipJson = fixture("ip-addr-ha1-configured.json").trim();

const labMain = "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n";

function probeOutput(files: Record<string, string | null>, extra = ""): string {
  const fileLines = Object.entries(files).map(([path, content]) =>
    content === null ? `file\t${path}\tabsent\t` : `file\t${path}\tpresent\t${Buffer.from(content).toString("base64")}`,
  );
  return [
    ...fileLines,
    "hostname\tha1.domain.local",
    "fqdn\tha1.domain.local",
    "service\tchrony.service\tactive\tenabled",
    "service\tntp.service\tinactive\t",
    `ip\t${ipJson}`,
    extra,
  ].join("\n");
}

const converged: NetworkProbe = parseNetworkProbe(
  probeOutput({
    [paths.interfaces]: labMain,
    [paths.interfacesDropIn]: renderInterfacesDropIn(ha1),
    [paths.hosts]: renderHosts(ha1),
    [paths.hostname]: renderHostname(ha1),
    [paths.modules]: ensureLoopModule(""),
    [paths.loopOptions]: renderLoopOptions(64),
    [paths.chrony]: renderNtpConfig(ha1),
    [paths.ntp]: null,
  }),
);

describe("NodeNetwork inputs", () => {
  it("fills the seed's defaults: eth0 on bridge xenbr0, eth1, /24 networks, chrony, 64 loop devices", () => {
    expect([ha1.public.device, ha1.public.bridge, ha1.crossover.device, ha1.public.prefixLength, ha1.ntp.daemon, ha1.loopMaxDevices]).toEqual(["eth0", "xenbr0", "eth1", 24, "chrony", 64]);
  });

  it("has no gateway unless one is given (the lab has none)", () => {
    expect(ha1.public.gateway).toBeUndefined();
  });

  it("refuses a gateway outside the public network", () => {
    const parsed = parseInputs(nodeNetworkSchema, { ...args, public: { address: "10.1.1.100", gateway: "10.2.0.1" } });
    expect(parsed.ok ? [] : parsed.failures.map((f) => f.property)).toEqual(["public.gateway"]);
  });

  it("refuses the peer's address as this node's", () => {
    const parsed = parseInputs(nodeNetworkSchema, { ...args, crossover: { address: "192.168.1.101" } });
    expect(parsed.ok ? [] : parsed.failures.map((f) => f.property)).toContain("crossover.address");
  });

  it("accepts addresses still unknown during preview", () => {
    const parsed = parseInputs(nodeNetworkSchema, { ...args, public: { address: UNKNOWN } });
    expect(parsed.ok || parsed.onlyUnknowns).toBe(true);
  });
});

describe("NodeNetwork diffs", () => {
  const before = ha1 as unknown as Record<string, unknown>;

  it("a new connection address is an update: only the update knows the old address to apply through", () => {
    const after = { ...ha1, connection: { ...ha1.connection, host: "10.1.1.200" } };
    expect(diffInputs(before, after, nodeNetworkRules)).toEqual({ changes: true, replaces: [], updates: ["connection"] });
  });

  it("a new gateway is an in-place update", () => {
    expect(diffInputs(before, { ...ha1, public: { ...ha1.public, gateway: "10.1.1.1" } }, nodeNetworkRules).updates).toEqual(["public"]);
  });

  it("setting the opt-in alone changes nothing on the host", () => {
    expect(diffInputs(before, { ...ha1, allowManagementAddressChange: true }, nodeNetworkRules).changes).toBe(false);
  });
});

describe("protecting the provider's own connection", () => {
  it("refuses to move the public address the provider connects through, naming the field and the fix", () => {
    const failure = checkManagementAddressChange({ connectionHost: "10.1.1.100", before: ha1, after: withPublic("10.1.1.200") });
    expect([failure?.property, failure?.reason]).toEqual(["public.address", expect.stringContaining("set allowManagementAddressChange: true and change connection.host to 10.1.1.200")]);
  });

  it("allows it with the explicit opt-in", () => {
    expect(checkManagementAddressChange({ connectionHost: "10.1.1.100", before: ha1, after: withPublic("10.1.1.200", { allowManagementAddressChange: true }) })).toBeUndefined();
  });

  it("counts a connection by the node's FQDN as a connection through the public address", () => {
    expect(checkManagementAddressChange({ connectionHost: "ha1.domain.local", before: ha1, after: withPublic("10.1.1.200") })?.property).toBe("public.address");
  });

  it("does not stand in the way when the provider uses a management address of its own (the lab's eth2)", () => {
    expect(checkManagementAddressChange({ connectionHost: "127.0.0.1", before: ha1, after: withPublic("10.1.1.200") })).toBeUndefined();
  });

  it("is what check reports in preview", () => {
    expect(validateNodeNetworkChange(ha1, withPublic("10.1.1.200")).map((f) => f.property)).toEqual(["public.address"]);
  });

  it("lets the address move from the NIC onto the bridge: it stays on the node", () => {
    expect(checkConnectionAddressKept("10.1.1.100", [{ device: "eth0", address: "10.1.1.100" }], ha1)).toBeUndefined();
  });

  it("refuses, on create, settings that drop the address the provider reaches a managed NIC at", () => {
    expect(checkConnectionAddressKept("10.1.1.50", [{ device: "eth0", address: "10.1.1.50" }], ha1)?.property).toBe("public.address");
  });
});

describe("planning an interfaces apply", () => {
  it("on a bare lab node: installs the drop-in, brings up the bridge and the crossover, and clears the future port", () => {
    const apply = planInterfacesApply({ after: ha1, liveMain: labMain, liveDropIn: null, jobId: "j" });
    expect([apply?.plan.files.map((f) => f.live), apply?.plan.takeDown, apply?.plan.flush, apply?.plan.bringUp]).toEqual([
      [paths.interfacesDropIn],
      [],
      ["eth0"],
      ["xenbr0", "eth1"],
    ]);
  });

  it("on an installed Debian host: takes eth0 over from the main file and takes its old settings down first", () => {
    const main = "auto lo\niface lo inet loopback\nsource /etc/network/interfaces.d/*\nallow-hotplug eth0\niface eth0 inet static\n\taddress 10.1.1.100/24\n";
    const apply = planInterfacesApply({ after: ha1, liveMain: main, liveDropIn: null, jobId: "j" });
    expect([apply?.plan.files.map((f) => f.live), apply?.plan.takeDown]).toEqual([[paths.interfaces, paths.interfacesDropIn], ["eth0"]]);
  });

  it("does nothing when the node already has the settings", () => {
    expect(planInterfacesApply({ after: ha1, liveMain: labMain, liveDropIn: renderInterfacesDropIn(ha1), jobId: "j" })).toBeNull();
  });

  it("bounces only the crossover link when only its address changes", () => {
    const after = nodeNetworkSchema.parse({ ...args, crossover: { address: "192.168.1.110" } });
    const apply = planInterfacesApply({ after, liveMain: labMain, liveDropIn: renderInterfacesDropIn(ha1), jobId: "j" });
    expect([apply?.plan.takeDown, apply?.plan.bringUp]).toEqual([["eth1"], ["eth1"]]);
  });

  it("bounces the bridge with its port when the gateway changes, bridge first", () => {
    const after = nodeNetworkSchema.parse({ ...args, public: { address: "10.1.1.100", gateway: "10.1.1.1" } });
    const apply = planInterfacesApply({ after, liveMain: labMain, liveDropIn: renderInterfacesDropIn(ha1), jobId: "j" });
    expect([apply?.plan.takeDown, apply?.plan.bringUp]).toEqual([["xenbr0", "eth0"], ["xenbr0"]]);
  });

  const seedMain = [
    "auto lo\niface lo inet loopback\n",
    "auto xenbr0\niface xenbr0 inet static\n\taddress 10.1.1.100\n\tnetmask 255.255.255.0\n\tbridge_ports eth0\n\tbridge_stp off\n",
    "iface eth0 inet manual\n",
    "auto eth1\niface eth1 inet static\n\taddress 192.168.1.100\n\tnetmask 255.255.255.0\n",
  ].join("\n");

  it("takes over a hand-written file whose interfaces already run as desired without bouncing any (a cluster built by hand)", () => {
    const running = { links: parseLinks(ipJson), defaultRoutes: [] };
    const apply = planInterfacesApply({ after: ha1, liveMain: seedMain, liveDropIn: null, jobId: "j", running });
    expect([apply?.plan.files.map((f) => f.live), apply?.plan.takeDown, apply?.plan.flush, apply?.plan.bringUp]).toEqual([[paths.interfaces, paths.interfacesDropIn], [], [], []]);
  });

  it("still bounces the bridge when the default route it should carry is missing", () => {
    const after = nodeNetworkSchema.parse({ ...args, public: { address: "10.1.1.100", gateway: "10.1.1.1" } });
    const running = { links: parseLinks(ipJson), defaultRoutes: [] };
    const apply = planInterfacesApply({ after, liveMain: seedMain, liveDropIn: null, jobId: "j", running });
    expect([apply?.plan.takeDown, apply?.plan.bringUp]).toEqual([["xenbr0", "eth0"], ["xenbr0"]]);
    const routed = { ...running, defaultRoutes: [{ gateway: "10.1.1.1", device: "xenbr0" }] };
    expect(planInterfacesApply({ after, liveMain: seedMain, liveDropIn: null, jobId: "j", running: routed })?.plan.takeDown).toEqual([]);
  });

  it("stages files outside interfaces.d, where ifupdown would read them", () => {
    const apply = planInterfacesApply({ after: ha1, liveMain: labMain, liveDropIn: null, jobId: "j" });
    expect(apply?.uploads.map((u) => u.staged)).toEqual(["/var/lib/pulumi-xen-ha/network/staged/pulumi-xen-ha"]);
  });

  it("reads back the stanzas it renders", () => {
    expect(parseStanzas(renderInterfacesDropIn(ha1)).map((s) => [s.name, s.auto])).toEqual([["eth0", false], ["xenbr0", true], ["eth1", true]]);
  });
});

describe("the network probe", () => {
  it("is a valid POSIX shell script", () => {
    expect(() => execFileSync("sh", ["-n", "-c", buildNetworkProbeScript().text])).not.toThrow();
  });

  it("decodes files, including absent ones", () => {
    expect([converged.files[paths.hostname], converged.files[paths.ntp]]).toEqual(["ha1.domain.local\n", null]);
  });

  it("reads which bridge a NIC is a port of", () => {
    expect(converged.links.find((l) => l.name === "eth0")?.master).toBe("xenbr0");
  });

  it("lists the IPv4 addresses per interface", () => {
    expect(observedAddresses(converged.links)).toEqual([
      { device: "lo", address: "127.0.0.1" },
      { device: "eth1", address: "192.168.1.100" },
      { device: "eth2", address: "10.0.2.15" },
      { device: "xenbr0", address: "10.1.1.100" },
    ]);
  });

  it("on a bare lab node as captured, nothing carries the seed's addresses yet, so both links drift", () => {
    const bare = { ...converged, links: parseLinks(fixture("ip-addr-ha1-bare.json")) };
    expect([observedAddresses(bare.links).map((a) => a.device), networkDrift(ha1, bare).map((d) => d.detail)]).toEqual([
      ["lo", "eth2"],
      ["xenbr0 is not up with 10.1.1.100", "eth0 is not a port of xenbr0", "eth1 is not up with 192.168.1.100"],
    ]);
  });

  it("a lab node converged by NodeNetwork, as its probe was captured, shows no drift and names the session's address", () => {
    const captured = parseNetworkProbe(fixture("probe-ha1-converged.txt"));
    const lab = nodeNetworkSchema.parse({ ...args, connection: { host: "127.0.0.1", port: 2221, privateKey: "key" } });
    expect([networkDrift(lab, captured), captured.sessionAddress]).toEqual([[], "10.0.2.15"]);
  });

  it("reads the node's own address that the provider's SSH session arrived at", () => {
    expect(parseNetworkProbe("session\t10.0.2.2 46226 10.0.2.15 22\n").sessionAddress).toBe("10.0.2.15");
  });

  it("reports no drift on a converged node", () => {
    expect(networkDrift(ha1, converged)).toEqual([]);
  });

  it("reports a running host name that differs, against the hostname input", () => {
    const probe = { ...converged, hostname: "ha1" };
    expect(networkDrift(ha1, probe)).toEqual([{ property: "hostname", detail: "the running host name is ha1" }]);
  });

  it("reports a stopped time daemon", () => {
    const probe = { ...converged, services: { "chrony.service": { active: "inactive", enabled: "masked" } } };
    expect(networkDrift(ha1, probe).map((d) => d.property)).toEqual(["ntp"]);
  });
});
