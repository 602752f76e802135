import { diffInputs } from "../../provider/diff";
import { parseInputs, UNKNOWN } from "../../provider/inputs";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DOPD_FENCE_PEER, dopdFencePeer } from "../../provider/drbd/fencing";
import { renderResource } from "../../provider/drbd/render";
import { drbdResourceRules, planUpdate } from "../../provider/drbd/rules";
import { drbdResourceSchema, type DrbdResourceInput } from "../../provider/drbd/schema";
import { seedTestDisk } from "./fixtures/drbd/seed-inputs";

const parse = (input: DrbdResourceInput) => drbdResourceSchema.parse(input);
const dopd: DrbdResourceInput = { ...seedTestDisk, fencing: "resource-only", handlers: { fencePeer: DOPD_FENCE_PEER } };

function failuresOf(input: unknown): string[] {
  const parsed = parseInputs(drbdResourceSchema, input);
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

/** The lines of one section of the rendered resource, without indentation. */
function sectionOf(text: string, head: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.trim() === `${head} {`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l === lines[start]!.replace(/\S.*$/, "}"));
  return lines.slice(start + 1, end).map((l) => l.trim());
}

describe("fencing in the resource file", () => {
  it("is left out when unset, so existing files stay byte for byte the same", () => {
    expect(renderResource(parse({ ...seedTestDisk, handlers: {} }))).toBe(renderResource(parse(seedTestDisk)));
  });

  it("goes into the disk section in DRBD 8.4", () => {
    expect(sectionOf(renderResource(parse(dopd)), "disk")).toEqual(["on-io-error detach;", "fencing resource-only;", "resync-rate 90M;"]);
  });

  it("goes into the disk section in DRBD 8.3", () => {
    expect(sectionOf(renderResource(parse({ ...dopd, drbdVersion: "8.3" })), "disk")).toEqual(["on-io-error detach;", "fencing resource-only;"]);
  });

  it("writes the handlers as quoted commands in a handlers section", () => {
    const text = renderResource(parse({ ...dopd, handlers: { fencePeer: DOPD_FENCE_PEER, afterResyncTarget: "/usr/lib/drbd/unsnapshot-resync-target-lvm.sh" } }));
    expect(text).toContain(
      '\thandlers {\n\t\tfence-peer "/usr/libexec/heartbeat/drbd-peer-outdater -t 5";\n\t\tafter-resync-target "/usr/lib/drbd/unsnapshot-resync-target-lvm.sh";\n\t}\n\tstartup {\n',
    );
  });

  it("writes no handlers section without handlers", () => {
    expect(renderResource(parse({ ...seedTestDisk, fencing: "dont-care" }))).not.toContain("handlers");
  });
});

describe("fencing inputs", () => {
  it("accepts dopd's resource-only fencing with its handler", () => {
    expect(failuresOf(dopd)).toEqual([]);
  });

  it.each(["resource-only", "resource-and-stonith"] as const)("refuses %s fencing without a fence-peer handler, naming dopd's client", (fencing) => {
    expect(failuresOf({ ...seedTestDisk, fencing })).toEqual([
      `handlers.fencePeer: must be set when fencing is "${fencing}": DRBD calls it to outdate the peer's disk when a Primary loses the replication link. ` +
        `With Heartbeat's dopd that is dopdFencePeer(minor, pingInt, pingTimeout), the script HeartbeatCluster installs with dopd, which calls "/usr/libexec/heartbeat/drbd-peer-outdater -t 5"; ` +
        `TwoNodeXenHa sets it for you with heartbeat.dopd`,
    ]);
  });

  it("accepts dont-care without a handler: DRBD never calls it then", () => {
    expect(failuresOf({ ...seedTestDisk, fencing: "dont-care" })).toEqual([]);
  });

  it("accepts a fence-peer handler still unknown during preview", () => {
    expect(parseInputs(drbdResourceSchema, { ...seedTestDisk, fencing: "resource-only", handlers: { fencePeer: UNKNOWN } }).ok).toBe(true);
  });

  it("refuses a policy DRBD does not know", () => {
    expect(failuresOf({ ...seedTestDisk, fencing: "stonith" })).toEqual([expect.stringMatching(/^fencing: /)]);
  });

  it.each([
    ["fencePeer", 'drbd-peer-outdater -t "5"'],
    ["fencePeer", "drbd-peer-outdater -t 5; reboot"],
    ["afterResyncTarget", "echo done\nreboot"],
    ["afterResyncTarget", "echo done\\"],
  ])("refuses %s %j, which would break out of its quoted string", (field, command) => {
    expect(failuresOf({ ...dopd, handlers: { fencePeer: DOPD_FENCE_PEER, [field]: command } })).toEqual([
      `handlers.${field}: must not contain a double quote, backslash, semicolon or line break (drbd.conf holds it as one quoted string)`,
    ]);
  });

  it("refuses an empty handler", () => {
    expect(failuresOf({ ...dopd, handlers: { fencePeer: " " } })).toEqual(["handlers.fencePeer: must be a command, not empty"]);
  });

  it("refuses a handler longer than drbdadm reads", () => {
    expect(failuresOf({ ...dopd, handlers: { fencePeer: `/usr/bin/${"x".repeat(250)}` } })).toEqual([
      "handlers.fencePeer: must be at most 255 characters (drbdadm's limit for a quoted string)",
    ]);
  });

  it("refuses a misspelt handler name", () => {
    expect(failuresOf({ ...dopd, handlers: { fencePeer: DOPD_FENCE_PEER, fencepeer: "x" } })).toEqual([expect.stringMatching(/^handlers\.fencepeer: /)]);
  });
});

describe("changing fencing", () => {
  const before = parse(seedTestDisk);

  it("turning fencing on is an update", () => {
    expect(diffInputs(before, parse(dopd), drbdResourceRules)).toEqual({ changes: true, replaces: [], updates: ["fencing", "handlers"] });
  });

  it("another handler command is an update", () => {
    const after = parse({ ...dopd, handlers: { fencePeer: "/usr/lib/heartbeat/drbd-peer-outdater -t 5" } });
    expect(diffInputs(parse(dopd), after, drbdResourceRules)).toEqual({ changes: true, replaces: [], updates: ["handlers"] });
  });

  it("is applied by rewriting the resource file and running adjust", () => {
    expect(planUpdate(before, parse(dopd))).toMatchObject({ rewriteResource: true, adjust: true });
  });
});

describe("dopd's fence-peer handler", () => {
  const proc = (role: string) =>
    [
      "version: 8.4.11 (api:1/proto:86-101)",
      " 1: cs:WFConnection ro:Secondary/Unknown ds:UpToDate/DUnknown C r-----",
      `10: cs:WFConnection ro:${role}/Unknown ds:UpToDate/DUnknown C r-----`,
      "    ns:0 nr:0 dw:0 dr:0 al:0 bm:0 lo:0 pe:0 ua:0 ap:0 ep:1 wo:f oos:0",
      "",
    ].join("\n");
  const script = path.join(__dirname, "..", "..", "provider", "heartbeat", "dopd-fence-peer.sh");

  /**
   * Runs the handler as DRBD would, against a /proc/drbd with this text; drbd-peer-outdater answers
   * with the exit codes given in turn, and cl_status says the peer is `peerStatus`. sleep, the
   * outdater and cl_status log what they were asked; returns that log and the exit code.
   */
  function run(handler: string, procText: string, answers: number[] = [4], peerStatus = "active"): { log: string; code: number } {
    const dir = mkdtempSync(path.join(tmpdir(), "dopd-"));
    const stub = (name: string, body: string) => writeFileSync(path.join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    writeFileSync(path.join(dir, "drbd"), procText);
    writeFileSync(path.join(dir, "answers"), answers.join("\n") + "\n");
    stub("sleep", `echo "slept $1" >>"${dir}/log"`);
    stub("cl_status", `echo "cl_status $*" >>"${dir}/log"; echo ${peerStatus}`);
    stub("outdater", `echo "outdater $* for $DRBD_RESOURCE" >>"${dir}/log"; rc=$(head -n 1 "${dir}/answers"); sed -i 1d "${dir}/answers"; exit "$rc"`);
    const [, minor, wait] = handler.split(" ");
    const env = { PATH: `${dir}:${process.env.PATH}`, DOPD_OUTDATER: path.join(dir, "outdater"), DOPD_PROC_DRBD: path.join(dir, "drbd"), DOPD_LOCK: path.join(dir, "lock"), DRBD_RESOURCE: "test-disk", DRBD_PEER: "ha2.domain.local" };
    const r = spawnSync("sh", [script, minor!, wait!], { env, encoding: "utf8" });
    return { log: readFileSync(path.join(dir, "log"), "utf8"), code: r.status ?? -1 };
  }

  it("is the installed script with the resource's minor and its wait, a valid handler command", () => {
    expect([dopdFencePeer(10, 10), failuresOf({ ...seedTestDisk, fencing: "resource-only", handlers: { fencePeer: dopdFencePeer(10, 10) } })]).toEqual([
      "/usr/local/lib/pulumi-xen-ha/dopd-fence-peer 10 12",
      [],
    ]);
  });

  it("waits a ping interval, the ping timeout (rounded up) and a second, then asks dopd, when this node is Primary", () => {
    expect([run(dopdFencePeer(10, 10), proc("Primary")), run(dopdFencePeer(10, 10, 30), proc("Primary"))]).toEqual([
      { log: "slept 12\noutdater -t 5 for test-disk\n", code: 4 },
      { log: "slept 14\noutdater -t 5 for test-disk\n", code: 4 },
    ]);
  });

  it("asks dopd at once when this node is a Secondary being promoted, reading its own minor only", () => {
    expect([run(dopdFencePeer(10, 4), proc("Secondary")).log, run(dopdFencePeer(1, 4), proc("Primary")).log]).toEqual(["outdater -t 5 for test-disk\n", "outdater -t 5 for test-disk\n"]);
  });

  it("waits when its minor is not in /proc/drbd at all (the safe side)", () => {
    expect(run(dopdFencePeer(7, 4), proc("Secondary")).log).toBe("slept 6\noutdater -t 5 for test-disk\n");
  });

  it("asks again, two seconds apart, while dopd leaves it unanswered and Heartbeat sees the peer alive", () => {
    expect(run(dopdFencePeer(10, 4), proc("Secondary"), [5, 5, 4])).toEqual({
      log: "outdater -t 5 for test-disk\ncl_status nodestatus ha2.domain.local\nslept 2\noutdater -t 5 for test-disk\ncl_status nodestatus ha2.domain.local\nslept 2\noutdater -t 5 for test-disk\n",
      code: 4,
    });
  });

  it("takes an unreachable peer that Heartbeat declared dead as dead at once, and gives up after five tries", () => {
    expect([run(dopdFencePeer(10, 4), proc("Secondary"), [5], "dead"), run(dopdFencePeer(10, 4), proc("Secondary"), [5, 5, 5, 5, 5, 4]).code]).toEqual([
      { log: "outdater -t 5 for test-disk\ncl_status nodestatus ha2.domain.local\n", code: 5 },
      5,
    ]);
  });
});
