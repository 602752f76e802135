/**
 * Every resource's `check`, called as the engine calls it (`implementation(kind).check({}, news)`),
 * against hostile values in every string field and typos of every field: each is either refused
 * with a failure naming the field, or, when accepted, reaches shell text only inside single quotes
 * (the form `quote` gives) and no file as a raw line break.
 */
import * as buildDrbd from "../../provider/drbd/commands";
import { renderResource } from "../../provider/drbd/render";
import { checkResourceSet, drbdResourceSchema, type DrbdResourceInputs } from "../../provider/drbd/schema";
import { buildAutoLinksScript, buildRemoveAutoLinksScript, buildStopHeartbeatScript, renderClusterAuthkeys, renderHaCf, renderHaresources } from "../../provider/heartbeat/render";
import { renderResourceScript } from "../../provider/heartbeat/resource-script";
import type { HeartbeatClusterInputs } from "../../provider/heartbeat/schema";
import { buildHeartbeatProbeScript } from "../../provider/heartbeat/status";
import { buildCorosyncProbeScript, buildInstallPackagesScript, buildStartStackScript, renderCorosyncConf } from "../../provider/corosync/render";
import type { CorosyncClusterInputs } from "../../provider/corosync/schema";
import { formatPath } from "../../provider/inputs";
import { desiredCib, renderCrm } from "../../provider/pacemaker/cib";
import { buildForgetResourcesScript, buildMoveScript, buildNodeAttributesScript, renderMigrationSshConfig } from "../../provider/pacemaker/render";
import type { PacemakerConfigInputs } from "../../provider/pacemaker/schema";
import type { Props } from "../../provider/lifecycle";
import * as buildLvm from "../../provider/lvm/commands";
import { buildSetHostnameCommand, renderHostname, renderHosts, renderInterfacesDropIn, renderNtpConfig } from "../../provider/network/render";
import type { NodeNetworkInputs } from "../../provider/network/schema";
import { implementation, type ResourceKind } from "../../provider/runtime";
import { configPath } from "../../provider/xen/config";
import { readDomUConfig } from "../../provider/xen/config-parse";
import { renderedConfig } from "../../provider/xen/domu-ops";
import { buildMigrationKeysCommand, buildSendSaveImageCommand, buildTrustProbeCommand, renderAuthorizedKeysLine, renderKnownHosts } from "../../provider/xen/migration";
import { drbdResourcesOf, migrationAddressOf, type XenDomUInputs, type XenHost } from "../../provider/xen/schema";
import { buildGuestSurveyScript, toolstackFor } from "../../provider/xen/toolstack";
import { buildXenCreateImageScript, renderXenToolsConfig, type XenToolsImageInputs } from "../../provider/xen/xen-tools";
import { parseSize } from "../../provider/values";

const PIN = `SHA256:${"Q".repeat(43)}`;
const connection = (host: string) => ({ host, port: 22, user: "root", privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n", password: "p", privateKeyPassword: "pp", hostKey: PIN });
const xenHosts = [
  { name: "ha1", connection: connection("10.1.1.100"), crossoverAddress: "192.168.1.100", crossoverName: "ha1X" },
  { name: "ha2", connection: connection("10.1.1.101"), crossoverAddress: "192.168.1.101", crossoverName: "ha2X" },
];

/** A valid input of each kind, with as many string fields set as the schema has. */
const valid: Record<ResourceKind, Props> = {
  VolumeGroup: { connection: connection("10.1.1.100"), name: "vg", devices: ["/dev/sda3", "/dev/disk/by-id/ata-disk_1"] },
  LogicalVolume: { connection: connection("10.1.1.100"), volumeGroup: "vg", name: "test-disk", size: "5G" },
  DrbdResource: {
    name: "test-disk",
    initialSyncSource: "ha1.domain.local",
    resyncRate: "90M",
    size: "5G",
    nodes: ["ha1", "ha2"].map((n, i) => ({
      connection: connection(`10.1.1.${100 + i}`),
      hostname: `${n}.domain.local`,
      address: `192.168.1.${100 + i}`,
      device: "/dev/drbd1",
      disk: "/dev/vg/test-disk",
      metaDisk: { device: "/dev/vg/meta", index: 0 },
    })),
  },
  NodeNetwork: {
    connection: connection("10.1.1.100"),
    hostname: "ha1.domain.local",
    shortName: "ha1",
    public: { device: "eth0", address: "10.1.1.100", gateway: "10.1.1.1", bridge: "xenbr0" },
    crossover: { device: "eth1", address: "192.168.1.100", alias: "ha1X" },
    peer: { hostname: "ha2.domain.local", shortName: "ha2", publicAddress: "10.1.1.101", crossoverAddress: "192.168.1.101", crossoverAlias: "ha2X" },
    extraHosts: [{ address: "10.1.1.50", names: ["test.domain.local", "test"] }],
    ntp: { daemon: "chrony", servers: ["ntp1.domain.local", "10.1.1.2"] },
  },
  HeartbeatCluster: {
    nodes: ["ha1", "ha2"].map((n, i) => ({ connection: connection(`10.1.1.${100 + i}`), name: `${n}.domain.local`, publicAddress: `10.1.1.${100 + i}`, crossoverAddress: `192.168.1.${100 + i}`, crossoverName: `${n}X` })),
    authKey: "SecretKey123!!!",
    publicInterface: "xenbr0",
    crossoverInterface: "eth1",
    logFacility: "local0",
    watchdog: "/dev/watchdog",
    debugFile: "/var/log/ha-debug",
    resourceGroups: [
      { name: "xendomainsHA1", autoDirectory: "/etc/xen/auto/HA1" },
      { name: "xendomainsHA2", autoDirectory: "/etc/xen/auto/HA2" },
    ],
    domains: [{ name: "test", config: "/etc/xen/test.cfg", home: "ha1.domain.local" }],
  },
  XenDomU: {
    name: "test",
    hosts: xenHosts,
    runOn: "ha1",
    kernel: "/boot/vmlinuz",
    ramdisk: "/boot/initrd.img",
    root: "/dev/xvda2 ro",
    extra: "elevator=noop",
    vifs: [{ bridge: "xenbr0", mac: "00:16:3e:12:34:56", ip: "10.1.1.50" }],
    disks: [{ drbd: "test-disk", vdev: "xvda2" }, { phy: "/dev/vg/test-swap", vdev: "xvda1" }],
  },
  XenMigrationTrust: { hosts: xenHosts },
  CorosyncCluster: {
    clusterName: "xen-ha",
    nodes: ["ha1", "ha2"].map((n, i) => ({ connection: connection(`10.1.1.${100 + i}`), name: `${n}.domain.local`, addresses: [`10.1.1.${100 + i}`, `192.168.1.${100 + i}`] })),
    authKey: "k".repeat(128),
    arbiter: { host: "qnetd.domain.local" },
  },
  PacemakerConfig: {
    nodes: ["ha1", "ha2"].map((n, i) => ({ connection: connection(`10.1.1.${100 + i}`), name: `${n}.domain.local`, migrationAddress: `192.168.1.${100 + i}` })),
    fencing: ["ha1", "ha2"].map((n, i) => ({ node: `${n}.domain.local`, agent: "fence_ipmilan", parameters: { ip: `10.1.2.${100 + i}`, username: "admin", password: "S3cret pass" } })),
    guests: [{ name: "test", config: "/etc/xen/test.cfg", home: "ha1.domain.local" }],
  },
  XenToolsImage: {
    connection: connection("10.1.1.100"),
    name: "test",
    ip: "10.1.1.50",
    volumeGroup: "vg",
    size: "5Gb",
    swap: "384Mb",
    dist: "bookworm",
    gateway: "10.1.1.1",
    netmask: "255.255.255.0",
    broadcast: "10.1.1.255",
    arch: "amd64",
    installMethod: "tar",
    installSource: "/srv/rootfs.tar",
    mirror: "http://deb.debian.org/debian",
    password: "S3cret pass",
    kernel: "/boot/vmlinuz",
    initrd: "/boot/initrd.img",
  },
};

/** What reaches a host from checked inputs: shell text (commands and shell scripts written as files) and other files. */
function artifacts(kind: ResourceKind, i: Props): { shell: string[]; files: string[] } {
  switch (kind) {
    case "VolumeGroup": {
      const [name, devices] = [i.name as string, i.devices as string[]];
      return {
        shell: [
          buildLvm.buildSurveyScript(devices),
          buildLvm.buildCreateVolumeGroupScript(name, devices, devices),
          buildLvm.buildExtendVolumeGroupScript(name, devices, devices),
          buildLvm.buildReduceVolumeGroupScript(name, devices),
          buildLvm.buildRemoveVolumeGroupScript(name, devices),
        ].map((s) => s.text),
        files: [],
      };
    }
    case "LogicalVolume": {
      const [vg, name, bytes] = [i.volumeGroup as string, i.name as string, parseSize(i.size as string) ?? 0];
      return {
        shell: [
          buildLvm.buildCreateLogicalVolumeCommand(vg, name, bytes),
          buildLvm.buildExtendLogicalVolumeCommand(vg, name, bytes),
          buildLvm.buildRemoveLogicalVolumeCommand(vg, name),
          buildLvm.buildZeroVolumeCommand(`/dev/${vg}/${name}`),
        ].map((s) => s.text),
        files: [],
      };
    }
    case "DrbdResource": {
      const r = i as unknown as DrbdResourceInputs;
      const node = r.nodes[0];
      return {
        shell: [
          buildDrbd.buildCheckConfigScript(r.name),
          buildDrbd.buildMetadataProbeCommand(node),
          buildDrbd.buildCreateMetadataScript(r, node),
          buildDrbd.buildWipeMetadataCommand(node),
          buildDrbd.buildUpScript(r),
          buildDrbd.buildForcePrimaryCommand(r),
          buildDrbd.buildSkipInitialSyncCommand(r.name),
          buildDrbd.buildReleaseScript([r.name], 10),
          buildDrbd.buildPrimaryCommand(r.name),
          buildDrbd.buildAdjustCommand(r.name),
          buildDrbd.buildResizeCommand(r.name),
          buildDrbd.buildDownCommand(r.name),
          buildDrbd.buildStatusProbeScript(r.name, node.device),
          buildDrbd.buildVolumeContentProbeScript(node.disk),
          buildDrbd.buildDeviceSizesScript([node.disk]),
        ].map((s) => s.text),
        files: [renderResource(r)],
      };
    }
    case "NodeNetwork": {
      const n = i as unknown as NodeNetworkInputs;
      return { shell: [buildSetHostnameCommand(n.hostname).text], files: [renderInterfacesDropIn(n), renderHosts(n), renderHostname(n), renderNtpConfig(n)] };
    }
    case "HeartbeatCluster": {
      const c = i as unknown as HeartbeatClusterInputs;
      return {
        shell: [
          buildAutoLinksScript(c).text,
          buildRemoveAutoLinksScript(c).text,
          buildHeartbeatProbeScript(c).text,
          buildStopHeartbeatScript(c.shutdownTimeoutSeconds, c.debugFile).text,
          renderResourceScript(c, 0, 0),
          renderResourceScript(c, 1, 0),
          renderResourceScript(c, 0, 1, { release: true }),
        ],
        files: [renderHaCf(c), renderHaresources(c), renderClusterAuthkeys(c)],
      };
    }
    case "XenDomU": {
      const d = i as unknown as XenDomUInputs;
      const survey = buildGuestSurveyScript(toolstackFor(d.toolstack), d.name, configPath(d.name), { drbdResources: drbdResourcesOf(d), bridges: ["xenbr0"] });
      const peers = d.hosts.map((h) => migrationAddressOf(h));
      return {
        shell: [survey, ...peers.map((p) => buildSendSaveImageCommand(d.name, p)), ...peers.map((p) => buildTrustProbeCommand(p))].map((s) => s.text),
        files: [renderedConfig(d)],
      };
    }
    case "XenMigrationTrust": {
      const hosts = i.hosts as XenHost[];
      return {
        shell: hosts.flatMap((h) => [buildMigrationKeysCommand(h.name).text, buildTrustProbeCommand(migrationAddressOf(h)).text]),
        files: hosts.flatMap((h) => [renderAuthorizedKeysLine("ssh-ed25519 AAAAC3Nz key", h.crossoverAddress), renderKnownHosts({ ...h, hostKey: "ssh-ed25519 AAAAC3Nz" })]),
      };
    }
    case "CorosyncCluster": {
      const c = i as unknown as CorosyncClusterInputs;
      return { shell: [buildInstallPackagesScript(c), buildStartStackScript(c), buildCorosyncProbeScript()].map((x) => x.text), files: [renderCorosyncConf(c)] };
    }
    case "PacemakerConfig": {
      const c = i as unknown as PacemakerConfigInputs;
      const ids = desiredCib(c).primitives.map((p) => p.id);
      return {
        shell: [buildNodeAttributesScript(c), buildForgetResourcesScript(ids), ...c.guests.map((g) => buildMoveScript(g.name, g.home))].map((x) => x.text),
        files: [renderCrm(desiredCib(c)), ...c.nodes.map((n) => renderMigrationSshConfig(c, n.name))],
      };
    }
    case "XenToolsImage": {
      const g = i as unknown as XenToolsImageInputs;
      return { shell: [buildXenCreateImageScript(g).text], files: [renderXenToolsConfig(g)] };
    }
  }
}

/** Per character of shell text: whether it lies between single quotes (where the shell reads nothing). */
function singleQuoted(text: string): boolean[] {
  const inside: boolean[] = [];
  let state: "none" | "single" | "double" = "none";
  for (let k = 0; k < text.length; k++) {
    const ch = text[k];
    inside[k] = state === "single" && ch !== "'";
    if (state === "single") {
      if (ch === "'") state = "none";
    } else if (ch === "\\") {
      k++;
      inside[k] = false;
    } else if (state === "double") {
      if (ch === '"') state = "none";
    } else if (ch === "'") state = "single";
    else if (ch === '"') state = "double";
  }
  return inside;
}

/** Where a value the shell would interpret appears outside single quotes. */
function unquotedUses(text: string, value: string): number[] {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return [];
  const inside = singleQuoted(text);
  const found: number[] = [];
  for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
    if (!inside.slice(at, at + value.length).every(Boolean)) found.push(at);
  }
  return found;
}

const HOSTILE = [
  "$(touch /tmp/p)",
  "`touch /tmp/p`",
  "a;touch /tmp/p",
  "a|touch /tmp/p",
  "a && touch /tmp/p",
  "it's",
  'say "x"',
  "a\nb",
  "a\rb",
  "-oProxyCommand=x",
  "--help",
  "ünïcødé",
  "x".repeat(300),
];
const MALFORMED_IPV4 = ["010.1.1.1", "1.2.3", "256.1.1.1"];
const MALFORMED_SIZES = ["-1G", "5X", "1e9", "99999999T"];

/**
 * Fields that take free text by design, where a leading `-` is harmless: secrets that go to the SSH
 * library or over stdin and never into an argument list, and kernel command-line text, which is a
 * quoted string in the guest's config.
 */
const FREE_TEXT = /(^|\.)(privateKey|privateKeyPassword|password|authKey|root|extra)$|\.parameters\.[a-z_]+$/;

/**
 * A fence agent's parameters: the agent's own names and values (an address, a login), which
 * Pacemaker hands to the agent on its stdin. The package cannot know which one is an address, and
 * any name is one the agent may take.
 */
const AGENT_PARAMETER = /\.parameters\.[a-z_]+$/;

type Path = (string | number)[];

function stringFields(value: unknown, path: Path = []): Path[] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((v, k) => stringFields(v, [...path, k]));
  if (value !== null && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringFields(v, [...path, k]));
  return [];
}

function objectPaths(value: unknown, path: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((v, k) => objectPaths(v, [...path, k]));
  if (value !== null && typeof value === "object") return [path, ...Object.entries(value).flatMap(([k, v]) => objectPaths(v, [...path, k]))];
  return [];
}

function withValue(root: Props, path: Path, value: unknown): Props {
  const copy = structuredClone(root);
  let cur = copy as Record<string | number, unknown>;
  for (const part of path.slice(0, -1)) cur = cur[part] as Record<string | number, unknown>;
  cur[path[path.length - 1]!] = value;
  return copy;
}

/** Fields that must equal another one (a node named twice): a value fed to the first goes to both. */
const LINKED: Partial<Record<ResourceKind, Record<string, Path | Path[]>>> = {
  DrbdResource: { "nodes[0].hostname": ["initialSyncSource"] },
  HeartbeatCluster: { "nodes[0].name": ["domains", 0, "home"] },
  XenDomU: { "hosts[0].name": ["runOn"] },
  PacemakerConfig: {
    "nodes[0].name": [["guests", 0, "home"], ["fencing", 0, "node"]],
    "nodes[1].name": ["fencing", 1, "node"],
    "fencing[0].node": [["nodes", 0, "name"], ["guests", 0, "home"]],
    "fencing[1].node": ["nodes", 1, "name"],
  },
};

function withHostile(kind: ResourceKind, path: Path, value: string): Props {
  const linked = LINKED[kind]?.[formatPath(path)];
  const paths = linked === undefined ? [] : Array.isArray(linked[0]) ? (linked as Path[]) : [linked as Path];
  return paths.reduce((news, p) => withValue(news, p, value), withValue(valid[kind], path, value));
}

const check = (kind: ResourceKind, news: Props) => implementation(kind).check({}, news);
const names = (path: Path) => (property: string) => {
  const p = formatPath(path);
  return property === p || property.startsWith(`${p}.`) || property.startsWith(`${p}[`);
};
const kinds = Object.keys(valid) as ResourceKind[];

describe("hostile inputs", () => {
  it.each(kinds)("the valid %s input passes check", async (kind) => {
    expect((await check(kind, valid[kind])).failures).toEqual([]);
  });

  const cases = kinds.flatMap((kind) => stringFields(valid[kind]).map((path) => [kind, formatPath(path), path] as const));

  it.each(cases)("%s %s: every hostile value is refused naming the field, or held safely", async (kind, _field, path) => {
    const original = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid[kind]) as string;
    const mustRefuse = new Set([
      ...(/^\d+\.\d+\.\d+\.\d+$/.test(original) && !AGENT_PARAMETER.test(formatPath(path)) ? MALFORMED_IPV4 : []),
      ...(["size", "swap"].includes(String(path[path.length - 1])) ? MALFORMED_SIZES : []),
    ]);
    const problems: string[] = [];
    for (const value of [...HOSTILE, ...MALFORMED_IPV4, ...MALFORMED_SIZES]) {
      const { inputs, failures } = await check(kind, withHostile(kind, path, value));
      if (failures.length > 0) {
        if (!failures.some((f) => names(path)(f.property))) problems.push(`${JSON.stringify(value)} refused elsewhere: ${failures.map((f) => f.property).join(", ")}`);
        continue;
      }
      if (mustRefuse.has(value)) problems.push(`${JSON.stringify(value)} accepted`);
      if (value.startsWith("-") && !FREE_TEXT.test(formatPath(path))) problems.push(`${JSON.stringify(value)} accepted with a leading -`);
      const { shell, files } = artifacts(kind, inputs);
      for (const text of shell) if (unquotedUses(text, value).length > 0) problems.push(`${JSON.stringify(value)} unquoted in shell text: ${text}`);
      if (/[\n\r]/.test(value) && files.some((f) => f.includes(value))) problems.push(`${JSON.stringify(value)} written raw into a file`);
    }
    expect(problems).toEqual([]);
  });

  const typoCases = kinds.flatMap((kind) =>
    objectPaths(valid[kind]).flatMap((path) => {
      const object = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid[kind]) as Props;
      if (AGENT_PARAMETER.test(`${formatPath(path)}.x`)) return [];
      return Object.keys(object).map((key) => [kind, formatPath([...path, key]), path, key] as const);
    }),
  );

  it.each(typoCases)("%s %s: a typo of the field is refused, naming the field it meant", async (kind, _field, path, key) => {
    const lower = key.toLowerCase();
    const swapped = `${key.slice(0, -2)}${key.slice(-1)}${key.slice(-2, -1)}`;
    const typo = lower !== key ? lower : swapped !== key ? swapped : key.slice(0, -1);
    const object = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], valid[kind]) as Props;
    const news = withValue(valid[kind], [...path, typo], object[key]);
    expect((await check(kind, news)).failures).toContainEqual({ property: formatPath([...path, typo]), reason: `unknown field; did you mean "${key}"?` });
  });

  it("keeps kernel command-line text intact through the guest's config", async () => {
    const root = `/dev/xvda2 ro init=/bin/sh -c 'echo "$(id)"' \\ ünï`;
    const { inputs } = await check("XenDomU", { ...valid.XenDomU, root });
    expect(readDomUConfig(renderedConfig(inputs as unknown as XenDomUInputs)).root).toBe(root);
  });
});

describe("DRBD collisions", () => {
  const resource = (name: string, minor: number, port: number, index: number, disk = `/dev/vg/${name}`) =>
    drbdResourceSchema.parse({
      ...valid.DrbdResource,
      name,
      nodes: (valid.DrbdResource.nodes as Props[]).map((n) => ({ ...n, device: `/dev/drbd${minor}`, port, disk, metaDisk: { device: "/dev/vg/meta", index } })),
    });
  const first = resource("test-disk", 1, 7789, 0);

  it.each([
    ["a minor", resource("test-swap", 1, 7790, 1), "resources[1].nodes[0].device"],
    ["a port on the same address", resource("test-swap", 2, 7789, 1), "resources[1].nodes[0].port"],
    ["a meta-data index", resource("test-swap", 2, 7790, 0), "resources[1].nodes[0].metaDisk"],
    ["a backing disk", resource("test-swap", 2, 7790, 1, "/dev/vg/test-disk"), "resources[1].nodes[0].disk"],
    ["a name", resource("test-disk", 2, 7790, 1, "/dev/vg/other"), "resources[1].name"],
  ])("refuses two resources sharing %s, naming the second", (_what, second, property) => {
    expect(checkResourceSet([first, second]).map((f) => f.property)).toContain(property);
  });
});
