/**
 * Counting on the hosts themselves what a run cost them: every command the package runs goes
 * through `timeout` (provider/ssh/host.ts), so a `timeout` in /usr/local/bin (ahead of
 * /usr/bin on root's PATH) logs each call before it runs the real one; and sshd logs each login.
 * The commands that install, mark, read and remove the counters, and the parsers of what they
 * print. Pure: nothing here runs a command.
 */
import { literal, quote, script, sh, type Shell } from "../provider/shell";

export const WRAPPER_PATH = "/usr/local/bin/timeout";
export const REAL_TIMEOUT_PATH = "/usr/bin/timeout";
export const COUNTER_DIR = "/var/lib/pulumi-xen-ha-bench";
export const CALL_LOG = `${COUNTER_DIR}/timeout.log`;
/** The wrapper's second line: what tells our wrapper from any other /usr/local/bin/timeout. */
export const WRAPPER_MARK = "# pulumi-xen-ha bench: counts the commands run under timeout.";

/**
 * The wrapper: one line per call (time, pid, SSH_CONNECTION, the arguments NUL-separated in
 * base64), written under a lock in one write, then the real timeout with the same arguments and
 * standard input. A failure to log never stops the command. `log` and `real` are for trying it
 * elsewhere than on a node.
 */
export function renderWrapper({ log = CALL_LOG, real = REAL_TIMEOUT_PATH }: { log?: string; real?: string } = {}): string {
  return [
    "#!/bin/sh",
    WRAPPER_MARK,
    `# Installed for a benchmark run and removed after it; the real one is ${quote(real)}.`,
    "{",
    "  flock -w 5 9 || true",
    `  printf '%s\\t%s\\t%s\\t%s\\n' "$(date +%s.%N)" "$$" "\${SSH_CONNECTION:-}" "$(printf '%s\\0' "$@" | base64 -w 0)" >&9`,
    `} 2>/dev/null 9>>${quote(log)}`,
    `exec ${quote(real)} "$@"`,
    "",
  ].join("\n");
}

/** Installs the wrapper (its text on stdin) and an empty call log; prints where `timeout` now resolves. */
export function buildInstallCommand(): Shell {
  return script(
    sh`if [ -e ${WRAPPER_PATH} ] && ! grep -qxF ${WRAPPER_MARK} ${WRAPPER_PATH}; then echo ${`${WRAPPER_PATH} exists and is not the benchmark's: refusing to replace it`} >&2; exit 3; fi`,
    sh`mkdir -p ${COUNTER_DIR}`,
    sh`chmod 0700 ${COUNTER_DIR}`,
    sh`: > ${CALL_LOG}`,
    sh`chmod 0600 ${CALL_LOG}`,
    sh`tmp=$(mktemp ${`${WRAPPER_PATH}.XXXXXX`})`,
    literal(`cat > "$tmp"`),
    literal(`chmod 0755 "$tmp"`),
    sh`mv -f "$tmp" ${WRAPPER_PATH}`,
    literal("command -v timeout"),
  );
}

/** Removes the wrapper (only ours) and the call log; nothing there is fine. */
export function buildRemoveCommand(): Shell {
  return script(
    sh`if [ -e ${WRAPPER_PATH} ] && ! grep -qxF ${WRAPPER_MARK} ${WRAPPER_PATH}; then echo ${`${WRAPPER_PATH} is not the benchmark's: leaving it`} >&2; exit 3; fi`,
    sh`rm -f ${WRAPPER_PATH}`,
    sh`rm -rf ${COUNTER_DIR}`,
  );
}

/**
 * Where counting starts on one host: the calls logged so far, the journal's last entry, and the
 * mark's own SSH client (journald may store its login after the cursor: it is not counted).
 */
export interface CounterMark {
  calls: number;
  cursor: string;
  self: SshClient;
}

/** Prints its own SSH client, the number of calls logged so far and the journal's cursor. */
export function buildMarkCommand(): Shell {
  return script(
    literal(`echo "client \${SSH_CONNECTION:-}"`),
    sh`echo "calls $(wc -l < ${CALL_LOG})"`,
    literal("journalctl -n 1 --show-cursor --no-pager -o cat | sed -n 's/^-- cursor: /cursor /p'"),
  );
}

export function parseMark(text: string): CounterMark {
  const self = parseSshConnection(/^client (.*)$/m.exec(text)?.[1] ?? "");
  const calls = /^calls (\d+)$/m.exec(text)?.[1];
  const cursor = /^cursor (\S+)$/m.exec(text)?.[1];
  if (!self || calls === undefined || cursor === undefined) throw new Error(`not a counter mark: ${JSON.stringify(text.slice(0, 200))}`);
  return { calls: Number(calls), cursor, self };
}

const CALLS_HEADER = "--- calls";
const LOGINS_HEADER = "--- logins";

/**
 * Prints this command's own SSH client, the calls logged since the mark, and sshd's accepted
 * logins since it. It first waits (at most 10 s) for its own login to reach the journal: journald
 * stores sshd's lines in the order they came, so every earlier login is there by then.
 */
export function buildReadCommand(mark: CounterMark): Shell {
  return script(
    literal(`echo "client \${SSH_CONNECTION:-}"`),
    literal(`port=$(echo "\${SSH_CONNECTION:-}" | cut -d ' ' -f 2)`),
    literal("tries=0"),
    sh`until journalctl --after-cursor=${mark.cursor} --no-pager -o cat | grep -q " port $port ssh2"; do tries=$((tries + 1)); [ "$tries" -lt 50 ] || break; sleep 0.2; done`,
    sh`echo ${CALLS_HEADER}`,
    sh`sed -n ${`${mark.calls + 1},$p`} ${CALL_LOG}`,
    sh`echo ${LOGINS_HEADER}`,
    sh`journalctl --after-cursor=${mark.cursor} --no-pager -o short-unix | grep -E 'sshd(-session)?\\[[0-9]+\\]: Accepted ' || true`,
  );
}

/** An SSH client as sshd sees it. */
export interface SshClient {
  address: string;
  port: number;
}

/** One call of `timeout` on a host. */
export interface TimeoutCall {
  /** Seconds since the epoch, on the host's clock. */
  at: number;
  pid: number;
  /** The SSH session that ran it; undefined for a command started otherwise (Heartbeat's scripts). */
  client: SshClient | undefined;
  /** The arguments after `timeout` (`-k`, `10`, `600`, `sh`, `-c`, the script). */
  args: string[];
}

/** One login sshd accepted. */
export interface Login {
  at: number;
  method: string;
  user: string;
  client: SshClient;
}

export interface Reading {
  /** The reading's own SSH client: its address is this machine as the host sees it. */
  self: SshClient;
  calls: TimeoutCall[];
  logins: Login[];
}

/** `10.0.2.2 45678 10.0.2.15 22` (SSH_CONNECTION) to its client part. */
export function parseSshConnection(value: string): SshClient | undefined {
  const [address, port] = value.trim().split(/\s+/);
  return address && port && /^\d+$/.test(port) ? { address, port: Number(port) } : undefined;
}

/** One line of the call log; undefined for a line that is not one (cut short, say). */
export function parseCallLine(line: string): TimeoutCall | undefined {
  const fields = line.split("\t");
  if (fields.length !== 4) return undefined;
  const [at, pid, connection, encoded] = fields as [string, string, string, string];
  if (!/^\d+(\.\d+)?$/.test(at) || !/^\d+$/.test(pid) || !/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) return undefined;
  const joined = Buffer.from(encoded, "base64").toString("utf8");
  const args = joined === "" ? [] : joined.split("\0").slice(0, -1);
  return { at: Number(at), pid: Number(pid), client: parseSshConnection(connection), args };
}

const LOGIN = /^(\d+(?:\.\d+)?) \S+ sshd(?:-session)?\[\d+\]: Accepted (\S+) for (\S+) from (\S+) port (\d+)/;

/** One of sshd's `Accepted publickey for root from 10.0.2.2 port 45678 ssh2…` lines (journalctl -o short-unix). */
export function parseLoginLine(line: string): Login | undefined {
  const m = LOGIN.exec(line.trim());
  if (!m) return undefined;
  return { at: Number(m[1]), method: m[2]!, user: m[3]!, client: { address: m[4]!, port: Number(m[5]) } };
}

export function parseReading(text: string): Reading {
  const lines = text.split("\n");
  const self = parseSshConnection(/^client (.*)$/m.exec(text)?.[1] ?? "");
  const callsAt = lines.indexOf(CALLS_HEADER);
  const loginsAt = lines.indexOf(LOGINS_HEADER);
  if (!self || callsAt < 0 || loginsAt < callsAt) throw new Error(`not a counter reading: ${JSON.stringify(text.slice(0, 200))}`);
  const calls = lines.slice(callsAt + 1, loginsAt).flatMap((l) => (l === "" ? [] : [parseCallLine(l)].filter((c): c is TimeoutCall => c !== undefined)));
  const logins = lines.slice(loginsAt + 1).flatMap((l) => [parseLoginLine(l)].filter((x): x is Login => x !== undefined));
  return { self, calls, logins };
}

/** What one host counted from this machine since the mark, the mark's and the reading's own logins left out. */
export interface HostCount {
  connections: number;
  commands: number;
  /** The commands themselves, for a replay. */
  calls: TimeoutCall[];
}

export function countFromThisMachine(reading: Reading, mark?: CounterMark): HostCount {
  const ours = (c: SshClient | undefined) => c !== undefined && c.address === reading.self.address;
  const own = new Set([reading.self.port, ...(mark ? [mark.self.port] : [])]);
  const calls = reading.calls.filter((c) => ours(c.client));
  const connections = reading.logins.filter((l) => ours(l.client) && !own.has(l.client.port)).length;
  return { connections, commands: calls.length, calls };
}

/** The command that runs a logged call again, as the package ran it: `timeout` with the same arguments. */
export function replayCommand(call: TimeoutCall): Shell {
  return sh`timeout ${call.args}`;
}
