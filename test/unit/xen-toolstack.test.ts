import { execFileSync } from "node:child_process";
import { toolstackFor, xl, xm } from "../../provider/xen/toolstack";

const target = { address: "ha2X" };

describe("xl command lines", () => {
  it.each([
    ["create", xl.create("/etc/xen/test.cfg").text, "xl create /etc/xen/test.cfg"],
    ["shutdown with a deadline", xl.shutdown("test", 120).text, "timeout 120 xl shutdown -w test"],
    ["destroy", xl.destroy("test").text, "xl destroy test"],
    ["list", xl.list().text, "xl list"],
    ["info", xl.info().text, "xl info"],
    ["mem-set in MiB", xl.memSet("test", 512).text, "xl mem-set test 512m"],
    ["vcpu-set", xl.vcpuSet("test", 2).text, "xl vcpu-set test 2"],
    ["save", xl.save("test", "/var/lib/xen/save/test.save").text, "xl save test /var/lib/xen/save/test.save"],
    ["restore", xl.restore("/var/lib/xen/save/test.save").text, "xl restore /var/lib/xen/save/test.save"],
  ])("%s", (_what, text, expected) => {
    expect(text).toBe(expected);
  });

  it("migrates over the crossover link with its own key and pinned known_hosts", () => {
    expect(xl.migrate("test", target).text).toBe(
      "xl migrate -s 'ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/root/.ssh/xen-ha-known_hosts -o ConnectTimeout=15 -i /root/.ssh/xen-ha-migration' test ha2X",
    );
  });

  it("moves without live migration by save, copy over the crossover link, restore", () => {
    expect(xl.nonLiveMove("test", target).steps.map((s) => [s.on, s.command.text])).toEqual([
      ["source", "set -eu\nmkdir -p /var/lib/xen/save\nxl save test /var/lib/xen/save/test.save"],
      [
        "source",
        "ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/root/.ssh/xen-ha-known_hosts -o ConnectTimeout=15 -i /root/.ssh/xen-ha-migration ha2X 'receive-save test' < /var/lib/xen/save/test.save",
      ],
      ["target", "xl restore /var/lib/xen/save/test.save"],
    ]);
  });

  it("resumes the guest on the source from its image when the copy or the restore fails", () => {
    expect(xl.nonLiveMove("test", target).recovery?.text).toBe("xl restore /var/lib/xen/save/test.save");
  });

  it("removes the image on both sides only at the end", () => {
    expect(xl.nonLiveMove("test", target).cleanup?.text).toBe("rm -f /var/lib/xen/save/test.save /var/lib/xen/save/test.save.part");
  });

  it("hands xl one -s word that sh then splits into the ssh command", () => {
    const words = execFileSync("sh", ["-c", `set -- ${xl.migrate("test", target).text}\nprintf '%s\\0' "$@"`], { encoding: "utf8" }).split("\0");
    const ssh = execFileSync("sh", ["-c", `set -- ${words[3]}\nprintf '%s\\0' "$@"`], { encoding: "utf8" }).split("\0").slice(0, -1);
    expect(ssh).toEqual(["ssh", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=/root/.ssh/xen-ha-known_hosts", "-o", "ConnectTimeout=15", "-i", "/root/.ssh/xen-ha-migration"]);
  });
});

describe("xm command lines", () => {
  it.each([
    ["create", xm.create("/etc/xen/test.cfg").text, "xm create /etc/xen/test.cfg"],
    ["shutdown with a deadline", xm.shutdown("test", 120).text, "timeout 120 xm shutdown -w test"],
    ["destroy", xm.destroy("test").text, "xm destroy test"],
    ["list", xm.list().text, "xm list"],
    ["info", xm.info().text, "xm info"],
    ["mem-set in MiB", xm.memSet("test", 512).text, "xm mem-set test 512"],
    ["vcpu-set", xm.vcpuSet("test", 2).text, "xm vcpu-set test 2"],
    ["save", xm.save("test", "/var/lib/xen/save/test.save").text, "xm save test /var/lib/xen/save/test.save"],
    ["restore", xm.restore("/var/lib/xen/save/test.save").text, "xm restore /var/lib/xen/save/test.save"],
    ["the seed's live migration", xm.migrate("test", target).text, "xm migrate test ha2X --live"],
  ])("%s", (_what, text, expected) => {
    expect(text).toBe(expected);
  });

  it("moves without live migration through xend's relocation server", () => {
    expect(xm.nonLiveMove("test", target).steps.map((s) => [s.on, s.command.text])).toEqual([["source", "xm migrate test ha2X"]]);
  });
});

describe("choosing a toolstack", () => {
  it("gives the xm builders for xm", () => {
    expect(toolstackFor("xm")).toBe(xm);
  });

  it("quotes a name that needs it", () => {
    expect(toolstackFor("xl").destroy("it's").text).toBe("xl destroy 'it'\\''s'");
  });
});
