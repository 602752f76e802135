/**
 * What the benchmark does to the lab besides running its programs: bare hosts, waits on the
 * guests, the nodes' clocks, pingers and journals. Thin: commands over the lab's own SSH helpers.
 */
import { labExec, labRun, labScript, waitFor, type LabNodeName } from "../test/support/lab";
import { quote } from "../provider/shell";
import type { BenchVm } from "./vms";

export const peerOf = (node: LabNodeName): LabNodeName => (node === "ha1" ? "ha2" : "ha1");

/** Resets the lab and boots bare hosts (`lab.sh test-prepare`). */
export async function prepareBareHosts(): Promise<void> {
  process.stdout.write("[bench] lab.sh test-prepare: bare hosts\n");
  await labScript(["test-prepare"], 30 * 60_000);
}

/** Seconds to add to this machine's clock to get the node's (measured over one SSH round trip). */
export async function clockOffset(node: LabNodeName): Promise<number> {
  const before = Date.now() / 1000;
  const remote = Number((await labRun(node, "date +%s.%N")).trim());
  const after = Date.now() / 1000;
  return remote - (before + after) / 2;
}

/** Waits until every guest answers ping from the peer of its home node (both nodes at once). */
export async function waitGuestsAnswer(vms: readonly BenchVm[], timeoutS = 900): Promise<void> {
  const byPinger = new Map<LabNodeName, string[]>();
  for (const vm of vms) byPinger.set(peerOf(vm.home), [...(byPinger.get(peerOf(vm.home)) ?? []), vm.ip]);
  await Promise.all(
    [...byPinger].map(async ([node, ips]) => {
      const script = [
        `end=$(($(date +%s) + ${timeoutS}))`,
        `for ip in ${ips.map(quote).join(" ")}; do`,
        '  until ping -c 1 -W 1 -q "$ip" >/dev/null 2>&1; do',
        '    [ "$(date +%s)" -lt "$end" ] || { echo "$ip does not answer" >&2; exit 1; }',
        "  done",
        "done",
      ].join("\n");
      await labRun(node, script, { timeoutMs: (timeoutS + 60) * 1000 });
    }),
  );
}

/** From `node`, the node's clock when `ip` first answers ping, trying for at most `limitS`. */
export async function firstAnswer(node: LabNodeName, ip: string, limitS: number): Promise<number> {
  const script = [
    `end=$(($(date +%s) + ${limitS}))`,
    `until ping -c 1 -W 1 -q ${quote(ip)} >/dev/null 2>&1; do`,
    '  [ "$(date +%s)" -lt "$end" ] || exit 1',
    "done",
    "date +%s.%N",
  ].join("\n");
  return Number((await labRun(node, script, { timeoutMs: (limitS + 60) * 1000 })).trim());
}

/** The node's journal since a time on its own clock, as `journalctl -o short-unix` prints it. */
export function journalSince(node: LabNodeName, since: number): Promise<string> {
  return labRun(node, `journalctl --since=@${Math.floor(since)} --no-pager -o short-unix`, { timeoutMs: 120_000 });
}

const PING_STOP = "/run/pulumi-xen-ha-bench-ping.stop";

/** A pinger on `node` that answers with its start, every reply (`ping -D`) and its end; stop it with `stop()`. */
export function startPinger(node: LabNodeName, ip: string): { done: Promise<string>; stop: () => Promise<void> } {
  const script = [
    `rm -f ${PING_STOP}`,
    "date +%s.%N",
    `stdbuf -oL ping -D -n -i 0.2 -W 1 -w 1800 ${quote(ip)} &`,
    "p=$!",
    `while [ ! -e ${PING_STOP} ] && kill -0 "$p" 2>/dev/null; do sleep 0.2; done`,
    'kill -INT "$p" 2>/dev/null',
    'wait "$p"',
    "date +%s.%N",
    `rm -f ${PING_STOP}`,
  ].join("\n");
  const done = labExec(node, script, { timeoutMs: 1900_000 }).then((r) => r.stdout);
  return { done, stop: async () => void (await labRun(node, `touch ${PING_STOP}`)) };
}

/** The guests `xl list` shows on a node, Domain-0 left out (an unreachable node counts as none). */
export async function domainsOn(node: LabNodeName): Promise<string[]> {
  const r = await labExec(node, "xl list", { timeoutMs: 60_000 }).catch(() => ({ code: -1, stdout: "" }));
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? "")
    .filter((n) => n !== "" && n !== "Domain-0");
}

/** Waits until the guest runs on `node` only, answers ping from the other node, and its disk is UpToDate on both. */
export async function waitSettled(vm: BenchVm, node: LabNodeName, timeoutMs = 15 * 60_000): Promise<void> {
  const resource = `${vm.name}-disk`;
  await waitFor(
    async () => {
      const [here, there] = await Promise.all([domainsOn(node), domainsOn(peerOf(node))]);
      if (!here.includes(vm.name) || there.includes(vm.name)) return false;
      const disk = (await labExec(node, `drbdadm dstate ${quote(resource)}`, { timeoutMs: 60_000 })).stdout.trim();
      const heartbeat = await Promise.all([node, peerOf(node)].map((n) => labExec(n, "systemctl is-active heartbeat", { timeoutMs: 60_000 }).then((r) => r.stdout.trim())));
      if (disk !== "UpToDate/UpToDate" || heartbeat.some((h) => h !== "active")) return false;
      return (await labExec(peerOf(node), `ping -c 1 -W 2 -q ${quote(vm.ip)}`, { timeoutMs: 30_000 })).code === 0 || undefined;
    },
    { timeoutMs, intervalMs: 3000, what: `${vm.name} on ${node} alone, answering, its disk UpToDate on both nodes, Heartbeat active on both` },
  );
}

/** `drbdadm dstate RESOURCE` on a node. */
export async function diskStates(node: LabNodeName, resource: string): Promise<string> {
  return (await labExec(node, `drbdadm dstate ${quote(resource)}`, { timeoutMs: 60_000 })).stdout.trim();
}
