import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { buildHeartbeatProbeScript, buildInstalledProbeScript, groupPlacement, parseHeartbeatProbe, withInstalled } from "../../provider/heartbeat/status";
import { seedArgs } from "./fixtures/heartbeat/seed";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "heartbeat", name), "utf8");
const seed = heartbeatClusterSchema.parse(seedArgs);
const ha1 = parseHeartbeatProbe(fixture("probe-ha1-steady.txt"));
const ha2AfterFailover = parseHeartbeatProbe(fixture("probe-ha2-after-failover.txt"));
const ha2Steady = { ...ha2AfterFailover, resources: "local" as const, running: [], domains: [] };

describe("the Heartbeat probe", () => {
  it("is a valid POSIX shell script", () => {
    expect(() => execFileSync("sh", ["-n", "-c", buildHeartbeatProbeScript(seed).text])).not.toThrow();
  });

  it("after an install that left Heartbeat alone, reads only the files, links and guests, and keeps the rest of the first report", () => {
    const text = buildInstalledProbeScript(seed).text;
    expect(() => execFileSync("sh", ["-n", "-c", text])).not.toThrow();
    expect([text.includes("cl_status"), text.includes("systemctl"), text.includes("sha256sum --"), text.includes("readlink")]).toEqual([false, false, true, true]);
    const after = parseHeartbeatProbe("link\t/etc/xen/auto/HA2\tvm0\t/etc/xen/vm0.cfg\nrunning\tvm0\ndomain\txendomainsHA2\tvm0\there\t/etc/xen/vm0.cfg\n");
    const merged = withInstalled(ha1, after);
    expect([merged.links, merged.domains.map((d) => d.group), merged.nodeStatus, merged.resources]).toEqual([after.links, ["xendomainsHA2"], ha1.nodeStatus, ha1.resources]);
  });

  it("hashes authkeys instead of reading it back", () => {
    expect(buildHeartbeatProbeScript(seed).text).toContain("sha256sum -- /etc/ha.d/authkeys");
  });

  it("reads every managed file from one sha256sum and one stat: present ones with digest and mode, absent ones as null", () => {
    const report = parseHeartbeatProbe(
      [
        "managed\t/etc/ha.d/authkeys",
        "managed\t/etc/ha.d/ha.cf",
        `sum\t${"ab".repeat(32)}\t/etc/ha.d/authkeys`,
        "mode\t600\t/etc/ha.d/authkeys",
      ].join("\n"),
    );
    expect(report.files).toEqual({ "/etc/ha.d/authkeys": { sha256: "ab".repeat(32), mode: "0600" }, "/etc/ha.d/ha.cf": null });
  });

  it("reads the node name, the files' modes and what cl_status says", () => {
    expect([ha1.nodeName, ha1.files["/etc/ha.d/authkeys"]?.mode, ha1.heartbeatRunning, ha1.resources]).toEqual(["ha1.domain.local", "0600", true, "local"]);
  });

  it("reads the peer's status and each heartbeat link after a failover", () => {
    expect([ha2AfterFailover.nodeStatus["ha1.domain.local"], ha2AfterFailover.heartbeatLinks.filter((l) => l.status === "dead").map((l) => l.link)]).toEqual([
      "dead",
      ["xenbr0", "eth1"],
    ]);
  });

  it("reads a bare node: no files, Heartbeat stopped, no watchdog", () => {
    const bare = parseHeartbeatProbe(fixture("probe-bare-lab-node.txt"));
    expect([bare.files["/etc/ha.d/ha.cf"], bare.heartbeatRunning, bare.resources, bare.watchdogPresent]).toEqual([null, false, "unknown", false]);
  });
});

describe("the Heartbeat probe on the lab", () => {
  const ha1Lab = parseHeartbeatProbe(fixture("probe-ha1-lab-empty-groups.txt"));
  const ha2Lab = parseHeartbeatProbe(fixture("probe-ha2-lab-empty-groups.txt"));

  it("reads a running cluster as captured: both nodes active on both links, authkeys 0600", () => {
    expect([ha1Lab.nodeStatus, ha1Lab.heartbeatLinks.map((l) => `${l.node} ${l.link} ${l.status}`), ha1Lab.files["/etc/ha.d/authkeys"]?.mode]).toEqual([
      { "ha1.domain.local": "active", "ha2.domain.local": "active" },
      ["ha1.domain.local eth1 up", "ha1.domain.local xenbr0 up", "ha2.domain.local eth1 up", "ha2.domain.local xenbr0 up"],
      "0600",
    ]);
  });

  it("with empty groups, each node holds its own", () => {
    const lab = heartbeatClusterSchema.parse({ ...seedArgs, domains: [] });
    expect(groupPlacement(lab, [ha1Lab, ha2Lab]).map((g) => [g.group, g.heldBy])).toEqual([
      ["xendomainsHA1", ["ha1.domain.local"]],
      ["xendomainsHA2", ["ha2.domain.local"]],
    ]);
  });

  it("turns cl_status's real answers (tab-indented link lists) into link lines", () => {
    // cl_status answers from a capture on ha1; the other tools answer as on a node with no DomU.
    const answers = fixture("cl_status-ha1.txt");
    const dir = mkdtempSync(join(tmpdir(), "hbprobe-"));
    mkdirSync(join(dir, "bin"));
    const stub = (name: string, body: string) => {
      writeFileSync(join(dir, "bin", name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, "bin", name), 0o755);
    };
    writeFileSync(join(dir, "answers"), answers);
    stub("cl_status", `awk -v q="## cl_status $*" '$0 == q { on = 1; next } /^## / { on = 0 } on && !/^rc=/' "${join(dir, "answers")}"`);
    stub("uname", "echo ha1.domain.local");
    stub("systemctl", "echo inactive");
    stub("xl", 'echo "Name ID Mem VCPUs State Time(s)"; echo "Domain-0 0 768 1 r----- 1.0"');
    const lab = heartbeatClusterSchema.parse({ ...seedArgs, domains: [], watchdog: null });
    const out = execFileSync("sh", ["-c", buildHeartbeatProbeScript(lab).text], { env: { PATH: `${join(dir, "bin")}:/usr/bin:/bin` }, encoding: "utf8" });
    expect(parseHeartbeatProbe(out).heartbeatLinks.filter((l) => l.node === "ha2.domain.local")).toEqual([
      { node: "ha2.domain.local", link: "eth1", status: "up" },
      { node: "ha2.domain.local", link: "xenbr0", status: "up" },
    ]);
  });
});

describe("which node holds which group", () => {
  it("in the steady state each node holds its own group and the DomU runs at home", () => {
    expect(groupPlacement(seed, [ha1, ha2Steady])).toEqual([
      { group: "xendomainsHA1", homeNode: "ha1.domain.local", heldBy: ["ha1.domain.local"], domains: [{ name: "test", runsOn: ["ha1.domain.local"] }] },
      { group: "xendomainsHA2", homeNode: "ha2.domain.local", heldBy: ["ha2.domain.local"], domains: [] },
    ]);
  });

  it("after ha1 died, ha2 holds both groups and runs ha1's DomU", () => {
    expect(groupPlacement(seed, [undefined, ha2AfterFailover])[0]).toEqual({
      group: "xendomainsHA1",
      homeNode: "ha1.domain.local",
      heldBy: ["ha2.domain.local"],
      domains: [{ name: "test", runsOn: ["ha2.domain.local"] }],
    });
  });

  it("shows a DomU running on both nodes, the split brain this package guards against", () => {
    expect(groupPlacement(seed, [ha1, ha2AfterFailover])[0]?.domains).toEqual([{ name: "test", runsOn: ["ha1.domain.local", "ha2.domain.local"] }]);
  });

  it("counts no group as held while a node's Heartbeat is in transition", () => {
    expect(groupPlacement(seed, [{ ...ha1, resources: "transition" }, ha2Steady])[0]?.heldBy).toEqual([]);
  });
});
