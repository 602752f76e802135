import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { diffInputs } from "../../provider/diff";
import { buildDopdPermissionsScript, DOPD_LINES, DOPD_PATH, fenceDelayOf, PREFERRED_SURVIVOR } from "../../provider/heartbeat/fencing";
import { installNode } from "../../provider/heartbeat/nodes";
import { heartbeatFiles, renderHaCf } from "../../provider/heartbeat/render";
import { checkNodes, heartbeatClusterRules, heartbeatDrift, sha256Of } from "../../provider/heartbeat/rules";
import { heartbeatClusterSchema, type HeartbeatClusterInputArgs } from "../../provider/heartbeat/schema";
import { buildHeartbeatProbeScript, managedPaths, parseHeartbeatProbe, type HeartbeatNodeReport } from "../../provider/heartbeat/status";
import { parseInputs, UNKNOWN } from "../../provider/inputs";
import { implementation } from "../../provider/runtime";
import type { Shell } from "../../provider/shell";
import type { Host } from "../../provider/ssh";
import { seedArgs } from "./fixtures/heartbeat/seed";

const HA1_PASSWORD = "Ha1-BMC-pw!";
const HA2_PASSWORD = "Ha2-BMC-pw!";

const ipmiDevice = (n: 1 | 2, passwd: string) => ({ hostname: `ha${n}.domain.local`, ipaddr: `10.1.2.${99 + n}`, userid: "admin", passwd, interface: "lanplus" });
const ipmi = { type: "external/ipmi", devices: [ipmiDevice(1, HA1_PASSWORD), ipmiDevice(2, HA2_PASSWORD)] };
const labSwitch = (n: 1 | 2) => ({ hostlist: `ha${n}.domain.local:ha${n}`, switch_address: "10.0.2.100", switch_port: "7999", secret_file: "/etc/xen-ha-lab/switch.secret" });

const seed = heartbeatClusterSchema.parse(seedArgs);
const fenced = heartbeatClusterSchema.parse({ ...seedArgs, stonith: ipmi });
const options = { sshCommand: () => "ssh -o BatchMode=yes" };

function failures(change: Partial<HeartbeatClusterInputArgs> | Record<string, unknown>): string[] {
  const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, ...change });
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

const withStonith = (stonith: Record<string, unknown>) => failures({ stonith });
const withDevice = (i: 0 | 1, device: Record<string, unknown>) => withStonith({ ...ipmi, devices: i === 0 ? [device, ipmi.devices[1]] : [ipmi.devices[0], device] });

describe("ha.cf without fencing", () => {
  /** Digests and modes of every file as rendered before fencing existed, node by node. */
  const before = [
    ["/etc/ha.d/authkeys", "0600", "b4902a198f43975303bdd9dc4e6f8fb1de62c0ef6ca4c1055c4ff9ff3d5ecd0c"],
    ["/etc/ha.d/ha.cf", "0644", "bcbd1e3fde1fbdfc92506349b0f18a7fa67b584145173759a2ab788bb44b5fd6"],
    ["/etc/ha.d/haresources", "0644", "c1228fb63a2053c6e65d21be7d6bca9233ffaf03b62e53f9bd82ccd2cb062e68"],
  ];
  const scriptsBefore = [
    ["eaf9fd6bf4278a61961a911565a57f6ff8a8fa399569bc2a4769aaa7e622c4e6", "0438ec4e303b35175fa902a24223e7af9920482dad8c983ac5eba517cfca9d4e"],
    ["3b54a0fe9215edac5f8b0463c4e4c00177d5c7aac34c6919f3e70d527e849dae", "90728a13f750f40a66e149815c5c304959bf6ea452d795c1edc6d7d48a876d01"],
  ];
  const digests = (args: HeartbeatClusterInputArgs, node: 0 | 1) =>
    heartbeatFiles(heartbeatClusterSchema.parse(args), node, options).map((f) => [f.path, f.mode, sha256Of(f.content)]);
  const expected = (node: 0 | 1) => [
    ...before,
    ["/etc/ha.d/resource.d/xendomainsHA1", "0755", scriptsBefore[node]![0]],
    ["/etc/ha.d/resource.d/xendomainsHA2", "0755", scriptsBefore[node]![1]],
  ];

  it("renders every file byte for byte as before, with the same modes, on both nodes", () => {
    expect([digests(seedArgs, 0), digests(seedArgs, 1)]).toEqual([expected(0), expected(1)]);
  });

  it("renders the same with dopd set to false", () => {
    expect(digests({ ...seedArgs, dopd: false }, 0)).toEqual(expected(0));
  });

  it("leaves the probe without STONITH or dopd lookups", () => {
    expect(buildHeartbeatProbeScript(seed).text).not.toMatch(/stonith|dopd/);
  });
});

describe("STONITH in ha.cf", () => {
  it("lets each node's peer reset it: one stonith_host line per device, naming the peer as the host it is used from", () => {
    expect(renderHaCf(fenced).split("\n").slice(-6)).toEqual([
      "node ha1.domain.local",
      "node ha2.domain.local",
      `stonith_host ha2.domain.local external/ipmi ha1.domain.local 10.1.2.100 admin ${HA1_PASSWORD} lanplus`,
      `stonith_host ha1.domain.local external/ipmi ha2.domain.local 10.1.2.101 admin ${HA2_PASSWORD} lanplus`,
      "crm no",
      "",
    ]);
  });

  it("writes the parameters in the plugin's order, not the program's", () => {
    const shuffled = { ...ipmi, devices: ipmi.devices.map(({ passwd, interface: i, userid, ipaddr, hostname }) => ({ passwd, interface: i, userid, ipaddr, hostname })) };
    expect(renderHaCf(heartbeatClusterSchema.parse({ ...seedArgs, stonith: shuffled }))).toBe(renderHaCf(fenced));
  });

  it("knows the lab power switch's order (getconfignames of lab/fence/xen-ha-lab-switch), its delay last", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, stonith: { type: "external/xen-ha-lab-switch", devices: [labSwitch(1), labSwitch(2)] } });
    expect(renderHaCf(c).match(/^stonith_host .*$/gm)).toEqual([
      "stonith_host ha2.domain.local external/xen-ha-lab-switch ha1.domain.local:ha1 10.0.2.100 7999 /etc/xen-ha-lab/switch.secret 0",
      "stonith_host ha1.domain.local external/xen-ha-lab-switch ha2.domain.local:ha2 10.0.2.100 7999 /etc/xen-ha-lab/switch.secret 0",
    ]);
  });

  it("takes another type's order from parameterOrder", () => {
    const rps10 = (port: string) => ({ serial_device: "/dev/ttyS1", port });
    const c = heartbeatClusterSchema.parse({ ...seedArgs, stonith: { type: "rps10", parameterOrder: ["serial_device", "port"], devices: [rps10("0"), rps10("1")] } });
    expect(renderHaCf(c).match(/^stonith_host .*$/gm)).toEqual(["stonith_host ha2.domain.local rps10 /dev/ttyS1 0", "stonith_host ha1.domain.local rps10 /dev/ttyS1 1"]);
  });

  it("writes ha.cf with mode 0600 and marks it secret once it holds the devices' parameters", () => {
    expect(heartbeatFiles(fenced, 0).find((f) => f.path === "/etc/ha.d/ha.cf")).toMatchObject({ mode: "0600", secret: true });
  });

  it("keeps the passwords out of every file not marked secret, on both nodes", () => {
    const leaks = ([0, 1] as const).flatMap((n) => heartbeatFiles(fenced, n, options)).filter((f) => !f.secret && (f.content.includes(HA1_PASSWORD) || f.content.includes(HA2_PASSWORD)));
    expect(leaks).toEqual([]);
  });

  it("hashes ha.cf in the probe and never puts a password in it", () => {
    const probe = buildHeartbeatProbeScript(fenced).text;
    expect([probe.includes("sha256sum --"), probe.includes("/etc/ha.d/ha.cf"), probe.includes(HA1_PASSWORD) || probe.includes(HA2_PASSWORD)]).toEqual([true, true, false]);
  });

  it("reports a changed password as drift of ha.cf without showing either password", () => {
    const steady: HeartbeatNodeReport = {
      ...parseHeartbeatProbe(""),
      nodeName: "ha1.domain.local",
      files: Object.fromEntries(heartbeatFiles(fenced, 0).map((f) => [f.path, { sha256: sha256Of(f.content), mode: f.mode }])),
      links: [{ directory: "/etc/xen/auto/HA1", name: "test", target: "/etc/xen/test.cfg" }],
      services: { heartbeat: { active: "active", enabled: "enabled" }, xendomains: { active: "inactive", enabled: "disabled" } },
    };
    const changed = heartbeatClusterSchema.parse({ ...seedArgs, stonith: { ...ipmi, devices: [ipmiDevice(1, "Changed-pw-1"), ipmi.devices[1]] } });
    expect(heartbeatDrift(changed, 0, steady)).toEqual([{ property: "deadtime", detail: "/etc/ha.d/ha.cf differs from the desired content" }]);
  });

  it("reports an ha.cf someone made readable again", () => {
    const drift = heartbeatDrift(fenced, 0, {
      ...parseHeartbeatProbe(""),
      files: { "/etc/ha.d/ha.cf": { sha256: sha256Of(renderHaCf(fenced)), mode: "0644" } },
    });
    expect(drift).toContainEqual({ property: "deadtime", detail: "/etc/ha.d/ha.cf has mode 0644, not 0600" });
  });
});

describe("dopd", () => {
  it("runs under Heartbeat as hacluster, from where bookworm's heartbeat package installs it, with its API authorised", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, dopd: true });
    expect(renderHaCf(c).split("\n").slice(-4)).toEqual(["respawn hacluster /usr/libexec/heartbeat/dopd", "apiauth dopd gid=haclient uid=hacluster", "crm no", ""]);
  });

  it("leaves ha.cf readable: it holds no secret", () => {
    expect(heartbeatFiles(heartbeatClusterSchema.parse({ ...seedArgs, dopd: true }), 0).find((f) => f.path === "/etc/ha.d/ha.cf")?.mode).toBe("0644");
  });

  it("installs DRBD's fence-peer handler script on each node, executable, and reads it back as a managed file", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, dopd: true });
    const script = heartbeatFiles(c, 1).find((f) => f.path === "/usr/local/lib/pulumi-xen-ha/dopd-fence-peer");
    const source = readFileSync(join(__dirname, "..", "..", "provider", "heartbeat", "dopd-fence-peer.sh"), "utf8");
    expect([script?.mode, script?.content === source, script?.property, managedPaths(c).at(-1), managedPaths(heartbeatClusterSchema.parse(seedArgs)).length]).toEqual([
      "0755",
      true,
      "dopd",
      "/usr/local/lib/pulumi-xen-ha/dopd-fence-peer",
      5,
    ]);
  });

  it("comes after the STONITH lines when both are set", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, stonith: ipmi, dopd: true });
    expect(renderHaCf(c).split("\n").slice(-5, -2)).toEqual([expect.stringMatching(/^stonith_host ha1\.domain\.local /), ...DOPD_LINES]);
  });
});

describe("the fence race", () => {
  it("makes nodes[0] the preferred survivor: it fences at once, nodes[1] waits", () => {
    expect([PREFERRED_SURVIVOR, fenceDelayOf(0, 15), fenceDelayOf(1, 15)]).toEqual([0, 0, 15]);
  });

  it("writes the wait into the lab switch device nodes[1] resets nodes[0] with (its reset_delay), and none into the other", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, stonith: { type: "external/xen-ha-lab-switch", devices: [labSwitch(1), labSwitch(2)], fenceDelaySeconds: 15 } });
    expect(renderHaCf(c).match(/^stonith_host .*$/gm)?.map((l) => `${l.split(" ")[1]} ${l.split(" ").at(-1)}`)).toEqual(["ha2.domain.local 15", "ha1.domain.local 0"]);
  });

  it("writes the wait into a parameter the program names for another plugin", () => {
    const delayed = { ...ipmi, parameterOrder: ["hostname", "ipaddr", "userid", "passwd", "interface", "delay"], fenceDelaySeconds: 15, delayParameter: "delay" };
    const c = heartbeatClusterSchema.parse({ ...seedArgs, stonith: delayed });
    expect(renderHaCf(c).match(/^stonith_host \S+ .* \d+$/gm)?.map((l) => `${l.split(" ")[1]} ${l.split(" ").at(-1)}`)).toEqual(["ha2.domain.local 15", "ha1.domain.local 0"]);
  });

  it("refuses a wait no parameter can carry: Heartbeat release 1 has none of its own", () => {
    expect(withStonith({ ...ipmi, fenceDelaySeconds: 15 })).toEqual([
      "stonith.fenceDelaySeconds: needs a delay parameter: Heartbeat release 1 has no fencing delay of its own, so the wait must come from the plugin, " +
        "and external/ipmi takes none. Name the plugin's delay parameter in delayParameter, or leave fenceDelaySeconds at 0",
    ]);
  });

  it("refuses a delay parameter the plugin does not take", () => {
    expect(withStonith({ ...ipmi, fenceDelaySeconds: 15, delayParameter: "delay" })).toEqual([expect.stringMatching(/^stonith\.delayParameter: must be one of the plugin's parameters \(hostname ipaddr userid passwd interface\)/)]);
  });

  it("refuses a device that sets the delay itself", () => {
    const delayed = { ...ipmi, parameterOrder: ["hostname", "ipaddr", "userid", "passwd", "interface", "delay"], fenceDelaySeconds: 15, delayParameter: "delay" };
    expect(withStonith({ ...delayed, devices: [{ ...ipmi.devices[0], delay: "3" }, ipmi.devices[1]] })).toEqual([
      "stonith.devices[0].delay: is the delay parameter, which the package sets from fenceDelaySeconds: remove it here",
    ]);
  });
});

describe("STONITH inputs refused before anything reaches a host", () => {
  it("accepts the IPMI devices of both nodes", () => {
    expect(withStonith(ipmi)).toEqual([]);
  });

  it.each(["External/IPMI", "external/ipmi extra", "../ipmi", "external/"])("refuses the type %j", (type) => {
    expect(withStonith({ ...ipmi, type })).toEqual([expect.stringMatching(/^stonith\.type: must be a cluster-glue STONITH type as `stonith -L` lists it/)]);
  });

  it("asks for the parameter order of a type it does not know, naming the command that prints it", () => {
    expect(withStonith({ ...ipmi, type: "external/riloe" })).toEqual([expect.stringContaining("stonith.parameterOrder: is needed for external/riloe: the package knows the order of external/ipmi and external/xen-ha-lab-switch only. List the parameter names in the order `stonith -t external/riloe -n` prints them")]);
  });

  it("names a parameter a device lacks: positional parameters cannot be left out", () => {
    const { interface: _left, ...partial } = ipmi.devices[1];
    expect(withDevice(1, partial)).toEqual(["stonith.devices[1]: lacks interface: Heartbeat reads the parameters by position, so each device needs all of hostname ipaddr userid passwd interface"]);
  });

  it("names a parameter the type does not take", () => {
    expect(withDevice(0, { ...ipmi.devices[0], ipport: "623" })).toEqual([
      "stonith.devices[0].ipport: is not a parameter of external/ipmi (hostname ipaddr userid passwd interface); if the nodes' external/ipmi takes it, list every parameter in parameterOrder",
    ]);
  });

  it("refuses a parameter name that is no environment variable name", () => {
    expect(withStonith({ ...ipmi, parameterOrder: ["hostname", "ip-addr"] })[0]).toMatch(/^stonith\.parameterOrder\[1\]: must be a parameter name/);
  });

  it.each([
    ["a space", "two words"],
    ["a line break", "pw\nstonith_host * null x"],
    ["a #", "pw#rest"],
    ["a non-ASCII letter", "pässword"],
  ])("refuses a password with %s, without repeating it", (_what, passwd) => {
    const refused = withDevice(0, { ...ipmi.devices[0], passwd });
    expect([refused.length, refused[0]?.startsWith("stonith.devices[0].passwd: "), refused.some((r) => r.includes(passwd))]).toEqual([1, true, false]);
  });

  it("refuses an empty value, which would shift the parameters after it", () => {
    expect(withDevice(0, { ...ipmi.devices[0], userid: "" })).toEqual(["stonith.devices[0].userid: must not be empty: Heartbeat reads the parameters by position, so an empty one would shift the rest"]);
  });

  it("refuses swapped devices, which would make a node reset itself when it fences its peer", () => {
    expect(withStonith({ ...ipmi, devices: [ipmi.devices[1], ipmi.devices[0]] })).toEqual([
      "stonith.devices[0].hostname: must name ha1.domain.local: devices[0] is the device that powers nodes[0], which its peer uses to reset it",
      "stonith.devices[1].hostname: must name ha2.domain.local: devices[1] is the device that powers nodes[1], which its peer uses to reset it",
    ]);
  });

  it("refuses a lab switch device whose hostlist misses its node", () => {
    expect(withStonith({ type: "external/xen-ha-lab-switch", devices: [labSwitch(2), labSwitch(2)] })).toEqual([expect.stringMatching(/^stonith\.devices\[0\]\.hostlist: must name ha1\.domain\.local/)]);
  });

  it("accepts a password still unknown during preview", () => {
    const parsed = parseInputs(heartbeatClusterSchema, { ...seedArgs, stonith: { ...ipmi, devices: [{ ...ipmi.devices[0], passwd: UNKNOWN }, ipmi.devices[1]] } });
    expect(parsed.ok || parsed.onlyUnknowns).toBe(true);
  });

  it("refuses as the engine calls check, naming the field and never the password", async () => {
    const { failures: found } = await implementation("HeartbeatCluster").check({}, { ...seedArgs, stonith: { ...ipmi, devices: [{ ...ipmi.devices[0], passwd: "has space" }, ipmi.devices[1]] } });
    expect([found.map((f) => f.property), JSON.stringify(found).includes("has space")]).toEqual([["stonith.devices[0].passwd"], false]);
  });
});

describe("applying fencing", () => {
  const before = seed as unknown as Record<string, unknown>;

  it("adding STONITH is an update (ha.cf rewritten and reread)", () => {
    expect(diffInputs(before, { ...seed, stonith: fenced.stonith }, heartbeatClusterRules)).toEqual({ changes: true, replaces: [], updates: ["stonith"] });
  });

  it("turning dopd on is an update", () => {
    expect(diffInputs(before, { ...seed, dopd: true }, heartbeatClusterRules)).toEqual({ changes: true, replaces: [], updates: ["dopd"] });
  });

  it("a cluster recorded before fencing existed shows no change", () => {
    const { stonith: _stonith, dopd: _dopd, ...recorded } = seed;
    expect(diffInputs(recorded, before, heartbeatClusterRules).changes).toBe(false);
  });
});

describe("what the nodes must have before ha.cf names it", () => {
  const node = (name: string, lines: string) => parseHeartbeatProbe(`uname\t${name}\n${lines}`);
  const both = (lines: string): [HeartbeatNodeReport, HeartbeatNodeReport] => [node("ha1.domain.local", lines), node("ha2.domain.local", lines)];
  const noWatchdog = { watchdog: null };

  it("reads the plugin's parameters and dopd from the probe", () => {
    const r = node("ha1.domain.local", "stonith\thostname ipaddr userid passwd interface \ndopd\tabsent\n");
    expect([r.stonithParameters, r.dopdPresent]).toEqual([["hostname", "ipaddr", "userid", "passwd", "interface"], false]);
  });

  it("accepts nodes whose plugin takes the parameters in the order ha.cf gives them", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, ...noWatchdog, stonith: ipmi, dopd: true });
    expect(checkNodes(c, both("stonith\thostname ipaddr userid passwd interface \ndopd\tpresent\n"))).toEqual([]);
  });

  it("refuses a node without the plugin: Heartbeat would reject ha.cf when it rereads it", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, ...noWatchdog, stonith: ipmi });
    const [ha1, ha2] = both("stonith\thostname ipaddr userid passwd interface \n");
    expect(checkNodes(c, [ha1, { ...ha2, stonithParameters: [] }])).toEqual([
      { property: "stonith.type", reason: expect.stringContaining("ha2.domain.local has no STONITH plugin external/ipmi") },
    ]);
  });

  it("refuses a plugin whose order differs (upstream's external/ipmi takes ipport), naming the order to set", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, ...noWatchdog, stonith: ipmi });
    expect(checkNodes(c, both("stonith\thostname ipaddr ipport userid passwd interface \n"))[0]).toEqual({
      property: "stonith.parameterOrder",
      reason:
        "external/ipmi on ha1.domain.local takes hostname ipaddr ipport userid passwd interface, in that order (`stonith -t external/ipmi -n`), " +
        "but ha.cf would list hostname ipaddr userid passwd interface. Set stonith.parameterOrder to the plugin's order and give each device those parameters.",
    });
  });

  it("refuses dopd on a node without it", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, ...noWatchdog, dopd: true });
    expect(checkNodes(c, both("dopd\tabsent\n")).map((f) => f.property)).toEqual(["dopd", "dopd"]);
  });

  it("asks the node's cluster-glue for the plugin's parameters, quoting the type", () => {
    const bin = mkdtempSync(join(tmpdir(), "stonith-"));
    writeFileSync(join(bin, "stonith"), `#!/bin/sh\n[ "$1 $2 $3" = "-t external/ipmi -n" ] && printf 'hostname  ipaddr  userid  passwd  interface  \\n'\n`);
    chmodSync(join(bin, "stonith"), 0o755);
    const line = buildHeartbeatProbeScript(fenced).text.split("\n").find((l) => l.startsWith("printf 'stonith"))!;
    const out = execFileSync("sh", ["-c", line], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: "utf8" });
    expect(parseHeartbeatProbe(out).stonithParameters).toEqual(["hostname", "ipaddr", "userid", "passwd", "interface"]);
  });

  it("looks for dopd where ha.cf runs it from", () => {
    expect(buildHeartbeatProbeScript(heartbeatClusterSchema.parse({ ...seedArgs, dopd: true })).text).toContain(`if [ -x ${DOPD_PATH} ]`);
  });

  it("keeps the probe a valid POSIX shell script with fencing configured", () => {
    const c = heartbeatClusterSchema.parse({ ...seedArgs, stonith: ipmi, dopd: true });
    expect(() => execFileSync("sh", ["-n", "-c", buildHeartbeatProbeScript(c).text])).not.toThrow();
  });
});

describe("installing ha.cf with STONITH on a node", () => {
  /** A node whose host records what it is asked to do instead of doing it. */
  function recordingNode() {
    const writes: { path: string; mode: string; content: string }[] = [];
    const commands: Shell[] = [];
    const host = {
      writeFile: async (path: string, content: string, o: { mode: string }) => void writes.push({ path, mode: o.mode, content }),
      exec: async (command: Shell) => {
        commands.push(command);
        return { stdout: "", stderr: "", exitCode: 0 };
      },
    };
    return { node: { index: 0 as const, name: "ha1.domain.local", host: host as unknown as Host }, writes, commands };
  }

  it("stages ha.cf with mode 0600 over stdin, never in a command, and keeps heartbeat -r's answer out of errors", async () => {
    const { node, writes, commands } = recordingNode();
    await installNode(fenced, node, undefined, 1);
    const shown = commands.map((c) => `${c.text}\n${c.display}`).join("\n");
    expect([
      writes.find((w) => w.path === "/etc/ha.d/.ha.cf.pulumi-new")?.mode,
      shown.includes(HA1_PASSWORD) || shown.includes(HA2_PASSWORD),
      shown.includes('exec "$hb" -r >/dev/null 2>&1'),
    ]).toEqual(["0600", false, true]);
  });

  it("lets heartbeat -r speak when ha.cf holds no secret", async () => {
    const { node, commands } = recordingNode();
    await installNode(seed, node, undefined, 1);
    expect(commands.some((c) => c.text.includes('exec "$hb" -r; fi'))).toBe(true);
  });
});

describe("dopd's permissions", () => {
  it("makes drbdsetup and drbdmeta setuid root for haclient only, skipping links and missing files", () => {
    const text = buildDopdPermissionsScript().text;
    expect([/chgrp haclient "\$f"/.test(text), /chmod 4750 "\$f"/.test(text), /\[ ! -L "\$f" \]/.test(text), /drbdsetup-84/.test(text)]).toEqual([true, true, true, true]);
  });
  it("is valid sh", () => {
    expect(() => execFileSync("sh", ["-n"], { input: buildDopdPermissionsScript().text })).not.toThrow();
  });
});
