import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectionSchema } from "../../provider/ssh/connection";
import { closeAll, connect, connectionsOpened } from "../../provider/ssh/pool";
import { knownHosts } from "../../provider/ssh/known-hosts";
import {
  isConnectionError,
  isHostCommandError,
  isHostKeyConflictError,
  isHostKeyMismatchError,
  type HostCommandError,
  type HostKeyMismatchError,
} from "../../provider/errors";
import { secretWord, sh } from "../../provider/shell";
import { startFakeSshServer, type FakeSshServer } from "../support/fake-ssh-server";

let server: FakeSshServer;

beforeEach(async () => {
  server = await startFakeSshServer((command) => {
    if (command.includes("fail-loudly")) return { stderr: "lvcreate: Volume group \"vg\" has insufficient free space\n", exitCode: 5 };
    if (command.includes("warn-only")) return { stdout: "done\n", stderr: "WARNING: something harmless\n", exitCode: 0 };
    if (command.includes("not-found")) return { exitCode: 3 };
    if (command.includes("sleep-forever")) return { hang: true };
    if (command.includes("drop-me")) return { drop: true };
    if (command.includes("close-quietly")) return { closeWithoutStatus: true };
    return { stdout: "ok\n" };
  });
});

afterEach(async () => {
  await closeAll();
  await server.close();
});

const connectionTo = (s: FakeSshServer, extra: Record<string, unknown> = {}) =>
  connectionSchema.parse({ host: "127.0.0.1", port: s.port, user: "root", privateKey: s.clientKey, ...extra });

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("SSH layer", () => {
  it("decides by the exit code, not by stderr", async () => {
    const host = await connect(connectionTo(server));
    await expect(host.exec(sh`warn-only`)).resolves.toMatchObject({ exitCode: 0, stdout: "done\n" });
  });

  it("fails with host, command, exit code and stderr", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`fail-loudly ${"vg"}`, { hint: "vgs shows VFree" }))) as HostCommandError;
    expect(isHostCommandError(err) && [err.host, err.exitCode, err.message.includes("insufficient free space"), err.hint]).toEqual([
      `127.0.0.1:${server.port}`,
      5,
      true,
      "vgs shows VFree",
    ]);
  });

  it("accepts exit codes the caller names as answers", async () => {
    const host = await connect(connectionTo(server));
    await expect(host.exec(sh`not-found`, { okExitCodes: [3] })).resolves.toMatchObject({ exitCode: 3 });
  });

  it("redacts secrets from the command in errors", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`fail-loudly --password=${secretWord("hunter2")}`))) as Error;
    expect(err.message).not.toContain("hunter2");
  });

  it("logs each command's host, time and exit code when asked, secrets masked", async () => {
    const log = join(mkdtempSync(join(tmpdir(), "cmdlog-")), "commands.log");
    process.env.PULUMI_XEN_HA_COMMAND_LOG = log;
    try {
      const host = await connect(connectionTo(server));
      await host.exec(sh`warn-only --password=${secretWord("hunter2")}`);
      await host.exec(sh`not-found`, { okExitCodes: [3] });
    } finally {
      delete process.env.PULUMI_XEN_HA_COMMAND_LOG;
    }
    const lines = readFileSync(log, "utf8").trim().split("\n").map((l) => l.split("\t"));
    expect(lines.map(([, host, ms, code, command]) => [host, /^\d+$/.test(ms!), code, command])).toEqual([
      [`127.0.0.1:${server.port}`, true, "0", "warn-only --password=***"],
      [`127.0.0.1:${server.port}`, true, "3", "not-found"],
    ]);
  });

  it("sends file contents over stdin, never in the command", async () => {
    const host = await connect(connectionTo(server));
    await host.writeFile("/etc/ha.d/authkeys", "auth 1\n1 sha1 SecretKey123!!!\n", { mode: "0600" });
    const last = server.received[server.received.length - 1]!;
    expect([last.command.includes("SecretKey123"), last.stdin, last.command.includes("chmod 0600")]).toEqual([
      false,
      "auth 1\n1 sha1 SecretKey123!!!\n",
      true,
    ]);
  });

  it("kills a command that runs past its timeout", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`sleep-forever`, { timeoutMs: 300 }))) as HostCommandError;
    expect([err.exitCode, err.signal]).toEqual([null, "timeout after 0 s"]);
  });

  it("reuses one connection per host for every command of a run", async () => {
    const before = connectionsOpened();
    for (let i = 0; i < 5; i++) await (await connect(connectionTo(server))).exec(sh`true`);
    expect([server.connections, connectionsOpened() - before]).toEqual([1, 1]);
  });

  it("reports the host key it saw, for trust on first use", async () => {
    const host = await connect(connectionTo(server));
    expect(host.hostKey).toBe(server.hostKeyFingerprint);
  });

  it("refuses a host whose key differs from the pin before sending credentials", async () => {
    const pin = "SHA256:" + "A".repeat(43);
    const err = await failureOf(connect(connectionTo(server, { hostKey: pin })));
    expect([isHostKeyMismatchError(err), server.authAttempts]).toEqual([true, 0]);
  });

  it("refuses a pooled connection whose key differs from the one recorded in state", async () => {
    await connect(connectionTo(server));
    const err = await failureOf(connect(connectionTo(server), "SHA256:" + "B".repeat(43)));
    expect(isHostKeyMismatchError(err)).toBe(true);
  });

  it("reports a connection lost mid-command as a connection error, the command perhaps still running", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`drop-me`))) as Error;
    expect([isConnectionError(err), isHostCommandError(err), /may still be running on the host/.test(err.message)]).toEqual([true, false, true]);
  });

  it("reports a channel closed without an exit status as a connection error", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`close-quietly`))) as Error;
    expect([isConnectionError(err), /may still be running on the host/.test(err.message)]).toEqual([true, true]);
  });

  it("says which command the lost connection was running, secrets hidden", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`drop-me --password=${secretWord("e")}`))) as Error;
    expect(err.message).toContain("drop-me --password=***");
  });

  it("redacts a one-letter secret without mangling the rest of the command", async () => {
    const host = await connect(connectionTo(server));
    const err = (await failureOf(host.exec(sh`fail-loudly --verbose ${secretWord("e")}`))) as Error;
    expect(err.message.split("\n")[0]).toMatch(/: fail-loudly --verbose \*\*\*$/);
  });

  it("does not retry a failed authentication", async () => {
    const other = await startFakeSshServer(() => ({}));
    try {
      await failureOf(connect(connectionTo(server, { privateKey: other.clientKey })));
      expect(server.connections).toBe(1);
    } finally {
      await other.close();
    }
  });
});

describe("SSH host keys", () => {
  const otherKey = "SHA256:" + "C".repeat(43);
  const endpoint = () => `127.0.0.1:${server.port}`;

  it("connects when the pinned key matches", async () => {
    const host = await connect(connectionTo(server, { hostKey: server.hostKeyFingerprint }));
    expect(host.hostKey).toBe(server.hostKeyFingerprint);
  });

  it("holds a dial without pin or record to the key the stack knows, refusing another before authentication", async () => {
    knownHosts.learn({ endpoint: endpoint(), key: otherKey, source: "recorded at observedHostKey in the state of VolumeGroup \"vg\"" });
    const err = await failureOf(connect(connectionTo(server)));
    expect([isHostKeyMismatchError(err), server.authAttempts, server.received.length]).toEqual([true, 0, 0]);
  });

  it("names where the known key came from, and that nothing was sent", async () => {
    knownHosts.learn({ endpoint: endpoint(), key: otherKey, source: "recorded at observedHostKey in the state of VolumeGroup \"vg\"" });
    const err = (await failureOf(connect(connectionTo(server)))) as HostKeyMismatchError;
    expect([err.message.includes('VolumeGroup "vg"'), err.message.includes("before authentication: no credential and no command was sent")]).toEqual([true, true]);
  });

  it("connects a new resource to a known host when it presents the known key", async () => {
    knownHosts.learn({ endpoint: endpoint(), key: server.hostKeyFingerprint, source: "test" });
    await expect(connect(connectionTo(server))).resolves.toMatchObject({ hostKey: server.hostKeyFingerprint });
  });

  it("remembers the key seen on first use for the rest of the process", async () => {
    await connect(connectionTo(server));
    expect(knownHosts.keyFor(endpoint())?.key).toBe(server.hostKeyFingerprint);
  });

  it("never hands a pooled connection to a caller expecting another key, and says so", async () => {
    await connect(connectionTo(server));
    const err = (await failureOf(connect(connectionTo(server), otherKey))) as HostKeyMismatchError;
    expect([err.refusedAt, server.connections, err.message.includes("had already been made in this run")]).toEqual(["pooled", 1, true]);
  });

  it("tells a resource whose recorded key differs that this is another machine than where its data lives", async () => {
    const err = (await failureOf(connect(connectionTo(server), otherKey))) as HostKeyMismatchError;
    expect(err.message).toMatch(/another machine than the one this resource's data lives on/);
  });

  it("refuses a dial whose recorded key differs before authentication when no connection is pooled", async () => {
    const err = (await failureOf(connect(connectionTo(server), otherKey))) as HostKeyMismatchError;
    expect([err.refusedAt, err.expectation.from, server.authAttempts]).toEqual(["handshake", "record", 0]);
  });

  it("refuses a caller expecting another key even when it logs in as another user", async () => {
    await connect(connectionTo(server));
    const err = await failureOf(connect(connectionTo(server, { user: "admin" }), otherKey));
    expect([isHostKeyMismatchError(err), server.connections]).toEqual([true, 1]);
  });

  it("refuses a key learned on first use that conflicts with one claimed meanwhile", async () => {
    const dialing = connect(connectionTo(server));
    knownHosts.learn({ endpoint: endpoint(), key: otherKey, source: "pinned at connection.hostKey of VolumeGroup \"vg\" in the program" });
    expect(isHostKeyConflictError(await failureOf(dialing))).toBe(true);
  });
});
