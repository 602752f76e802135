import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  SAVE_DIR,
  buildTrustProbeCommand,
  gateSha256,
  parseTrustSurvey,
  trustDrift,
  applyRelocationSettings,
  fingerprintOfPublicKey,
  hostsAllowPattern,
  mergeAuthorizedKeys,
  parseMigrationKeys,
  readRelocationSettings,
  removeFromAuthorizedKeys,
  renderAuthorizedKeysLine,
  renderKnownHosts,
  renderMigrationGate,
} from "../../provider/xen/migration";
import { fixture } from "./fixtures/xen/inputs";

const HA2_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhQeQcfFCsZwxdbetjKUkMyijpKwQ5uV7D7DXzlWoSZ root@ha2";

describe("xl: root SSH between the dom0s", () => {
  it("lets the peer's key in only from its crossover address, through the gate, with nothing forwarded", () => {
    expect(renderAuthorizedKeysLine(`${HA2_KEY.replace("root@ha2", "xen-ha-migration@ha2")}`, "192.168.1.2")).toBe(
      'from="192.168.1.2",restrict,command="/usr/local/sbin/xen-ha-migration-gate" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhQeQcfFCsZwxdbetjKUkMyijpKwQ5uV7D7DXzlWoSZ xen-ha-migration',
    );
  });

  it("replaces its own earlier line and leaves other keys alone", () => {
    const admin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyAdminKeyAdminKeyAdminKeyAdminKeyAd admin@laptop";
    const old = renderAuthorizedKeysLine(HA2_KEY, "192.168.1.9");
    const now = renderAuthorizedKeysLine(HA2_KEY, "192.168.1.2");
    expect(mergeAuthorizedKeys(`${admin}\n${old}\n`, now)).toBe(`${admin}\n${now}\n`);
  });

  it("removes only its own line", () => {
    const admin = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyAdminKeyAdminKeyAdminKeyAdminKeyAd admin@laptop";
    expect(removeFromAuthorizedKeys(`${admin}\n${renderAuthorizedKeysLine(HA2_KEY, "192.168.1.2")}\n`)).toBe(`${admin}\n`);
  });

  it("pins the peer's host key under its crossover name and address", () => {
    expect(renderKnownHosts({ crossoverName: "ha2X", crossoverAddress: "192.168.1.2", hostKey: HA2_KEY })).toBe(
      "ha2X,192.168.1.2 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGhQeQcfFCsZwxdbetjKUkMyijpKwQ5uV7D7DXzlWoSZ\n",
    );
  });

  it("computes a host key's fingerprint as ssh-keygen -l does, to hold it to the pinned one", () => {
    expect(fingerprintOfPublicKey(HA2_KEY)).toBe("SHA256:Hi0WGpp5l7clOIgm1XlWaoSI6n+2K2rgNTxXA/HZcJw");
  });

  it("reads the migration key and the host key a dom0 prints", () => {
    expect(parseMigrationKeys(`${HA2_KEY}\n--8<--\n${HA2_KEY}\n`)).toEqual({ migrationKey: HA2_KEY, hostKey: HA2_KEY });
  });

  it("refuses output that holds no public key", () => {
    expect(() => parseMigrationKeys("cat: /root/.ssh/xen-ha-migration.pub: No such file\n--8<--\n")).toThrow(/not an OpenSSH public key/);
  });
});

describe("the trust as a resource", () => {
  const line = renderAuthorizedKeysLine(HA2_KEY, "192.168.1.2");
  const known = renderKnownHosts({ crossoverAddress: "192.168.1.2", hostKey: HA2_KEY });
  const survey = (gate: string) => `${HA2_KEY}\n--8<--\n${line}\n--8<--\n${known}--8<--\n${gate}\n`;

  it("proves the whole chain by asking the peer for its dom0's line of xl list through the gate", () => {
    expect(buildTrustProbeCommand("192.168.1.2").text).toBe(
      "ssh -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/root/.ssh/xen-ha-known_hosts -o ConnectTimeout=15 -i /root/.ssh/xen-ha-migration 192.168.1.2 'xl list Domain-0'",
    );
  });

  it("finds nothing to do on a dom0 that holds the key, the peer's line, the pin and the current gate", () => {
    expect(trustDrift(parseTrustSurvey(survey(gateSha256())), { authorizedLine: line, knownHosts: known })).toEqual([]);
  });

  it("notices an older gate", () => {
    expect(trustDrift(parseTrustSurvey(survey("0".repeat(64))), { authorizedLine: line, knownHosts: known })).toEqual(["gate"]);
  });

  it("notices a dom0 that holds nothing", () => {
    expect(trustDrift(parseTrustSurvey("\n--8<--\n\n--8<--\n\n--8<--\n\n"), { authorizedLine: line, knownHosts: known })).toEqual([
      "migration key",
      "authorized_keys",
      "known_hosts",
      "gate",
    ]);
  });
});

describe("the migration gate (forced command)", () => {
  const dir = mkdtempSync(join(tmpdir(), "xen-gate-"));
  const gate = join(dir, "gate");
  writeFileSync(gate, renderMigrationGate().split(SAVE_DIR).join(join(dir, "save")));
  chmodSync(gate, 0o755);
  for (const tool of ["xl", "xm", "drbdadm"]) {
    writeFileSync(join(dir, tool), `#!/bin/sh\necho "${tool} $*"\n`);
    chmodSync(join(dir, tool), 0o755);
  }
  const run = (original: string | undefined, input = "") =>
    spawnSync("sh", [gate], { input, encoding: "utf8", env: { PATH: `${dir}:/usr/bin:/bin`, ...(original === undefined ? {} : { SSH_ORIGINAL_COMMAND: original }) } });

  it.each(["xl migrate-receive", "xl -t migrate-receive", "xl migrate-receive -e -d", "xl -vv migrate-receive -p"])("lets %j through to xl", (command) => {
    expect(run(command).stdout).toBe(`${command}\n`);
  });

  it.each(["xl list test", "xm list test", "drbdadm role test-disk", "xl list Domain-0"])("lets Heartbeat's peer check %j through", (command) => {
    expect(run(command).stdout).toBe(`${command}\n`);
  });

  it.each([
    "xl destroy test",
    "xl -t",
    "xl migrate-receive; reboot",
    "bash -i",
    "receive-save ../../etc/passwd",
    "receive-save",
    "xl migrate-receive *",
    "xl list",
    "xl list -l test",
    "xl list test other",
    "xm migrate-receive",
    "drbdadm primary test-disk",
    "drbdadm role --force",
    "drbdadm role ../x",
  ])("refuses %j", (command) => {
    expect(run(command).status).toBe(1);
  });

  it("refuses a session that asks for no command", () => {
    expect(run(undefined).status).toBe(1);
  });

  it("stores a streamed save image under the guest's name", () => {
    run("receive-save test", "IMAGE");
    expect(readFileSync(join(dir, "save", "test.save"), "utf8")).toBe("IMAGE");
  });
});

describe("xm: xend's relocation server", () => {
  const settings = { listenAddress: "192.168.1.1", peerAddresses: ["192.168.1.2", "ha2X"] };

  it("spells the peer's addresses as anchored, escaped patterns the way xend-config.sxp does", () => {
    expect(hostsAllowPattern(["192.168.1.2", "ha2X"])).toBe("^192\\\\.168\\\\.1\\\\.2$ ^ha2X$");
  });

  it("listens on the crossover address on port 8002 and allows only the peer", () => {
    expect(readRelocationSettings(applyRelocationSettings(fixture("xend-config.sxp"), settings))).toEqual({
      "xend-relocation-server": "yes",
      "xend-relocation-port": "8002",
      "xend-relocation-address": "192.168.1.1",
      "xend-relocation-hosts-allow": "^192\\\\.168\\\\.1\\\\.2$ ^ha2X$",
    });
  });

  it("keeps comments and other settings", () => {
    const after = applyRelocationSettings(fixture("xend-config.sxp"), settings);
    expect(after).toContain("(vif-script vif-bridge)\n(dom0-min-mem 196)");
  });

  it("is the same when applied twice", () => {
    const once = applyRelocationSettings(fixture("xend-config.sxp"), settings);
    expect(applyRelocationSettings(once, settings)).toBe(once);
  });
});
