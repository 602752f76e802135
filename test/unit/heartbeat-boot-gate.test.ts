import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { BOOT_GATE_DROP_IN_PATH, BOOT_GATE_PATH, buildRemoveBootGateScript, renderBootGateDropIn } from "../../provider/heartbeat/boot-gate";
import { heartbeatFiles } from "../../provider/heartbeat/render";
import { heartbeatClusterRules, heartbeatDrift } from "../../provider/heartbeat/rules";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { managedPaths, parseHeartbeatProbe } from "../../provider/heartbeat/status";
import { diffInputs } from "../../provider/diff";

const SCRIPT = path.join(__dirname, "..", "..", "provider", "heartbeat", "heartbeat-boot-gate.sh");

const cluster = (extra: Record<string, unknown> = {}) =>
  heartbeatClusterSchema.parse({
    nodes: [
      { name: "ha1.domain.local", connection: { host: "10.0.0.1", privateKey: "k" }, publicAddress: "10.1.1.1", crossoverAddress: "10.0.0.1" },
      { name: "ha2.domain.local", connection: { host: "10.0.0.2", privateKey: "k" }, publicAddress: "10.1.1.2", crossoverAddress: "10.0.0.2" },
    ],
    authKey: "secret-key",
    ...extra,
  });

describe("heartbeat-boot-gate, run for real with systemctl stubbed", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "boot-gate-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (args: string[], systemState: string, env: Record<string, string> = {}) => {
    const systemctl = path.join(dir, "systemctl");
    writeFileSync(systemctl, `#!/bin/sh\necho ${systemState}\n`, { mode: 0o755 });
    const r = spawnSync("sh", [SCRIPT, ...args], { env: { PATH: process.env.PATH ?? "", BOOT_GATE_SYSTEMCTL: systemctl, BOOT_GATE_MARKER: path.join(dir, "state", "stopped-cleanly"), ...env }, encoding: "utf8" });
    return { status: r.status, stderr: r.stderr };
  };
  const marker = () => existsSync(path.join(dir, "state", "stopped-cleanly"));

  it("refuses a start at boot when the boot before never stopped Heartbeat, and says what to do", () => {
    const r = run(["start"], "starting");
    expect([r.status, /not started at boot.*fenced/.test(r.stderr), /pulumi up, or systemctl start heartbeat/.test(r.stderr)]).toEqual([1, true, true]);
  });
  it("lets a start at boot through after a clean stop, and forgets that stop once running", () => {
    expect(run(["stopped"], "stopping", { SERVICE_RESULT: "success" }).status).toBe(0);
    expect(marker()).toBe(true);
    expect(run(["start"], "starting").status).toBe(0);
    expect(marker()).toBe(false);
  });
  it("records no clean stop when Heartbeat failed or was killed", () => {
    expect([run(["stopped"], "running", { SERVICE_RESULT: "signal" }).status, marker()]).toEqual([0, false]);
  });
  it.each(["running", "degraded"])("lets a start by hand or by up through once the system is %s, with no clean stop recorded", (state) => {
    expect(run(["start"], state).status).toBe(0);
  });
  it("refuses an unknown verb", () => {
    expect(run(["open"], "running").status).toBe(2);
  });
});

describe("startAtBoot", () => {
  it("afterCleanStop installs the gate and its drop-in, which run it before each start and after each stop", () => {
    const files = heartbeatFiles(cluster({ startAtBoot: "afterCleanStop" }), 0);
    const dropIn = files.find((f) => f.path === BOOT_GATE_DROP_IN_PATH);
    expect([files.find((f) => f.path === BOOT_GATE_PATH)?.mode, dropIn?.mode, dropIn?.content]).toEqual(["0755", "0644", renderBootGateDropIn()]);
    expect(renderBootGateDropIn()).toContain(`ExecStartPre=${BOOT_GATE_PATH} start\nExecStopPost=${BOOT_GATE_PATH} stopped`);
    expect(managedPaths(cluster({ startAtBoot: "afterCleanStop" }))).toEqual(expect.arrayContaining([BOOT_GATE_PATH, BOOT_GATE_DROP_IN_PATH]));
  });
  it("left out or always writes neither", () => {
    for (const c of [cluster(), cluster({ startAtBoot: "always" })]) {
      expect(heartbeatFiles(c, 1).map((f) => f.path).filter((p) => p === BOOT_GATE_PATH || p === BOOT_GATE_DROP_IN_PATH)).toEqual([]);
    }
  });
  it("is changed in place, and an old state without it shows no change", () => {
    const before = cluster() as unknown as Record<string, unknown>;
    expect(diffInputs(before, { ...before, startAtBoot: "afterCleanStop" }, heartbeatClusterRules)).toEqual({ changes: true, replaces: [], updates: ["startAtBoot"] });
    expect(diffInputs(before, { ...before }, heartbeatClusterRules).changes).toBe(false);
  });
  it("taking the gate off reloads systemd only when something of it is there", () => {
    const text = buildRemoveBootGateScript().text;
    expect([text.includes(`if [ -e ${BOOT_GATE_DROP_IN_PATH} ]`), text.indexOf("systemctl daemon-reload") > text.indexOf("rm -f")]).toEqual([true, true]);
  });
  it("a drift read on a node held back at boot says why and that up starts it", () => {
    const c = cluster({ startAtBoot: "afterCleanStop" });
    const report = parseHeartbeatProbe("service\theartbeat\tfailed\tenabled\nservice\txendomains\tinactive\tdisabled\n");
    const detail = heartbeatDrift(c, 1, report).find((d) => d.detail.startsWith("heartbeat.service"))?.detail;
    expect(detail).toMatch(/heartbeat.service is failed and enabled \(startAtBoot afterCleanStop holds it back .* up starts it\)/);
  });
});
