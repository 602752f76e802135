/**
 * Validating resource inputs with zod, the way the engine needs it: field-level failures, and
 * values that are still unknown during preview accepted rather than rejected.
 */
import type { z } from "zod";
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

/**
 * Parses inputs; failures that only concern unknown values are dropped (they are checked again
 * when the values are known).
 */
export function parseInputs<S extends z.ZodType>(schema: S, raw: unknown): Parsed<z.output<S>> {
  const result = schema.safeParse(stripProviderKey(raw));
  if (result.success) return { ok: true, value: result.data };
  const failures = result.error.issues
    .filter((issue) => !touchesUnknown(raw, issue.path))
    .map((issue) => ({ property: formatPath(issue.path), reason: issue.message }));
  return { ok: false, failures, onlyUnknowns: failures.length === 0 };
}

/** The engine adds the serialized provider to every property bag; it is not an input. */
export function stripProviderKey(raw: unknown): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const { __provider: _ignored, ...rest } = raw as Record<string, unknown>;
  return rest;
}
