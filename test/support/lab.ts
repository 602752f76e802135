/**
 * Fixtures for tests against the QEMU lab (lab/lab.sh): the connection details
 * the lab writes, commands on the nodes' dom0s, and the lab's fault controls.
 */
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import { poll, type PollOptions } from "../../provider/poll";

export type LabNodeName = "ha1" | "ha2";
export type LabLinkName = "public" | "crossover";
export const LAB_NODES: readonly LabNodeName[] = ["ha1", "ha2"];

/** One node as recorded in `<labdir>/run/lab.json`. */
export interface LabNode {
  /** Address of the node's forwarded SSH port (always loopback). */
  host: string;
  /** Loopback port forwarded to the dom0's sshd. */
  port: number;
  /** Login user (root). */
  user: string;
  /** SHA256 fingerprint of the node's host key, e.g. `SHA256:…`. */
  hostKey: string;
  /** The host key itself, `ssh-ed25519 AAAA…`. */
  hostPublicKey: string;
  /** NIC on the public link inside dom0 (eth0). */
  publicNic: string;
  /** NIC on the crossover link inside dom0 (eth1). */
  crossoverNic: string;
  /** NIC of the lab's management network (eth2); never reconfigure it. */
  managementNic: string;
  /** The seed's public address for this node (assigned by NodeNetwork, not the lab). */
  publicAddress: string;
  /** The seed's crossover address for this node (assigned by NodeNetwork, not the lab). */
  crossoverAddress: string;
  /** Block device of the empty data disk, e.g. `/dev/vdb`. */
  dataDisk: string;
  /** Lab hypervisor option the node booted with (`default` or `4.17.5`). */
  hypervisor: string;
  /** Debian version of the running hypervisor package. */
  hypervisorPackage: string;
  /** `xl info` xen_version. */
  xenVersion: string;
  /** `xl info` virt_caps (`hap` with the default CPU model, `shadow` on 4.17.5). */
  virtCaps: string;
}

/** The lab's connection JSON. */
export interface LabConnection {
  hypervisor: string;
  hypervisorPackage: string;
  /** The lab's private key for root logins (mode 0600). */
  privateKeyPath: string;
  /** known_hosts with both nodes' host keys, for StrictHostKeyChecking=yes. */
  knownHostsPath: string;
  nodes: Record<LabNodeName, LabNode>;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  /** Exit code of the remote command; 255 when SSH itself failed; -1 on timeout. */
  code: number;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const LAB_SCRIPT = path.join(REPO_ROOT, "lab", "lab.sh");

export function labDir(): string {
  return process.env.XEN_HA_LAB_DIR ?? path.join(homedir(), ".cache", "pulumi-xen-ha", "lab");
}

export function labConnectionPath(): string {
  return path.join(labDir(), "run", "lab.json");
}

/** Reads the connection JSON that `lab.sh up` writes; fails when the lab is not up. */
export function labConnection(): LabConnection {
  const file = labConnectionPath();
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (cause) {
    throw new Error(`no lab connection at ${file}: run 'npm run lab:up' first`, { cause });
  }
  return JSON.parse(text) as LabConnection;
}

function sshArgs(conn: LabConnection, node: LabNodeName, connectTimeoutS: number, knownHostsPath = conn.knownHostsPath): string[] {
  const n = conn.nodes[node];
  return [
    "-F", "/dev/null",
    "-i", conn.privateKeyPath,
    "-p", String(n.port),
    "-o", "IdentitiesOnly=yes",
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${knownHostsPath}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", `ConnectTimeout=${connectTimeoutS}`,
    "-o", "ServerAliveInterval=10",
    "-o", "ServerAliveCountMax=3",
    "-o", "LogLevel=ERROR",
    `${n.user}@${n.host}`,
  ];
}

export interface LabExecOptions {
  /** Kill the command after this long (default 120 000 ms); the result then has code -1. */
  timeoutMs?: number;
  /** Sent to the command's standard input. */
  stdin?: string;
  /** SSH connect timeout in seconds (default 10). */
  connectTimeoutS?: number;
  /** known_hosts to check the node's key against instead of the lab's (a test that swaps a host key). */
  knownHostsPath?: string;
}

/**
 * Runs a shell command on a node's dom0 as root, through the system ssh with the
 * lab's key and the pinned host key. A non-zero exit is a result, not an error.
 */
export function labExec(node: LabNodeName, command: string, options: LabExecOptions = {}): Promise<ExecResult> {
  const conn = labConnection();
  const args = [...sshArgs(conn, node, options.connectTimeoutS ?? 10, options.knownHostsPath), "--", command];
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs ?? 120_000);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code: timedOut ? -1 : (code ?? -1) });
    });
    child.stdin.end(options.stdin ?? "");
  });
}

/** Like labExec, but a non-zero exit throws with the command's output. */
export async function labRun(node: LabNodeName, command: string, options: LabExecOptions = {}): Promise<string> {
  const r = await labExec(node, command, options);
  if (r.code !== 0) {
    throw new Error(`${node}: '${command}' exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
  return r.stdout;
}

/** Runs `lab/lab.sh ARGS…`, failing with its output when it exits non-zero. */
export function labScript(args: string[], timeoutMs = 20 * 60_000, env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("bash", [LAB_SCRIPT, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20, env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`lab.sh ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

/** Hard-kills a node's QEMU (no clean shutdown: a power cut). */
export async function labKill(node: LabNodeName): Promise<void> {
  await labScript(["kill", node]);
}

/** Boots a node again on its existing disks and waits until SSH and `xl info` answer. */
export async function labStart(node: LabNodeName): Promise<void> {
  await labScript(["start", node]);
}

/** Cuts (`down`) or plugs back (`up`) the cable of a link on both nodes. */
export async function labLink(link: LabLinkName, state: "up" | "down"): Promise<void> {
  await labScript(["link", link, state]);
}

export type WaitForOptions = PollOptions;

/**
 * Polls `fn` until it returns a value other than undefined or false, and returns
 * it; throws after the deadline with the last value or error seen.
 */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, { timeoutMs, intervalMs = 1000, what }: WaitForOptions): Promise<T> {
  const attempt = async (): Promise<{ value: T } | { last: unknown }> => {
    try {
      const value = await fn();
      return value !== undefined && value !== false ? { value: value as T } : { last: value };
    } catch (err) {
      return { last: err };
    }
  };
  const { value: seen } = await poll(attempt, (r) => "value" in r, { timeoutMs, intervalMs });
  if ("value" in seen) return seen.value;
  const detail = seen.last instanceof Error ? seen.last.message : JSON.stringify(seen.last);
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${detail})`);
}

/**
 * The domains `xl list` shows on a node, Domain-0 left out. A node that cannot be observed fails
 * the test with its error, since an empty list would pass assertions about where guests run.
 * One sample is tried up to `attempts` times, each within `timeoutMs`.
 */
export async function labDomains(node: LabNodeName, { attempts = 1, timeoutMs = 120_000 } = {}): Promise<string[]> {
  const failures: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const r = await labExec(node, "xl list", { timeoutMs }).catch((err: Error) => ({ code: -1, stdout: "", stderr: err.message }));
    if (r.code === 0) {
      return r.stdout
        .split("\n")
        .slice(1)
        .map((line) => line.split(/\s+/)[0] ?? "")
        .filter((name) => name !== "" && name !== "Domain-0");
    }
    const how = r.code === -1 ? `killed or no answer within ${timeoutMs} ms` : `exit ${r.code}`;
    failures.push(`attempt ${attempt}/${attempts}: ${how}: ${r.stderr.trim() || "(no stderr)"}`);
  }
  throw new Error(`${node}: could not list its domains (xl list):\n  ${failures.join("\n  ")}`);
}

/**
 * The domains that run on a node, from `xl list`'s State column: a domain paused (`p`, such as the
 * receiving end of a live migration before it takes over), suspended (`s`, the sending end once it
 * has handed over), crashed (`c`) or dying (`d`) executes nothing. Each with its State.
 */
export async function labRunningDomains(node: LabNodeName, { timeoutMs = 120_000 } = {}): Promise<{ name: string; state: string }[]> {
  const out = await labRun(node, "xl list", { timeoutMs });
  return out
    .split("\n")
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length >= 5 && f[0] !== "Domain-0")
    .map((f) => ({ name: f[0]!, state: f[4]! }))
    .filter((d) => !/[pscd]/.test(d.state));
}

/** `cl_status rscstatus` on a node: which haresources lines its Heartbeat holds ("stopped" when it does not run). */
export const labHolding = (node: LabNodeName): Promise<string> => labRun(node, "cl_status rscstatus 2>/dev/null || echo stopped").then((s) => s.trim());

/** `ping` from a node's dom0; true when a reply came back. */
export async function labPing(from: LabNodeName, address: string, count = 1, waitS = 2): Promise<boolean> {
  const r = await labExec(from, `ping -c ${count} -W ${waitS} -q ${address}`, { timeoutMs: (count * waitS + 15) * 1000 });
  return r.code === 0;
}

/**
 * Removes what an interrupted lab test left on the data disk (the lab gives it to tests only): DRBD
 * resources backed by volume group "vg", then the group itself. Prints what it removed.
 */
export const VOLUME_GROUP_LEFTOVERS_SCRIPT = [
  "for res in $(drbdadm sh-resources 2>/dev/null); do",
  '  if drbdadm sh-ll-dev "$res" 2>/dev/null | grep -q "^/dev/vg/"; then drbdadm down "$res" 2>/dev/null; rm -f "/etc/drbd.d/$res.res"; echo "removed DRBD resource $res"; fi',
  "done",
  "if vgs vg >/dev/null 2>&1; then",
  '  echo "removed volume group vg: $(lvs --noheadings -o lv_name vg | xargs)"',
  "  pvs=$(pvs --noheadings -o pv_name -S vg_name=vg | xargs)",
  "  vgremove -y -f vg >/dev/null && pvremove -y $pvs >/dev/null && wipefs -a -q $pvs",
  "fi",
  "true",
].join("\n");

/**
 * Test fixture for guest tests that run without NodeNetwork: the guests' bridge on the public
 * link, carrying the node's public address (`up`), or back to the address on the NIC itself.
 */
export function guestBridgeScript(node: LabNodeName, up: boolean, bridge = "xenbr0"): string {
  const n = labConnection().nodes[node];
  return up
    ? [
        "set -e",
        `ip link show ${bridge} >/dev/null 2>&1 || ip link add ${bridge} type bridge`,
        `ip link set ${bridge} up`,
        `ip link set ${n.publicNic} master ${bridge}`,
        `ip addr del ${n.publicAddress}/24 dev ${n.publicNic} 2>/dev/null || true`,
        `ip addr replace ${n.publicAddress}/24 dev ${bridge}`,
      ].join("\n")
    : [`ip link del ${bridge} 2>/dev/null || true`, `ip addr replace ${n.publicAddress}/24 dev ${n.publicNic}`].join("\n");
}

/**
 * Test fixture for tests that run before NodeNetwork exists: gives eth0 and eth1
 * the seed's addresses (10.1.1.100/101 and 192.168.1.100/101, /24). Idempotent.
 */
export async function assignSeedAddresses(nodes: readonly LabNodeName[] = LAB_NODES): Promise<void> {
  const conn = labConnection();
  await Promise.all(
    nodes.map((node) => {
      const n = conn.nodes[node];
      const script = [
        "set -e",
        `ip link set ${n.publicNic} up`,
        `ip link set ${n.crossoverNic} up`,
        `ip addr replace ${n.publicAddress}/24 dev ${n.publicNic}`,
        `ip addr replace ${n.crossoverAddress}/24 dev ${n.crossoverNic}`,
      ].join("\n");
      return labRun(node, script);
    }),
  );
}

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
}

/**
 * A strict well-formedness check of the XML subset the lab's fence agents print (elements,
 * attributes in double quotes, text; no prolog, comments or CDATA). Throws on anything else.
 */
export function parseXml(text: string): XmlElement {
  const token = /<\/([A-Za-z_][\w.-]*)\s*>|<([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*\s*=\s*"[^"<]*")*)\s*(\/?)>|([^<]+)/y;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (token.lastIndex < text.length) {
    const at = token.lastIndex;
    const m = token.exec(text);
    if (!m) throw new Error(`not XML at offset ${at}: ${JSON.stringify(text.slice(at, at + 40))}`);
    const [, close, open, attrs, selfClosing, chars] = m;
    if (chars !== undefined) {
      if (/&(?!(amp|lt|gt|quot|apos);)/.test(chars)) throw new Error(`a bare & in ${JSON.stringify(chars)}`);
      if (stack.length === 0 && chars.trim() !== "") throw new Error(`text outside the root: ${JSON.stringify(chars)}`);
    } else if (open !== undefined) {
      const attributes: Record<string, string> = {};
      for (const [, n, v] of (attrs ?? "").matchAll(/([A-Za-z_][\w.-]*)\s*=\s*"([^"]*)"/g)) {
        if (n! in attributes) throw new Error(`attribute ${n} twice on <${open}>`);
        attributes[n!] = v!;
      }
      const element: XmlElement = { name: open, attributes, children: [] };
      if (stack.length > 0) stack.at(-1)!.children.push(element);
      else if (root) throw new Error(`a second root <${open}>`);
      else root = element;
      if (!selfClosing) stack.push(element);
    } else if (stack.pop()?.name !== close) {
      throw new Error(`</${close}> closes nothing open`);
    }
  }
  if (!root || stack.length > 0) throw new Error("unclosed elements or no root");
  return root;
}

/** Cuts a node off the lab's quorum arbiter (`cut`) or lets it through again (`restore`). */
export async function labArbiter(action: "cut" | "restore", node: LabNodeName): Promise<void> {
  await labScript(["arbiter", action, node]);
}

/**
 * A qnetd `preinit` message (message type 0, one TLV: cluster name "lab"), to which corosync-qnetd
 * answers with a `preinit reply` (type 1) whatever the cluster; written with bash's printf.
 */
const QNETD_PREINIT = "\\000\\000\\000\\000\\000\\007\\000\\001\\000\\003lab";

/**
 * Whether corosync-qnetd answers a node at the lab's arbiter address (10.0.2.101:5403): the node
 * sends a preinit and reads the reply's type. A guestfwd accepts every connection, so connecting
 * alone proves nothing; a cut node's connection closes before any answer.
 */
export async function labArbiterAnswers(node: LabNodeName): Promise<boolean> {
  const probe = `timeout 10 bash -c 'exec 3<>/dev/tcp/10.0.2.101/5403 && printf "${QNETD_PREINIT}" >&3 && head -c 2 <&3 | od -An -tx1'`;
  const r = await labExec(node, probe, { timeoutMs: 30_000 });
  return r.stdout.trim() === "00 01";
}

/**
 * Opens a connection to the arbiter from a node and keeps it open in the background, once qnetd has
 * answered its preinit; when the connection ends, the exit code of the reader goes to `file` on the
 * node (0: the arbiter's side closed it).
 */
export async function labArbiterHold(node: LabNodeName, file: string): Promise<void> {
  const hold = `exec 3<>/dev/tcp/10.0.2.101/5403 && printf "${QNETD_PREINIT}" >&3 && head -c 2 <&3 >/dev/null && cat <&3 >/dev/null`;
  await labRun(node, `rm -f ${file}; setsid bash -c '(timeout 300 bash -c '"'"'${hold}'"'"'; echo $? >${file}.tmp; mv ${file}.tmp ${file})' </dev/null >/dev/null 2>&1 &`);
}
