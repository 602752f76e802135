import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  formatAddress,
  formatRate,
  globalSettingsOf,
  includesOurFiles,
  renderGlobalCommon,
  renderMainConfig,
  renderResource,
  resourceConfigPath,
} from "../../provider/drbd/render";
import { drbdResourceSchema, type DrbdResourceInput } from "../../provider/drbd/schema";
import { seedTestDisk, seedTestSwap } from "./fixtures/drbd/seed-inputs";

const fixture = (name: string) => readFileSync(join(__dirname, "fixtures", "drbd", name), "utf8");
const parse = (input: DrbdResourceInput) => drbdResourceSchema.parse(input);

/** drbd.conf as the parser sees it: comments dropped, words and punctuation only. */
function tokens(text: string): string[] {
  return text.replace(/#.*$/gm, "").match(/[{};]|[^\s{};]+/g) ?? [];
}

/** The tokens of one resource section, braces included. */
function resourceTokens(text: string, name: string): string[] {
  const all = tokens(text);
  const start = all.findIndex((t, i) => t === "resource" && all[i + 1] === name);
  let depth = 0;
  for (let i = start + 2; i < all.length; i++) {
    if (all[i] === "{") depth++;
    if (all[i] === "}" && --depth === 0) return all.slice(start, i + 1);
  }
  throw new Error(`no resource ${name}`);
}

const TEST_DISK_84 = `# DRBD resource test-disk, managed by pulumi-xen-ha.
# Identical on both nodes; changes made here are overwritten.
resource test-disk {
	startup {
		wfc-timeout 120;
		degr-wfc-timeout 120;
	}
	disk {
		on-io-error detach;
		resync-rate 90M;
	}
	net {
		protocol C;
		allow-two-primaries yes;
		after-sb-0pri discard-zero-changes;
		after-sb-1pri discard-secondary;
		timeout 60;
		connect-int 10;
		ping-int 10;
		max-buffers 2048;
		max-epoch-size 2048;
	}
	on ha1.domain.local {
		address 192.168.1.1:7789;
		device /dev/drbd1;
		disk /dev/vg/test-disk;
		meta-disk /dev/vg/meta[0];
	}
	on ha2.domain.local {
		address 192.168.1.2:7789;
		device /dev/drbd1;
		disk /dev/vg/test-disk;
		meta-disk /dev/vg/meta[0];
	}
}
`;

describe("resource file", () => {
  it("renders the seed's test-disk in DRBD 8.4 form", () => {
    expect(renderResource(parse(seedTestDisk))).toBe(TEST_DISK_84);
  });

  it("writes ping-timeout after ping-int only when it is set", () => {
    expect(renderResource(parse({ ...seedTestDisk, pingTimeout: 30 }))).toBe(TEST_DISK_84.replace("\t\tping-int 10;\n", "\t\tping-int 10;\n\t\tping-timeout 30;\n"));
  });

  it("in 8.3 form is the seed's configuration, with the rate moved from common into the resource", () => {
    const ours = [renderGlobalCommon(globalSettingsOf(parse({ ...seedTestDisk, drbdVersion: "8.3" }))), ...[seedTestDisk, seedTestSwap].map((r) => renderResource(parse({ ...r, drbdVersion: "8.3" })))];
    const seed = fixture("seed-drbd.conf").replace(/syncer \{\s*\}/g, "syncer { rate 90M; }");
    expect(tokens(ours.join("\n"))).toEqual(tokens(seed));
  });

  it("in 8.4 form differs from the seed's resource only where 8.4 renamed or moved options", () => {
    const seed = resourceTokens(fixture("seed-drbd.conf"), "test-disk")
      .join(" ")
      .replace("protocol C ; startup", "startup")
      .replace("disk { on-io-error detach ; }", "disk { on-io-error detach ; resync-rate 90M ; }")
      .replace("net { allow-two-primaries ;", "net { protocol C ; allow-two-primaries yes ;")
      .replace(" syncer { }", "");
    expect(resourceTokens(renderResource(parse(seedTestDisk)), "test-disk").join(" ")).toBe(seed);
  });

  it("is the same text whatever order the inputs' keys come in", () => {
    const reordered = Object.fromEntries(Object.entries(seedTestDisk).reverse()) as DrbdResourceInput;
    expect(renderResource(parse(reordered))).toBe(renderResource(parse(seedTestDisk)));
  });

  it("writes the rate in one canonical form", () => {
    expect(renderResource(parse({ ...seedTestDisk, resyncRate: 92160 }))).toBe(TEST_DISK_84);
  });

  it("writes allow-two-primaries no when it is off", () => {
    expect(renderResource(parse({ ...seedTestDisk, allowTwoPrimaries: false }))).toContain("\t\tallow-two-primaries no;\n");
  });

  it("drops the 8.3 flag when two primaries are off", () => {
    expect(renderResource(parse({ ...seedTestDisk, drbdVersion: "8.3", allowTwoPrimaries: false }))).not.toContain("allow-two-primaries");
  });

  it("writes internal meta-data", () => {
    const input = parse(seedTestDisk);
    input.nodes[0].metaDisk = "internal";
    expect(renderResource(input)).toContain("\t\tmeta-disk internal;\n");
  });

  it("lives in /etc/drbd.d under the resource's name", () => {
    expect(resourceConfigPath("test-disk")).toBe("/etc/drbd.d/test-disk.res");
  });
});

describe("global and common file", () => {
  it("holds the usage counter and the common resync rate", () => {
    expect(renderGlobalCommon(globalSettingsOf(parse(seedTestDisk)))).toBe(
      `# DRBD global and common settings, managed by pulumi-xen-ha.
# Identical on both nodes; changes made here are overwritten.
global {
	usage-count yes;
}
common {
	disk {
		resync-rate 90M;
	}
}
`,
    );
  });
});

describe("main configuration", () => {
  it("recognises the drbd.conf drbd-utils ships", () => {
    const shipped = '# You can find an example in  /usr/share/doc/drbd.../drbd.conf.example\n\ninclude "drbd.d/global_common.conf";\ninclude "drbd.d/*.res";\n';
    expect(includesOurFiles(shipped)).toBe(true);
  });

  it("accepts absolute include paths", () => {
    expect(includesOurFiles('include "/etc/drbd.d/global_common.conf";\ninclude "/etc/drbd.d/*.res";\n')).toBe(true);
  });

  it("does not count includes that are commented out", () => {
    expect(includesOurFiles('include "drbd.d/global_common.conf";\n# include "drbd.d/*.res";\n')).toBe(false);
  });

  it("renders a main file that includes our files", () => {
    expect(includesOurFiles(renderMainConfig())).toBe(true);
  });
});

describe("values", () => {
  it.each([
    ["90M", "90M"],
    [92160, "90M"],
    ["1024M", "1G"],
    ["500", "500K"],
  ])("formats the rate %j as %s", (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });

  it("writes IPv6 addresses in brackets with their family", () => {
    expect(formatAddress("fd00::1", 7789)).toBe("ipv6 [fd00::1]:7789");
  });
});
