import { argv, joinLines, quote, script, secretWord, sh } from "../../provider/shell";
import { execFileSync } from "node:child_process";

/** Runs text in dash (Debian's /bin/sh) and returns the words it sees. */
function wordsSeenByDash(commandText: string): string[] {
  const out = execFileSync("sh", ["-c", `set -- ${commandText}\nprintf '%s\\0' "$@"`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

describe("quote", () => {
  const nasty = ["plain", "with space", "it's", "a;b", "$(touch /tmp/pwned)", "`id`", "back\\slash", "new\nline", "", "*", "--flag", "ünïcödé", "'", "''"];

  it.each(nasty)("keeps %j a single literal word in dash", (value) => {
    expect(wordsSeenByDash(quote(value))).toEqual([value]);
  });

  it("leaves safe words as they are", () => {
    expect(quote("/dev/vg/test-disk")).toBe("/dev/vg/test-disk");
  });

  it("never uses $'…' quoting, which dash does not know", () => {
    expect(quote("a'b\nc")).not.toMatch(/\$'/);
  });
});

describe("sh template", () => {
  it("quotes every interpolated value and spreads arrays into words", () => {
    const cmd = sh`pvcreate -- ${["/dev/a b", "/dev/c;d"]} ${"x y"}`;
    expect(wordsSeenByDash(cmd.text.replace(/^pvcreate /, ""))).toEqual(["--", "/dev/a b", "/dev/c;d", "x y"]);
  });

  it("redacts secrets from the text shown to people", () => {
    const cmd = sh`xen-create-image --password=${secretWord("S3cr3t pass")}`;
    expect(cmd.display).toBe("xen-create-image --password=***");
  });

  it("carries secrets through nested commands", () => {
    const inner = sh`echo ${secretWord("hunter2")}`;
    expect(script(inner).display).not.toContain("hunter2");
  });

  it("hides a one-letter secret without touching the rest of the command", () => {
    const cmd = sh`useradd --comment ${"everyone else"} --password ${secretWord("e")} eve`;
    expect(cmd.display).toBe("useradd --comment 'everyone else' --password *** eve");
  });

  it("hides a secret that is also an ordinary word elsewhere only where it is the secret", () => {
    const cmd = sh`chpasswd --user ${"root"} --password ${secretWord("root")}`;
    expect(cmd.display).toBe("chpasswd --user root --password ***");
  });

  it("hides secret words inside arrays, nested commands and joined lines", () => {
    const cmd = joinLines([sh`a ${["x", secretWord("y")]}`, script(sh`b ${secretWord("s")} s`)]);
    expect(cmd.display).toBe("a x ***\nset -eu\nb *** s");
  });

  it("runs the secret itself, quoted", () => {
    expect(sh`login --password=${secretWord("it's")}`.text).toBe("login --password='it'\\''s'");
  });

  it("keeps the secrets it carries for callers that must keep them out of other output", () => {
    expect(script(sh`a ${secretWord("p1")}`, sh`b ${secretWord("p2")}`).secrets).toEqual(["p1", "p2"]);
  });

  it("builds an argv command word by word", () => {
    expect(argv(["lvs", "--units", "b", "my vg"]).text).toBe("lvs --units b 'my vg'");
  });

  it("starts scripts with set -eu and puts each step on its own line", () => {
    expect(script(sh`a`, sh`b`).text).toBe("set -eu\na\nb");
  });
});
