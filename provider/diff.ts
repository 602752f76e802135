/**
 * Property-level diffs of inputs. Each input names how a change to it is applied: in place
 * (`update`) or by replacing the resource (`replace`). Values the host normalises are compared
 * by the rule's own function, so they never show as changes.
 */
import { containsUnknown } from "./inputs";

export type ChangeKind = "update" | "replace";

/** Decides how `before` → `after` is applied, or `undefined` when nothing changed. */
export type Classifier = (before: unknown, after: unknown) => ChangeKind | undefined;

export type DiffRules = Readonly<Record<string, ChangeKind | Classifier>>;

export interface DiffOutcome {
  changes: boolean;
  replaces: string[];
  updates: string[];
  deleteBeforeReplace?: boolean;
}

export function diffInputs(
  olds: Readonly<Record<string, unknown>>,
  news: Readonly<Record<string, unknown>>,
  rules: DiffRules,
): DiffOutcome {
  const replaces: string[] = [];
  const updates: string[] = [];
  for (const [name, rule] of Object.entries(rules)) {
    const before = olds[name];
    const after = news[name];
    const kind = typeof rule === "function" ? rule(before, after) : changed(before, after) ? rule : undefined;
    if (kind === "replace") replaces.push(name);
    else if (kind === "update") updates.push(name);
  }
  return { changes: replaces.length + updates.length > 0, replaces, updates };
}

export function changed(before: unknown, after: unknown): boolean {
  return containsUnknown(after) || !deepEqual(before, after);
}

/** Structural equality where a key holding `undefined` counts as absent and key order is ignored. */
export function deepEqual(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const sorted: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) {
      const item = (v as Record<string, unknown>)[k];
      if (item !== undefined) sorted[k] = item;
    }
    return sorted;
  }) ?? "undefined";
}

/** Rule for a nested object: each field classified by its own rule, the strongest kind wins. */
export function nested(rules: DiffRules): Classifier {
  return (before, after) => {
    if (containsUnknown(after) && typeof after !== "object") return strongest(Object.values(rules).map((r) => (typeof r === "string" ? r : "replace")));
    const outcome = diffInputs(asRecord(before), asRecord(after), rules);
    if (outcome.replaces.length > 0) return "replace";
    return outcome.updates.length > 0 ? "update" : undefined;
  };
}

function strongest(kinds: ChangeKind[]): ChangeKind {
  return kinds.includes("replace") ? "replace" : "update";
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : {};
}
