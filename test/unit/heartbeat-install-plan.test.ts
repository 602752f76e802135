import { BOOT_GATE_DROP_IN_PATH } from "../../provider/heartbeat/boot-gate";
import { planNodeInstall } from "../../provider/heartbeat/install-plan";
import { heartbeatPaths, type HeartbeatFile } from "../../provider/heartbeat/render";
import { sha256Of } from "../../provider/heartbeat/rules";
import type { HeartbeatNodeReport } from "../../provider/heartbeat/status";

const file = (path: string, content: string, mode = "0644"): HeartbeatFile => ({ path, content, mode, secret: false, property: "x" });
const haCf = file(heartbeatPaths.haCf, "keepalive 1\n");
const authkeys = file(heartbeatPaths.authkeys, "auth 1\n1 sha1 key\n", "0600");
const haresources = file(heartbeatPaths.haresources, "ha1 xendomainsHA1\n");
const gate = file(BOOT_GATE_DROP_IN_PATH, "[Service]\n");
const files = [haCf, authkeys, haresources, gate];

const quietXendomains = { active: "inactive", enabled: "disabled" };
const web = { directory: "/etc/xen/auto/HA1", name: "web", target: "/etc/xen/web.cfg" };

/** A node's report that found `found` on disk as given, the home links `links` and xendomains as `xendomains`. */
function report(found: readonly HeartbeatFile[], links: HeartbeatNodeReport["links"] = [], xendomains = quietXendomains, running: string[] = []): HeartbeatNodeReport {
  return {
    running,
    files: Object.fromEntries(found.map((f) => [f.path, { sha256: sha256Of(f.content), mode: f.mode }])),
    links,
    services: { heartbeat: { active: "active", enabled: "enabled" }, xendomains },
  } as unknown as HeartbeatNodeReport;
}

describe("one node's Heartbeat install plan", () => {
  const gated = { startAtBoot: "afterCleanStop" as const, dopd: false };

  it("writes and reloads nothing on a node whose files are as they should be", () => {
    expect(planNodeInstall(gated, files, [], report(files))).toEqual({ write: [], reload: [], bootGate: "keep", dopdPermissions: false, autoLinks: false, disableStockXendomains: false });
  });

  it("has Heartbeat reread ha.cf and authkeys, and writes the files it reads only when it acts in place", () => {
    const plan = planNodeInstall(gated, files, [], report([haresources, gate]));
    expect([plan.write, plan.reload.map((f) => f.path)]).toEqual([[], [heartbeatPaths.haCf, heartbeatPaths.authkeys]]);
  });

  it("writes a changed haresources without a reload: Heartbeat reads it at its next start", () => {
    const plan = planNodeInstall(gated, files, [], report([haCf, authkeys, gate, { ...haresources, content: "ha2 xendomainsHA1\n" }]));
    expect([plan.write.map((f) => f.path), plan.reload]).toEqual([[heartbeatPaths.haresources], []]);
  });

  it("rewrites a file whose mode changed, such as an authkeys opened to other users", () => {
    expect(planNodeInstall(gated, files, [], report([haCf, haresources, gate, { ...authkeys, mode: "0644" }])).reload.map((f) => f.path)).toEqual([heartbeatPaths.authkeys]);
  });

  it("tells systemd when the boot gate's drop-in changed, and removes the gate when Heartbeat may always start at boot", () => {
    expect(planNodeInstall(gated, files, [], report([haCf, authkeys, haresources])).bootGate).toBe("reloadSystemd");
    expect(planNodeInstall({ startAtBoot: "always", dopd: true }, [haCf, authkeys, haresources], [], report([haCf, authkeys, haresources]))).toEqual({
      write: [],
      reload: [],
      bootGate: "remove",
      dopdPermissions: true,
      autoLinks: false,
      disableStockXendomains: false,
    });
  });

  it("rewrites the home links when a DomU's home changed, and only then", () => {
    const moved = { ...web, directory: "/etc/xen/auto/HA2" };
    expect([planNodeInstall(gated, files, [web], report(files, [web])).autoLinks, planNodeInstall(gated, files, [moved], report(files, [web])).autoLinks]).toEqual([false, true]);
  });

  it("rewrites the home links when one is missing or one too many is left", () => {
    expect([planNodeInstall(gated, files, [web], report(files, [])).autoLinks, planNodeInstall(gated, files, [], report(files, [web])).autoLinks]).toEqual([true, true]);
  });

  it("disables the stock xendomains unless it is disabled, and stopped or kept for the guests that run", () => {
    const plan = (enabled: string, active: string, running: string[] = []) => planNodeInstall(gated, files, [], report(files, [], { enabled, active }, running)).disableStockXendomains;
    expect([plan("enabled", "inactive"), plan("disabled", "active"), plan("disabled", "inactive"), plan("", "inactive"), plan("masked", "inactive")]).toEqual([true, true, false, false, false]);
    expect([plan("disabled", "active", ["web"]), plan("enabled", "active", ["web"])]).toEqual([false, true]);
  });

  it("does everything on a node it could not read", () => {
    const plan = planNodeInstall(gated, files, [web], undefined);
    expect([plan.write.length + plan.reload.length, plan.autoLinks, plan.disableStockXendomains]).toEqual([files.length, true, true]);
  });
});
