import { execFile, execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildInstallCommand,
  buildMarkCommand,
  buildReadCommand,
  countFromThisMachine,
  parseCallLine,
  parseLoginLine,
  parseMark,
  parseReading,
  renderWrapper,
  replayCommand,
  WRAPPER_MARK,
} from "../../bench/counters";

/** Runs text in dash (Debian's /bin/sh) and returns the words it sees. */
function wordsSeenByDash(commandText: string): string[] {
  const out = execFileSync("sh", ["-c", `set -- ${commandText}\nprintf '%s\\0' "$@"`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const callLine = (args: string[], connection = "10.0.2.2 40000 10.0.2.15 22") =>
  ["1764669600.123456789", "4242", connection, Buffer.from(args.map((a) => `${a}\0`).join(""), "utf8").toString("base64")].join("\t");

describe("the host-side counters' log", () => {
  it("reads a call back with its arguments intact: quotes, line breaks and all", () => {
    const args = ["-k", "10", "600", "sh", "-c", "set -eu\necho 'it''s' \"$x\"\tüñï"];
    expect(parseCallLine(callLine(args))).toEqual({ at: 1764669600.123456789, pid: 4242, client: { address: "10.0.2.2", port: 40000 }, args });
  });

  it("knows a call started outside any SSH session (Heartbeat's own scripts)", () => {
    expect(parseCallLine(callLine(["5", "ssh", "peer"], ""))?.client).toBeUndefined();
  });

  it("skips a line that was cut short", () => {
    expect(parseCallLine("1764669600.1\t4242\t10.0.2.2 40000")).toBeUndefined();
  });

  it("reads sshd's accepted login", () => {
    expect(parseLoginLine("1764669601.000001 ha1 sshd[812]: Accepted publickey for root from 10.0.2.2 port 51234 ssh2: ED25519 SHA256:abc")).toEqual({
      at: 1764669601.000001,
      method: "publickey",
      user: "root",
      client: { address: "10.0.2.2", port: 51234 },
    });
  });

  it("reads a mark", () => {
    expect(parseMark("client 10.0.2.2 50000 10.0.2.15 22\ncalls 17\ncursor s=ab12;i=3f;b=cd;m=1a;t=5f;x=99\n")).toEqual({
      calls: 17,
      cursor: "s=ab12;i=3f;b=cd;m=1a;t=5f;x=99",
      self: { address: "10.0.2.2", port: 50000 },
    });
  });
});

describe("counting what this machine cost a host", () => {
  const reading = parseReading(
    [
      "client 10.0.2.2 50005 10.0.2.15 22",
      "--- calls",
      callLine(["-k", "10", "600", "sh", "-c", "xl list"]),
      callLine(["-k", "10", "600", "sh", "-c", "drbdadm dstate r"]),
      callLine(["25", "ssh", "192.168.1.101", "xl", "list", "vm0"], "192.168.1.101 40022 192.168.1.100 22"),
      callLine(["25", "ssh", "192.168.1.101", "xl", "list", "vm0"], ""),
      "--- logins",
      "1764669601.0 ha1 sshd[812]: Accepted publickey for root from 10.0.2.2 port 50001 ssh2: ED25519 SHA256:abc",
      "1764669602.0 ha1 sshd[813]: Accepted publickey for root from 192.168.1.101 port 40022 ssh2: ED25519 SHA256:def",
      "1764669603.0 ha1 sshd[814]: Accepted publickey for root from 10.0.2.2 port 50005 ssh2: ED25519 SHA256:abc",
      "",
    ].join("\n"),
  );

  it("counts only the commands and logins from this machine, and not the reading's own login", () => {
    const { connections, commands } = countFromThisMachine(reading);
    expect({ connections, commands }).toEqual({ connections: 1, commands: 2 });
  });

  it("leaves out the mark's own login when journald stored it after the mark's cursor", () => {
    const mark = { calls: 0, cursor: "c", self: { address: "10.0.2.2", port: 50001 } };
    expect(countFromThisMachine(reading, mark).connections).toBe(0);
  });

  it("replays a logged call as the same timeout command, word for word", () => {
    const call = countFromThisMachine(reading).calls[1]!;
    expect(wordsSeenByDash(replayCommand(call).text)).toEqual(["timeout", "-k", "10", "600", "sh", "-c", "drbdadm dstate r"]);
  });

  it("reads from the mark's line on, and sshd's lines after the mark's cursor", () => {
    expect(buildReadCommand({ calls: 17, cursor: "s=1;i=2", self: { address: "10.0.2.2", port: 1 } }).text).toContain("sed -n '18,$p' /var/lib/pulumi-xen-ha-bench/timeout.log\necho '--- logins'\njournalctl --after-cursor='s=1;i=2' ");
  });
});

describe("the logging timeout, run here in dash", () => {
  let dir: string;
  let wrapper: string;
  let log: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "bench-counters-"));
    wrapper = path.join(dir, "timeout");
    log = path.join(dir, "calls.log");
    writeFileSync(wrapper, renderWrapper({ log, real: "/usr/bin/timeout" }));
    chmodSync(wrapper, 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], input: string) =>
    new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(wrapper, args, { env: { ...process.env, SSH_CONNECTION: "10.0.2.2 40000 10.0.2.15 22" } }, (err, stdout) =>
        resolve({ code: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout }),
      );
      child.stdin!.end(input);
    });

  it("runs the real timeout with the same arguments and standard input, and passes its exit code on", async () => {
    const r = await run(["-k", "1", "20", "sh", "-c", 'printf "%s|" "$1"; cat; exit 7', "x", "it's a\nword"], "from stdin");
    expect(r).toEqual({ code: 7, stdout: "it's a\nword|from stdin" });
  });

  it("logs each of many calls made at once on a line of its own, arguments intact", async () => {
    rmSync(log, { force: true });
    const scripts = Array.from({ length: 24 }, (_, i) => `echo ${i}; ${"x".repeat(1500 * (i % 4))} 2>/dev/null; true`);
    await Promise.all(scripts.map((s) => run(["10", "sh", "-c", s], "")));
    const calls = readFileSync(log, "utf8").trimEnd().split("\n").map(parseCallLine);
    expect(calls.map((c) => c?.args[3]).sort()).toEqual([...scripts].sort());
  });

  it("carries the mark that tells it from any other timeout", () => {
    expect(renderWrapper().split("\n")[1]).toBe(WRAPPER_MARK);
  });

  it("installs with its own check that timeout now resolves to it", () => {
    expect(buildInstallCommand().text.trimEnd().endsWith("command -v timeout")).toBe(true);
  });

  it("marks with the call count and the journal's cursor", () => {
    expect(buildMarkCommand().text).toMatch(/wc -l < \/var\/lib\/pulumi-xen-ha-bench\/timeout\.log[\s\S]*--show-cursor/);
  });
});
