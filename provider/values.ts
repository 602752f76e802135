/**
 * One validator per kind of value (addresses, host and interface names, sizes), shared by every
 * schema and by the cluster component, so a value refused in one place is refused everywhere.
 * Each `*Problem` function says what is wrong with a value, or returns undefined when it is fine.
 */
import { isIPv6 } from "node:net";
import { z } from "zod";

/** A zod string that runs a `*Problem` function and reports its sentence as the failure. */
export function checkedString(problem: (value: string) => string | undefined): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const reason = problem(value);
    // One sentence per value: refinements chained after this one are skipped once it fails.
    if (reason !== undefined) ctx.addIssue({ code: "custom", message: reason, continue: false });
  });
}

// --- IPv4 and IPv6 addresses ---

/**
 * Dotted quads only, each part 0–255 without leading zeros: glibc's inet_aton reads `010` as octal,
 * so `010.001.001.050` would be 8.1.1.40 to one program and 10.1.1.50 to another.
 */
export function ipv4Problem(value: string): string | undefined {
  const parts = value.split(".");
  if (parts.length !== 4 || parts.some((p) => !/^[0-9]{1,3}$/.test(p))) {
    return "must be an IPv4 address of four dot-separated numbers, such as 10.1.1.100";
  }
  if (parts.some((p) => p.length > 1 && p.startsWith("0"))) {
    const decimal = parts.map((p) => String(Number(p))).join(".");
    return `must not have leading zeros (glibc reads them as octal: 010.001.001.050 is 8.1.1.40); write ${decimal} if that is the address meant`;
  }
  if (parts.some((p) => Number(p) > 255)) return "has a part above 255; each of the four parts is 0 to 255";
  return undefined;
}

export const isIPv4Address = (value: string): boolean => ipv4Problem(value) === undefined;

/** IPv6 as `inet_pton` takes it, without a zone (`%eth0` names an interface, not an address). */
export function isIPv6Address(value: string): boolean {
  return !value.includes("%") && isIPv6(value);
}

/** A dotted IPv4 address such as `10.1.1.100`. */
export const ipv4Address = checkedString(ipv4Problem);

/** An IPv4 or IPv6 address, for the fields that take both (DRBD's replication address, /etc/hosts entries). */
export const ipAddress = checkedString((v) => {
  if (v.includes(":")) return isIPv6Address(v) ? undefined : "must be an IPv6 address such as fd00::1 (without a %zone)";
  const problem = ipv4Problem(v);
  if (problem === undefined || !problem.startsWith("must be")) return problem;
  return "must be an IPv4 or IPv6 address, such as 192.168.1.1 or fd00::1 (a name is not resolved here)";
});

// --- Host names ---

const LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
/** What inet_aton accepts as an address: 1 to 4 parts in decimal, octal or hex (`10.1`, `0x7f.1`). */
const INET_ATON = /^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$/i;

/** Most characters `uname -n` can hold (the kernel's __NEW_UTS_LEN). */
export const MAX_HOST_NAME = 64;

/**
 * A host name, short (`ha1`) or fully qualified (`ha1.domain.local`): labels of letters, digits and
 * inner hyphens, at most 63 characters each and 64 in all (what `uname -n` holds), and never
 * something a resolver would take for an address.
 */
export function hostNameProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_HOST_NAME) return `must be a host name of 1 to ${MAX_HOST_NAME} characters (what uname -n holds)`;
  if (!value.split(".").every((label) => LABEL.test(label))) {
    return "must be a host name such as ha1.domain.local: dot-separated labels of letters, digits and inner hyphens, at most 63 characters each";
  }
  if (INET_ATON.test(value)) return "reads as an IPv4 address, not a host name";
  return undefined;
}

export const hostName = checkedString(hostNameProblem);

/** One label of a host name: a short name or an alias such as `ha1X`. */
export const hostLabel = checkedString((v) =>
  !v.includes(".") && hostNameProblem(v) === undefined ? undefined : "must be a single host name label such as ha1 or ha1X: letters, digits and inner hyphens, at most 63 characters",
);

/**
 * A host name or an IPv4 address (SSH hosts, migration targets, time servers). Something that looks
 * like an address is held to the address rules, so `010.1.1.1` is refused, not resolved.
 */
export function hostOrIPv4Problem(value: string): string | undefined {
  if (/^[0-9.]+$/.test(value)) return ipv4Problem(value);
  const problem = hostNameProblem(value);
  if (problem === undefined || INET_ATON.test(value)) return problem;
  return `must be a host name or IPv4 address such as ha2X or 192.168.1.2: a host name is dot-separated labels of letters, digits and inner hyphens, at most 63 characters each and ${MAX_HOST_NAME} in all`;
}

export const hostOrIPv4Address = checkedString(hostOrIPv4Problem);

/** A host name, an IPv4 or an IPv6 address: where an SSH client may dial. */
export const hostOrIPAddress = checkedString((v) =>
  v.includes(":") ? (isIPv6Address(v) ? undefined : "must be a host name, an IPv4 address or an IPv6 address (without a %zone)") : hostOrIPv4Problem(v),
);

// --- Paths ---

const PATH_SEGMENT = /^[A-Za-z0-9._+-]+$/;

/**
 * An absolute path safe unquoted in every file it is written to (configs, xen-tools' own shell
 * commands): segments of letters, digits and `. _ + -`, no `.` or `..` segment, no empty segment
 * (`//` or a trailing `/`).
 */
export function absolutePathProblem(value: string): string | undefined {
  if (!value.startsWith("/") || value.length > 4096) return "must be an absolute path such as /boot/vmlinuz";
  const segments = value.slice(1).split("/");
  if (!segments.every((s) => PATH_SEGMENT.test(s))) return "must be an absolute path of letters, digits and . _ + - between single slashes, without a trailing /";
  if (segments.some((s) => s === "." || s === "..")) return "must not contain . or .. segments: write the path itself";
  return undefined;
}

export const absolutePath = checkedString(absolutePathProblem);

/** A block device path under /dev (`/dev/sdb`, `/dev/vg/test-disk`, `/dev/disk/by-id/…`); by-path names' `:` is allowed. */
export function blockDeviceProblem(value: string): string | undefined {
  const help = "must be a block device path such as /dev/sdb or /dev/disk/by-id/…";
  if (!value.startsWith("/dev/")) return help;
  const segments = value.slice(5).split("/");
  if (!segments.every((s) => /^[A-Za-z0-9._+:@=,-]+$/.test(s) && s !== "." && s !== "..")) {
    return `${help}: letters, digits and . _ + : @ = , - between single slashes, no . or .. segment`;
  }
  return undefined;
}

export const blockDevicePath = checkedString(blockDeviceProblem);

// --- Network interfaces ---

/**
 * A Linux interface name: 1 to 15 characters (IFNAMSIZ), letters, digits, `_`, `.` and `-`. No `:`
 * (that names an address alias, not an interface), no `/` or spaces (the kernel refuses them), not
 * `.`, `..` or the loopback, and no leading `-`, which commands would read as an option.
 */
export function interfaceNameProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > 15) return "must be an interface name of 1 to 15 characters (such as eth0 or xenbr0)";
  if (value.includes(":")) return "must name an interface, not an address alias (no :)";
  if (!/^[A-Za-z0-9_.-]+$/.test(value)) return "must be an interface name of letters, digits, _ . and - only (such as eth0 or xenbr0)";
  if (value.startsWith("-")) return "must not start with - (commands would read it as an option)";
  if (value === "." || value === ".." || value === "lo") return "must not be ., .. or the loopback interface lo";
  return undefined;
}

export const interfaceName = checkedString(interfaceNameProblem);

// --- Memory ---

/** The most memory a guest may be given: 16 TiB, what Xen supports on a host. */
export const MAX_MEMORY_MIB = 16 * 1024 * 1024;

/** Guest memory in MiB: at least 32 (a PV kernel boots in no less), at most 16 TiB. */
export const memoryMiB = z
  .number()
  .int("must be a whole number of MiB")
  .min(32, "must be at least 32 (MiB)")
  .max(MAX_MEMORY_MIB, `must be at most ${MAX_MEMORY_MIB} (MiB, 16 TiB)`);

// --- Sizes ---

const UNIT_POWERS: Record<string, number> = { B: 0, K: 1, M: 2, G: 3, T: 4, P: 5 };
/** `5G`, `5Gb`, `5GiB`, `384M`, `512` (MiB), `4096B` (bytes); no signs, exponents or spaces. */
const SIZE_PATTERN = /^([0-9]+(?:\.[0-9]+)?)(?:([KMGTP])(?:i?B)?|(B))?$/i;

/** The largest size accepted anywhere: 1 PiB, far above any volume of this cluster. */
export const MAX_SIZE_BYTES = 1024 ** 5;

export const SIZE_HELP = 'a size such as "5G" or "384M" (binary units, as lvcreate -L reads them; a number without a unit is MiB)';

/**
 * Bytes of a size as `lvcreate -L` reads it: binary units (1G = 1024M), and a number without a unit
 * is MiB ("512" and 512 are 512 MiB; "4096B" is bytes). Undefined when unreadable or above 1 PiB.
 */
export function parseSize(size: string | number): number | undefined {
  let bytes: number;
  if (typeof size === "number") {
    bytes = size * 1024 ** 2;
  } else {
    const match = SIZE_PATTERN.exec(size);
    if (!match) return undefined;
    const unit = match[3] ? "B" : (match[2] ?? "M").toUpperCase();
    bytes = Number(match[1]) * 1024 ** (UNIT_POWERS[unit] ?? 2);
  }
  if (!Number.isFinite(bytes) || bytes < 0 || bytes > MAX_SIZE_BYTES) return undefined;
  return Math.round(bytes);
}

export function sizeProblem(size: string | number): string | undefined {
  const bytes = parseSize(size);
  if (bytes !== undefined) return bytes > 0 ? undefined : `must be more than zero: ${SIZE_HELP}`;
  const tooLarge = typeof size === "number" ? Number.isFinite(size) && size > 0 : SIZE_PATTERN.test(size);
  return tooLarge ? "must be at most 1 PiB (1024T); a number without a unit is MiB" : `must be ${SIZE_HELP}`;
}

/** A volume size: a string with a binary unit, or a number of MiB. */
export const size = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  const reason = sizeProblem(value);
  if (reason !== undefined) ctx.addIssue({ code: "custom", message: reason });
});
