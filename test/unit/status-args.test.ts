import { parseCommandLine, UsageError } from "../../cli/args";
import { exportArguments } from "../../cli/status/stack-export";

describe("the status command line", () => {
  it("redraws every 5 s with a bare --watch, and every N s with --watch N", () => {
    expect([parseCommandLine(["status", "--watch", "--stack", "lab"]), parseCommandLine(["status", "--stack=lab", "--watch", "2"])]).toEqual([
      { command: "status", stack: "lab", cwd: undefined, watchSeconds: 5 },
      { command: "status", stack: "lab", cwd: undefined, watchSeconds: 2 },
    ]);
  });

  it("refuses an unknown option rather than ignoring it", () => {
    expect(() => parseCommandLine(["status", "--stak", "lab"])).toThrow(UsageError);
  });

  it("asks pulumi for the stack's secrets in clear, in the project directory given", () => {
    expect(exportArguments({ stack: "lab", cwd: "/srv/cluster" })).toEqual(["stack", "export", "--show-secrets", "--stack", "lab", "--cwd", "/srv/cluster"]);
  });
});
