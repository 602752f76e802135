import { isHostKeyConflictError } from "../../provider/errors";
import { implementation } from "../../provider/runtime";
import { knownHosts } from "../../provider/ssh/known-hosts";

const key = (c: string) => `SHA256:${c.repeat(43)}`;
const conn = (host: string, extra: Record<string, unknown> = {}) => ({ host, port: 22, user: "root", privateKey: "k", sudo: false, dialTimeoutSeconds: 20, ...extra });
const vg = (extra: Record<string, unknown> = {}) => ({ name: "vg", devices: ["/dev/sdb"], connection: conn("10.0.0.1"), ...extra });

afterEach(() => knownHosts.forget());

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a failure");
}

describe("every provider call feeds the host keys it states to the process's registry", () => {
  it("learns the key a resource's state records, during its diff", async () => {
    await implementation("VolumeGroup").diff("vg", vg({ observedHostKey: key("A") }), vg());
    expect(knownHosts.keyFor("10.0.0.1:22")).toEqual({ key: key("A"), source: 'recorded at observedHostKey in the state of VolumeGroup "vg"' });
  });

  it("learns HeartbeatCluster's keys by node index", async () => {
    const olds = { nodes: [{ name: "ha1", connection: conn("10.0.0.1") }, { name: "ha2", connection: conn("10.0.0.2") }], observedHostKeys: [key("A"), key("B")] };
    await implementation("HeartbeatCluster").diff("hb", olds, olds);
    expect(knownHosts.keyFor("10.0.0.2:22")?.key).toBe(key("B"));
  });

  it("refuses a pin that contradicts another resource's record, naming both", async () => {
    await implementation("VolumeGroup").diff("vg", vg({ observedHostKey: key("A") }), vg());
    const news = { name: "lv", volumeGroup: "vg", size: "1G", connection: conn("10.0.0.1", { hostKey: key("B") }) };
    const err = (await failureOf(implementation("LogicalVolume").check({}, news))) as Error;
    expect([isHostKeyConflictError(err), err.message.includes('VolumeGroup "vg"'), err.message.includes('LogicalVolume "lv"')]).toEqual([true, true, true]);
  });

  it("refuses to delete a resource whose state records another key than the stack knows", async () => {
    await implementation("VolumeGroup").diff("vg", vg({ observedHostKey: key("A") }), vg());
    const lv = { name: "lv", volumeGroup: "vg", size: "1G", connection: conn("10.0.0.1"), observedHostKey: key("B") };
    expect(isHostKeyConflictError(await failureOf(implementation("LogicalVolume").delete("vg/lv", lv)))).toBe(true);
  });

  it("lets a resource's new pin stand over its own stale record (a reinstalled host accepted on purpose)", async () => {
    await implementation("VolumeGroup").diff("vg", vg({ observedHostKey: key("A") }), vg({ connection: conn("10.0.0.1", { hostKey: key("N") }) }));
    expect(knownHosts.keyFor("10.0.0.1:22")?.key).toBe(key("N"));
  });
});
