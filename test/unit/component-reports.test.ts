import { withRoles } from "../../components/reports";
import type { DrbdNodeStatus } from "../../provider/drbd/status";

const secondary: DrbdNodeStatus = { connection: "Connected", role: "Secondary", peerRole: "Secondary", disk: "UpToDate", peerDisk: "UpToDate" };

describe("the component's DRBD report", () => {
  it("shows the roles the guest's last start or refresh read, not those recorded when DRBD was made", () => {
    const report = withRoles({ "test-disk": { ha1: secondary, ha2: secondary } }, { "test-disk": { ha1: "Primary/Secondary", ha2: "Secondary/Primary" } });
    expect([report["test-disk"]!.ha1!.role, report["test-disk"]!.ha2!.peerRole, report["test-disk"]!.ha1!.disk]).toEqual(["Primary", "Primary", "UpToDate"]);
  });

  it("keeps the recorded roles where drbdadm gave none", () => {
    const report = withRoles({ r: { ha1: secondary } }, { r: { ha1: "'r' not defined in your config" } });
    expect(report.r!.ha1).toEqual(secondary);
  });
});
