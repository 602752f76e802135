import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSurveyScript, parseSurvey, parseSyncFinish } from "../../cli/status/survey";
import { fixture } from "./fixtures/status/readings";

const peer = { publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101" };

describe("one node's survey", () => {
  it("reads the node's name, domains, DRBD devices, Heartbeat's view and both links from one answer", () => {
    const s = parseSurvey(fixture("status/survey-ha1.txt"));
    expect({
      nodename: s.nodename,
      toolstack: s.toolstack,
      domains: s.domains.ok ? s.domains.list.map((d) => `${d.name}:${d.domid}`) : s.domains,
      drbd: s.drbd?.ok ? [...s.drbd.proc.devices.values()].map((d) => `${d.minor}:${d.connection}:${d.disk}`) : s.drbd,
      heartbeat: s.heartbeat,
      links: s.links,
    }).toEqual({
      nodename: "ha1.domain.local",
      toolstack: "xl",
      domains: ["Domain-0:0", "test:3"],
      drbd: ["1:Connected:UpToDate", "2:Connected:UpToDate"],
      heartbeat: { state: "running", resources: "local", nodeStatus: { "ha1.domain.local": "active", "ha2.domain.local": "active" } },
      links: [
        { link: "public", address: "10.1.1.101", state: "up" },
        { link: "crossover", address: "192.168.1.101", state: "cut" },
      ],
    });
  });

  it("reads the time left of each resync from /proc/drbd's finish: field", () => {
    expect(parseSyncFinish(fixture("drbd/proc-drbd-sync-source.txt"))).toEqual({ 1: 4 * 60 + 49, 2: 7 * 3600 + 38 * 60 + 50 });
  });

  it("reports a failed domain listing with its exit code and the tool's own words, not as a crash", () => {
    const out = "--8<-- status uname\nha1\n--8<-- status domains xl\n--8<-- status domains-exit 1\n--8<-- status drbd absent\n--8<-- status heartbeat\nheartbeat\tabsent\n--8<-- status links\n";
    expect(parseSurvey(out, "xc: error: Could not obtain handle on privileged command interface: No such file or directory\n").domains).toEqual({
      ok: false,
      error: "xl list failed with exit code 1: xc: error: Could not obtain handle on privileged command interface: No such file or directory",
    });
  });

  it("tells a node without Heartbeat or DRBD from one where they are stopped", () => {
    const out = "--8<-- status uname\nha1\n--8<-- status domains none\n--8<-- status drbd absent\n--8<-- status heartbeat\nheartbeat\tabsent\n--8<-- status links\n";
    const s = parseSurvey(out);
    expect([s.heartbeat, s.drbd, s.domains]).toEqual([{ state: "absent" }, undefined, { ok: false, error: "neither xl nor xm is installed" }]);
  });
});

describe("the survey script", () => {
  const dir = mkdtempSync(join(tmpdir(), "status-survey-"));
  const stub = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`);
    chmodSync(join(dir, name), 0o755);
  };
  writeFileSync(join(dir, "xl-list.txt"), fixture("xen/xl-list.txt"));
  writeFileSync(join(dir, "proc-drbd"), fixture("drbd/proc-drbd-sync-target.txt"));
  stub("uname", "echo ha2.domain.local");
  stub("xl", `[ "$1" = list ] && cat ${join(dir, "xl-list.txt")}`);
  stub("cl_status", 'case "$1" in hbstatus) exit 0 ;; rscstatus) echo all ;; listnodes) printf "ha2.domain.local\\nha1.domain.local\\n" ;; nodestatus) [ "$2" = ha1.domain.local ] && echo dead || echo active ;; esac');
  stub("ping", 'for a; do last=$a; done\n[ "$last" = 10.1.1.101 ]');

  it("prints, in one run, what the parser reads back: a node that took over its peer's group during a resync", () => {
    const script = buildSurveyScript(peer, join(dir, "proc-drbd"));
    const s = parseSurvey(execFileSync("sh", ["-c", script.text], { encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin` } }));
    expect({
      nodename: s.nodename,
      domains: s.domains.ok && s.domains.list.map((d) => d.name),
      resync: s.drbd?.ok && { percent: s.drbd.proc.devices.get(1)?.syncPercent, secondsLeft: s.drbd.finishSeconds[1] },
      heartbeat: s.heartbeat,
      links: s.links.map((l) => `${l.link} ${l.state}`),
    }).toEqual({
      nodename: "ha2.domain.local",
      domains: ["Domain-0", "test"],
      resync: { percent: 22.7, secondsLeft: 289 },
      heartbeat: { state: "running", resources: "all", nodeStatus: { "ha1.domain.local": "dead", "ha2.domain.local": "active" } },
      links: ["public up", "crossover cut"],
    });
  });
});
