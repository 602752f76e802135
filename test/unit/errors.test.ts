import { HostCommandError, HostStateError, isHostCommandError, isHostStateError, isRefusedError } from "../../provider/errors";

describe("the package's errors", () => {
  it("a host left in the wrong state is a HostStateError, told apart from the others, keeping its cause", () => {
    const cause = new Error("xl: domain test still listed");
    const err = new HostStateError("test is still listed after shutdown and destroy on ha1; run destroy again.", { cause });
    expect([err.name, isHostStateError(err), isRefusedError(err), isHostStateError(new Error("x")), err.cause]).toEqual(["HostStateError", true, false, false, cause]);
  });

  it("a HostCommandError given again with a better hint keeps the first as its cause", () => {
    const first = new HostCommandError({ host: "ha1", command: "xl migrate test 192.168.1.2", exitCode: 1, stdout: "", stderr: "xc: error: Failed to enable logdirty: 95" });
    const again = new HostCommandError({ ...first, hint: "the hypervisor has no shadow paging" }, { cause: first });
    expect([isHostCommandError(again), again.cause, again.message.endsWith("hint: the hypervisor has no shadow paging")]).toEqual([true, first, true]);
  });
});
