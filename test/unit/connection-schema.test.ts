import { isValidationError } from "../../provider/errors";
import { parseInputs } from "../../provider/inputs";
import { checkConnectionSettings, connectionSchema } from "../../provider/ssh/connection";

const PIN = `SHA256:${"A".repeat(43)}`;

function failures(raw: unknown): string[] {
  const parsed = parseInputs(connectionSchema, raw);
  return parsed.ok ? [] : parsed.failures.map((f) => `${f.property}: ${f.reason}`);
}

function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return isValidationError(err) ? err.failures.map((f) => `${f.property}: ${f.reason}`).join("\n") : String(err);
  }
  return "nothing thrown";
}

describe("connection inputs", () => {
  it.each(["ha1.domain.local", "10.1.1.100", "fd00::1"])("accepts the host %s", (host) => {
    expect(failures({ host, password: "p" })).toEqual([]);
  });

  it.each(["$(touch /tmp/p)", "ha1;reboot", "-oProxyCommand=x", "010.1.1.100", "", "ha1 ha2"])("refuses the host %j", (host) => {
    expect(failures({ host, password: "p" })[0]).toMatch(/^host: /);
  });

  it.each(["-l", "root;id", "a b", "x".repeat(33)])("refuses the user %j", (user) => {
    expect(failures({ host: "ha1", user, password: "p" })[0]).toMatch(/^user: must be a login name/);
  });

  it("refuses a malformed pin", () => {
    expect(failures({ host: "ha1", password: "p", hostKey: "SHA256:REPLACE-ME" })[0]).toMatch(/^hostKey: must be an OpenSSH SHA256 fingerprint/);
  });
});

describe("connection settings from stack config", () => {
  it("names the config path of a misspelt hostKey", () => {
    expect(thrown(() => checkConnectionSettings({ host: "10.1.1.100", hostkey: PIN }, "xen-ha:connections[0]"))).toBe(
      'xen-ha:connections[0].hostkey: unknown field; did you mean "hostKey"?',
    );
  });

  it("names the config path of a malformed pin", () => {
    expect(thrown(() => checkConnectionSettings({ host: "10.1.1.100", hostKey: "SHA256:short" }, "xen-ha:connections[1]"))).toMatch(/^xen-ha:connections\[1\]\.hostKey: must be/);
  });

  it("accepts settings without credentials, which come from a secret afterwards", () => {
    expect(checkConnectionSettings({ host: "10.1.1.100", user: "root", hostKey: PIN }, "xen-ha:connections[0]")).toEqual({ host: "10.1.1.100", user: "root", hostKey: PIN });
  });

  it("names the entry itself when it is not an object", () => {
    expect(thrown(() => checkConnectionSettings("10.1.1.100", "xen-ha:connections[0]"))).toMatch(/^xen-ha:connections\[0\]: /);
  });
});
