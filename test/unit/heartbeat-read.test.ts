import { createServer, type AddressInfo } from "node:net";
import { isHostKeyMismatchError } from "../../provider/errors";
import { heartbeatClusterLifecycle } from "../../provider/heartbeat/cluster";
import { heartbeatClusterSchema } from "../../provider/heartbeat/schema";
import { closeAll } from "../../provider/ssh/pool";
import { startFakeSshServer, type FakeSshServer } from "../support/fake-ssh-server";
import { seedArgs } from "./fixtures/heartbeat/seed";

let server: FakeSshServer;
let closedPort: number;

beforeEach(async () => {
  server = await startFakeSshServer(() => ({ exitCode: 1 }));
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
});

afterEach(async () => {
  await closeAll();
  await server.close();
});

/** The cluster's state with node 0 served by the fake server and node 1 at a port nothing listens on. */
function stateWith(observedHostKeys: string[]) {
  const [a, b] = seedArgs.nodes as [Record<string, unknown>, Record<string, unknown>];
  const connection = (port: number) => ({ host: "127.0.0.1", port, privateKey: server.clientKey, dialTimeoutSeconds: 5 });
  const inputs = heartbeatClusterSchema.parse({ ...seedArgs, nodes: [{ ...a, connection: connection(server.port) }, { ...b, connection: connection(closedPort) }] });
  return { ...inputs, authKeyIndex: 1, observedHostKeys };
}

describe("HeartbeatCluster read", () => {
  it("refuses a node that presents another key than the one recorded, instead of calling it unreadable", async () => {
    const read = heartbeatClusterLifecycle.read("hb", stateWith(["SHA256:" + "X".repeat(43), "SHA256:" + "Y".repeat(43)]));
    await expect(read.catch((err: unknown) => isHostKeyMismatchError(err))).resolves.toBe(true);
  });

  it("reports a node it cannot reach as unreadable, saying why", async () => {
    const { props } = await heartbeatClusterLifecycle.read("hb", stateWith([server.hostKeyFingerprint, "SHA256:" + "Y".repeat(43)]));
    const drift = props?.drift as { node: string; detail: string }[];
    expect(drift.find((d) => d.node === "ha2.domain.local")?.detail).toMatch(/^could not be read: .*ECONNREFUSED/);
  }, 20_000);
});
