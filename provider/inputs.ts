/**
 * Validating resource inputs with zod, the way the engine needs it: field-level failures, and
 * values that are still unknown during preview accepted rather than rejected.
 */
import type { z } from "zod";
import { defOf, WRAPPER_TYPES, type ZodDef } from "./zod-def";
import type { InputFailure } from "./errors";

/** The value the engine sends for an input that is not known yet (during preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  return value === UNKNOWN;
}

export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

export type Parsed<T> =
  | { ok: true; value: T }
  | { ok: false; failures: InputFailure[]; onlyUnknowns: boolean };

/** Formats a path as users write it: `nodes.ha1.disks[0].size`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out || "(inputs)";
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const part of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[part];
  }
  return cur;
}

function touchesUnknown(root: unknown, path: readonly PropertyKey[]): boolean {
  for (let i = 0; i <= path.length; i++) {
    if (isUnknown(valueAt(root, path.slice(0, i)))) return true;
  }
  return false;
}

export interface ParseOptions {
  /**
   * What to do with fields the schema does not know. "refuse" (default) for inputs a user wrote:
   * a misspelt `hostKey` must not silently turn pinning off. "ignore" for recorded inputs and state,
   * which may hold fields an older or newer version wrote.
   */
  unknownFields?: "refuse" | "ignore";
}

/**
 * Parses inputs; failures that only concern unknown values are dropped (they are checked again
 * when the values are known).
 */
export function parseInputs<S extends z.ZodType>(schema: S, raw: unknown, options: ParseOptions = {}): Parsed<z.output<S>> {
  const input = stripProviderKey(raw);
  const unknown = options.unknownFields === "ignore" ? [] : unknownFields(schema, input);
  const result = schema.safeParse(input);
  if (result.success && unknown.length === 0) return { ok: true, value: result.data };
  const issues = result.success ? [] : result.error.issues
    .flatMap(unionIssues)
    .filter((issue) => !touchesUnknown(raw, issue.path))
    .map((issue) => ({ property: formatPath(issue.path), reason: issue.message }));
  const failures = [...unknown, ...issues];
  return { ok: false, failures, onlyUnknowns: failures.length === 0 };
}

interface Issue {
  code?: string;
  path: PropertyKey[];
  message: string;
  errors?: Issue[][];
  issues?: Issue[];
}

/**
 * A union's failure as the member the value was meant for reports it: `metaDisk.device: must be a
 * block device path`, not `metaDisk: Invalid input`. Members refused for the value's very type
 * (a string where an object is expected) were not meant; when one member is left, its issues are
 * the answer.
 */
function unionIssues(issue: Issue): Issue[] {
  // A record's key refused by its own schema: that schema's sentence, not "Invalid key in record".
  if (issue.code === "invalid_key" && Array.isArray(issue.issues) && issue.issues.length > 0) return issue.issues.map((e) => ({ ...e, path: [...issue.path, ...e.path] }));
  if (issue.code !== "invalid_union" || !Array.isArray(issue.errors)) return [issue];
  const meant = issue.errors.filter((errs) => !errs.every((e) => e.path.length === 0 && (e.code === "invalid_type" || e.code === "invalid_value")));
  if (meant.length !== 1) return [issue];
  return meant[0]!.flatMap((e) => unionIssues({ ...e, path: [...issue.path, ...e.path] }));
}

/** The engine adds the serialized provider to every property bag; it is not an input. */
export function stripProviderKey(raw: unknown): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const { __provider: _ignored, ...rest } = raw as Record<string, unknown>;
  return rest;
}

/**
 * Fields of `value` that `schema` does not know, at every depth, each with the nearest field name
 * it does know. zod objects strip such fields silently; for inputs a user wrote that turns a typo
 * (`hostkey`) into a setting quietly left at its default. Fields set to `undefined` (output
 * placeholders) and values still unknown during preview are left alone.
 */
export function unknownFields(schema: z.ZodType, value: unknown): InputFailure[] {
  const failures: InputFailure[] = [];
  walk(schema, value, [], failures);
  return failures;
}


const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === "object" && !Array.isArray(value);

function walk(schema: unknown, value: unknown, path: PropertyKey[], out: InputFailure[]): void {
  if (value === undefined || isUnknown(value)) return;
  const def = defOf(schema);
  switch (def.type) {
    case "object": {
      if (!isRecord(value)) return;
      const shape = def.shape as Record<string, unknown>;
      const catchall = def.catchall as unknown;
      for (const [key, item] of Object.entries(value)) {
        if (key in shape) walk(shape[key], item, [...path, key], out);
        else if (catchall !== undefined) {
          // `.strict()` (catchall never) makes zod report the key itself; `.loose()` accepts it.
          if (defOf(catchall).type !== "never") walk(catchall, item, [...path, key], out);
        } else if (item !== undefined && !isUnknown(item)) {
          out.push({ property: formatPath([...path, key]), reason: unknownFieldReason(key, Object.keys(shape)) });
        }
      }
      return;
    }
    case "array":
      if (Array.isArray(value)) value.forEach((item, i) => walk(def.element, item, [...path, i], out));
      return;
    case "tuple":
      if (Array.isArray(value)) {
        const items = def.items as unknown[];
        value.forEach((item, i) => {
          const itemSchema = i < items.length ? items[i] : def.rest;
          if (itemSchema) walk(itemSchema, item, [...path, i], out);
        });
      }
      return;
    case "record":
      if (isRecord(value)) for (const [key, item] of Object.entries(value)) walk(def.valueType, item, [...path, key], out);
      return;
    case "union":
      walkUnion(unionOptionsFor(def, value), value, path, out);
      return;
    case "intersection":
      // Each side knows only part of the fields: report what neither side knows.
      walkIntersection(def.left as z.ZodType, def.right as z.ZodType, value, path, out);
      return;
    case "pipe":
      // A preprocess step sees the raw value first; otherwise the input side is what was written.
      walk(defOf(def.in).type === "transform" ? def.out : def.in, value, path, out);
      return;
    case "lazy":
      walk((def.getter as () => unknown)(), value, path, out);
      return;
    default:
      if (WRAPPER_TYPES.has(def.type)) walk(def.innerType, value, path, out);
      return;
  }
}

/** A discriminated union's options whose discriminator matches the value's (all options for a plain union). */
function unionOptionsFor(def: ZodDef, value: unknown): z.ZodType[] {
  const options = def.options as z.ZodType[];
  const key = def.discriminator;
  if (typeof key !== "string" || !isRecord(value)) return options;
  const matching = options.filter((o) => {
    const field = (defOf(o).shape as Record<string, z.ZodType> | undefined)?.[key];
    return field !== undefined && field.safeParse(value[key]).success;
  });
  return matching.length > 0 ? matching : options;
}

/**
 * The options a value could be meant for: those it parses as, else those of its shape (an object
 * for an object schema); of those, the one it fits best decides what is reported.
 */
function walkUnion(options: z.ZodType[], value: unknown, path: PropertyKey[], out: InputFailure[]): void {
  const parsing = options.filter((o) => o.safeParse(value).success);
  const candidates = parsing.length > 0 ? parsing : options.filter((o) => shapeFits(o, value));
  if (candidates.length === 0) return;
  const reports = candidates.map((o) => {
    const found: InputFailure[] = [];
    walk(o, value, path, found);
    return found;
  });
  out.push(...reports.reduce((best, r) => (r.length < best.length ? r : best)));
}

function walkIntersection(left: z.ZodType, right: z.ZodType, value: unknown, path: PropertyKey[], out: InputFailure[]): void {
  const fromLeft: InputFailure[] = [];
  const fromRight: InputFailure[] = [];
  walk(left, value, path, fromLeft);
  walk(right, value, path, fromRight);
  const rightProperties = new Set(fromRight.map((f) => f.property));
  out.push(...fromLeft.filter((f) => rightProperties.has(f.property)));
}

/** Whether a value has the basic shape a schema takes (object, array, or a plain value). */
function shapeFits(schema: unknown, value: unknown): boolean {
  const def = defOf(schema);
  switch (def.type) {
    case "object":
    case "record":
      return isRecord(value);
    case "array":
    case "tuple":
      return Array.isArray(value);
    case "pipe":
      return shapeFits(defOf(def.in).type === "transform" ? def.out : def.in, value);
    case "lazy":
      return shapeFits((def.getter as () => unknown)(), value);
    case "union":
      return (def.options as unknown[]).some((o) => shapeFits(o, value));
    default:
      if (WRAPPER_TYPES.has(def.type) && def.type !== "promise") return shapeFits(def.innerType, value);
      return !isRecord(value) && !Array.isArray(value);
  }
}

function unknownFieldReason(key: string, known: readonly string[]): string {
  const nearest = nearestName(key, known);
  if (nearest !== undefined) return `unknown field; did you mean "${nearest}"?`;
  return known.length > 0 ? `unknown field; the fields here are ${known.join(", ")}` : "unknown field; nothing may be set here";
}

/** The known name closest to `name` ignoring case, if it is close enough to be a typo of it. */
export function nearestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(1, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

/** Edit distance counting an insertion, deletion, substitution or swap of two neighbours as one. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_r, i) => Array.from({ length: b.length + 1 }, (_c, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
