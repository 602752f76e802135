import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildStartJobCommand, parseJobStatus, renderInterfacesApplyScript, type InterfacesApplyPlan } from "../../provider/network/apply";
import {
  buildNtpServiceScript,
  ensureLoopModule,
  renderHosts,
  renderInterfacesDropIn,
  renderLoopOptions,
  renderNtpConfig,
  takeOverInterfaces,
} from "../../provider/network/render";
import { nodeNetworkSchema, type NodeNetworkInputArgs } from "../../provider/network/schema";

const ha1Args: NodeNetworkInputArgs = {
  connection: { host: "127.0.0.1", port: 2221, privateKey: "key" },
  hostname: "ha1.domain.local",
  public: { address: "10.1.1.100" },
  crossover: { address: "192.168.1.100" },
  peer: { hostname: "ha2.domain.local", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" },
};
const ha1 = nodeNetworkSchema.parse(ha1Args);

/** Debian's installer writes the primary NIC into the main file, beside anything else the admin has. */
const installerMain = `# This file describes the network interfaces available on your system
source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug eth0
iface eth0 inet static
	address 10.1.1.100/24
	gateway 10.1.1.1

auto eth2
iface eth2 inet static
	address 10.0.2.15/24
`;

describe("the interfaces drop-in", () => {
  it("puts the seed's public address on the guests' bridge, with eth0 as its port, and the crossover on eth1", () => {
    expect(renderInterfacesDropIn(ha1)).toBe(`# Managed by pulumi-xen-ha (NodeNetwork): changes here are overwritten.

iface eth0 inet manual

auto xenbr0
iface xenbr0 inet static
\taddress 10.1.1.100/24
\tbridge_ports eth0
\tbridge_stp off
\tbridge_fd 0
\tbridge_maxwait 0

auto eth1
iface eth1 inet static
\taddress 192.168.1.100/24
`);
  });

  it("puts the address on the NIC itself, with the gateway, when there is no bridge", () => {
    const plain = nodeNetworkSchema.parse({ ...ha1Args, public: { address: "10.1.1.100", gateway: "10.1.1.1", bridge: null } });
    expect(renderInterfacesDropIn(plain)).toContain("auto eth0\niface eth0 inet static\n\taddress 10.1.1.100/24\n\tgateway 10.1.1.1\n");
  });
});

describe("taking over the main interfaces file", () => {
  const edited = takeOverInterfaces(installerMain, ["eth0", "xenbr0", "eth1"]);

  it("comments out the stanza of an interface we now configure, with its options", () => {
    expect(edited.text).toContain("#pulumi-xen-ha: iface eth0 inet static\n#pulumi-xen-ha: \taddress 10.1.1.100/24\n#pulumi-xen-ha: \tgateway 10.1.1.1\n");
  });

  it("keeps the management interface's stanza as it was", () => {
    expect(edited.text).toContain("auto eth2\niface eth2 inet static\n\taddress 10.0.2.15/24\n");
  });

  it("reports which interfaces the main file configured", () => {
    expect(edited.takenOver).toEqual(["eth0"]);
  });

  it("takes our interfaces out of shared auto lines and keeps the others", () => {
    expect(takeOverInterfaces("auto lo eth0 eth2\n", ["eth0"]).text).toContain("#pulumi-xen-ha: auto lo eth0 eth2\nauto lo eth2\n");
  });

  it("is idempotent", () => {
    expect(takeOverInterfaces(edited.text, ["eth0", "xenbr0", "eth1"]).text).toBe(edited.text);
  });

  it("leaves the lab's main file alone: it configures only lo and sources the drop-ins", () => {
    const lab = "source /etc/network/interfaces.d/*\n\nauto lo\niface lo inet loopback\n";
    expect(takeOverInterfaces(lab, ["eth0", "xenbr0", "eth1"]).text).toBe(lab);
  });

  it("adds the source line when the main file does not read the drop-in directory", () => {
    expect(takeOverInterfaces("auto lo\niface lo inet loopback\n", ["eth0"]).text).toMatch(/\nsource \/etc\/network\/interfaces\.d\/\*\n$/);
  });
});

describe("/etc/hosts", () => {
  it("has the seed's lines: both nodes' FQDN and short name, the crossover aliases, and 127.0.1.1", () => {
    expect(renderHosts(ha1).split("\n").slice(1, 7)).toEqual([
      "127.0.0.1\tlocalhost",
      "127.0.1.1\tha1.domain.local ha1",
      "10.1.1.100\tha1.domain.local ha1",
      "10.1.1.101\tha2.domain.local ha2",
      "192.168.1.100\tha1X",
      "192.168.1.101\tha2X",
    ]);
  });

  it("writes extra entries after the cluster's own", () => {
    const withExtra = nodeNetworkSchema.parse({ ...ha1Args, extraHosts: [{ address: "10.1.1.50", names: ["test.domain.local", "test"] }] });
    expect(renderHosts(withExtra)).toContain("192.168.1.101\tha2X\n10.1.1.50\ttest.domain.local test\n");
  });
});

describe("/etc/modules", () => {
  it("lists the loop module once, by name only, and keeps the other lines", () => {
    expect(ensureLoopModule("# /etc/modules\nloop max_loop=8\nsoftdog\nloop\n")).toBe("# /etc/modules\nloop\nsoftdog\n");
  });

  it("appends the loop module when it is missing", () => {
    expect(ensureLoopModule("softdog\n")).toBe("softdog\nloop\n");
  });

  it("moves the seed's max_loop=64 to a modprobe option", () => {
    expect(renderLoopOptions(64)).toMatch(/\noptions loop max_loop=64\n$/);
  });
});

describe("time synchronisation", () => {
  it("with no reachable server, the nodes serve each other over the crossover link in orphan mode", () => {
    expect(renderNtpConfig(ha1)).toMatch(/server 192\.168\.1\.101 iburst\nallow 192\.168\.1\.101\nlocal stratum 10 orphan\n/);
  });

  it("lists configured servers first and drops Debian's default pool", () => {
    const text = renderNtpConfig({ ...ha1, ntp: { daemon: "chrony", servers: ["ntp.example.net"], peerOverCrossover: true } });
    expect([text.split("\n")[1], text.includes("pool ")]).toEqual(["server ntp.example.net iburst", false]);
  });

  it("peers over the crossover link with the seed's ntpd too", () => {
    expect(renderNtpConfig({ ...ha1, ntp: { daemon: "ntp", servers: [], peerOverCrossover: true } })).toContain("peer 192.168.1.101\ntos orphan 10\n");
  });

  it("passes dpkg-query's format to the shell literally", () => {
    expect(buildNtpServiceScript("chrony", "restart").text).toContain("dpkg-query -W -f='${Status}' chrony");
  });

  it("is a valid POSIX shell script", () => {
    expect(() => execFileSync("sh", ["-n", "-c", buildNtpServiceScript("chrony", "start").text])).not.toThrow();
  });
});

describe("the interfaces apply job", () => {
  /** Runs the job in dash with stand-ins for ifupdown and ip that record what they were asked. */
  function runJob(plan: Omit<InterfacesApplyPlan, "jobId" | "files">, options: { confirm: boolean; failIfup?: string; upBefore?: string[]; handSet?: Record<string, string> }) {
    const dir = mkdtempSync(join(tmpdir(), "netjob-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const calls = join(dir, "calls");
    const stub = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/sh\necho "${name} $*" >>${calls}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    stub("ifquery", `case " ${(options.upBefore ?? []).join(" ")} " in *" $2 "*) exit 0;; esac\nexit 1`);
    stub("ifdown", "exit 0");
    stub("ifup", options.failIfup ? `[ "$1" = ${options.failIfup} ] && exit 1\nexit 0` : "exit 0");
    // Addresses set outside ifupdown (`ip addr add` by hand), as `ip -4 -o addr show dev NIC` lists them.
    const handSet = Object.entries(options.handSet ?? {}).map(([nic, a]) => `[ "$6" = ${nic} ] && [ "$4" = show ] && echo "3: ${nic}    inet ${a} scope global ${nic}"`);
    stub("ip", `${handSet.join("\n")}\nexit 0`);
    const live = join(dir, "interfaces.d-pulumi-xen-ha");
    const staged = join(dir, "staged");
    writeFileSync(live, "old\n");
    writeFileSync(staged, "new\n");
    const absentLive = join(dir, "created-by-job");
    const stagedCreated = join(dir, "staged-created");
    writeFileSync(stagedCreated, "created\n");
    const full: InterfacesApplyPlan = { ...plan, jobId: "t1", files: [{ live, staged }, { live: absentLive, staged: stagedCreated }] };
    writeFileSync(join(dir, "t1.sh"), renderInterfacesApplyScript(full, dir));
    // The job removes a stale confirmation at its start, so confirm from beside it while it waits.
    const confirmer = options.confirm ? `(sleep 0.3; touch ${dir}/t1.confirm) & ` : "";
    execFileSync("sh", ["-c", `${confirmer}PATH=${bin}:$PATH sh ${dir}/t1.sh; wait`], { encoding: "utf8" });
    return {
      status: readFileSync(join(dir, "t1.status"), "utf8").trim(),
      calls: readFileSync(calls, "utf8").trim().split("\n"),
      live: readFileSync(live, "utf8"),
      created: existsSync(absentLive),
    };
  }

  const plan = { takeDown: ["eth0"], flush: ["eth0"], bringUp: ["xenbr0", "eth1"], confirmSeconds: 2 };

  it("takes down the old settings, installs the files, brings up the new ones, and keeps them once confirmed", () => {
    const run = runJob(plan, { confirm: true, upBefore: ["eth0"] });
    expect([run.status, run.calls, run.live, run.created]).toEqual([
      "confirmed",
      [
        "ifquery --state eth0",
        "ifdown --force eth0",
        "ip -4 -o addr show dev eth0",
        "ip -4 addr flush dev eth0",
        "ifquery --state xenbr0",
        "ip -4 -o addr show dev xenbr0",
        "ip -4 addr flush dev xenbr0",
        "ifup xenbr0",
        "ifquery --state eth1",
        "ip -4 -o addr show dev eth1",
        "ip -4 addr flush dev eth1",
        "ifup eth1",
      ],
      "new\n",
      true,
    ]);
  });

  it("restores the old files and settings when the provider does not confirm in time", () => {
    const run = runJob({ ...plan, confirmSeconds: 1 }, { confirm: false, upBefore: ["eth0", "xenbr0", "eth1"] });
    expect([run.status, run.live, run.created, run.calls.slice(-5)]).toEqual([
      "rolled-back: not confirmed within 1 s",
      "old\n",
      false,
      ["ifquery --state eth1", "ifdown --force eth1", "ifquery --state xenbr0", "ifdown --force xenbr0", "ifup eth0"],
    ]);
  });

  it("clears an address set by hand from a NIC it brings up, so ifup does not fail on it, and puts it back on rollback", () => {
    const run = runJob({ takeDown: [], flush: ["eth0"], bringUp: ["xenbr0", "eth1"], confirmSeconds: 1 }, { confirm: false, handSet: { eth1: "192.168.1.100/24" } });
    expect([run.status, run.calls.includes("ip -4 addr flush dev eth1"), run.calls.slice(-2)]).toEqual([
      "rolled-back: not confirmed within 1 s",
      true,
      ["ip link set eth1 up", "ip addr replace 192.168.1.100/24 dev eth1"],
    ]);
  });

  it("rolls back at once when a new interface does not come up", () => {
    const run = runJob(plan, { confirm: false, failIfup: "eth1" });
    expect([run.status, run.live]).toEqual(["rolled-back: ifup failed", "old\n"]);
  });

  it("starts detached from the SSH session", () => {
    expect(buildStartJobCommand("net-1").text).toContain("systemd-run --quiet --collect --unit=pulumi-xen-ha-net-1 sh /var/lib/pulumi-xen-ha/network/net-1.sh");
  });

  it("refuses a job id that is not a plain word", () => {
    expect(() => buildStartJobCommand("a b")).toThrow(/only letters, digits/);
  });

  it("reads a rolled-back status with its reason", () => {
    expect(parseJobStatus("rolled-back: not confirmed within 120 s\n--8<--\nstatus: applying\n")).toEqual({
      phase: "rolled-back",
      reason: "not confirmed within 120 s",
      log: "status: applying",
    });
  });
});
