import { createServer, type AddressInfo } from "node:net";
import { revealSecrets } from "../../cli/status/deployment";
import { statusReport } from "../../cli/status/report";
import { closeAll } from "../../provider/ssh/pool";
import { startFakeSshServer, type FakeSshServer } from "../support/fake-ssh-server";
import { fixture, labDeployment } from "./fixtures/status/readings";

const K1 = "SHA256:FAKEha1HostKeyNotRealXXXXXXXXXXXXXXXXXXXXXX";

let server: FakeSshServer;
let closedPort: number;

beforeEach(async () => {
  server = await startFakeSshServer(() => ({ stdout: fixture("status/survey-ha1.txt") }));
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterEach(async () => {
  await closeAll();
  await server.close();
});

/**
 * The lab deployment with ha1 served by the fake server and ha2 at a port nothing listens on. `ha1Key`
 * is what the stack knows of ha1's key: pinned, recorded, or nothing at all.
 */
function deployment(ha1Key: { pinned?: string; recorded?: string }): unknown {
  const plain = revealSecrets(labDeployment(), "test") as object;
  const swap = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(swap);
    if (v === K1) return ha1Key.recorded;
    if (v === null || typeof v !== "object") return v;
    const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    if (o.host === "127.0.0.1" && o.port === 2221) return { ...o, port: server.port, privateKey: server.clientKey, hostKey: ha1Key.pinned };
    if (o.host === "127.0.0.1" && o.port === 2222) return { ...o, port: closedPort, privateKey: server.clientKey };
    return o;
  };
  return swap(plain);
}

describe("the status report", () => {
  it("reads a reachable node live and shows one that cannot be reached as unreachable, without throwing", async () => {
    const report = await statusReport(deployment({ pinned: server.hostKeyFingerprint }), { dialTimeoutSeconds: 2 });
    const [ha1, ha2] = [report.model.readings.ha1, report.model.readings.ha2];
    expect({ ha1: ha1?.ok && ha1.survey.nodename, ha2: !ha2?.ok && ha2?.error, exitCode: report.exitCode }).toEqual({
      ha1: "ha1.domain.local",
      ha2: expect.stringMatching(/^127\.0\.0\.1:\d+: SSH connection failed: .*ECONNREFUSED/),
      exitCode: 1,
    });
  }, 20_000);

  it("holds a node to the key the stack recorded for it, and shows another key as the reason it was not read", async () => {
    const report = await statusReport(deployment({ recorded: "SHA256:" + "Z".repeat(43) }), { dialTimeoutSeconds: 2 });
    const ha1 = report.model.readings.ha1;
    expect({ error: !ha1?.ok && ha1?.error, authAttempts: server.authAttempts }).toEqual({ error: expect.stringMatching(/host key mismatch/), authAttempts: 0 });
  }, 20_000);

  it("never connects to a node for which the stack neither pins nor records a key", async () => {
    const report = await statusReport(deployment({}), { dialTimeoutSeconds: 2 });
    expect({ connections: server.connections, shown: report.text.split("\n").find((l) => l.startsWith("  ha1 "))?.slice(0, 33) }).toEqual({
      connections: 0,
      shown: "  ha1   NOT ASKED     no host key",
    });
  }, 20_000);
});
