/**
 * The contract every resource implements, and the shared parts of it: validating inputs in
 * `check`, property diffs in `diff`, and the shape of a create that failed half way.
 */
import type { z } from "zod";
import { diffInputs, nested, type Classifier, type DiffRules } from "./diff";
import type { InputFailure } from "./errors";
import { parseInputs, stripProviderKey } from "./inputs";

export type Props = Record<string, unknown>;

export interface CheckResult {
  inputs: Props;
  failures: InputFailure[];
}

export interface DiffResult {
  changes: boolean;
  replaces: string[];
  stables?: string[];
  deleteBeforeReplace?: boolean;
}

export interface Lifecycle {
  check(olds: Props, news: Props): Promise<CheckResult>;
  diff(id: string, olds: Props, news: Props): Promise<DiffResult>;
  create(inputs: Props): Promise<{ id: string; outs: Props }>;
  read(id: string, props: Props): Promise<{ id?: string; props?: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(id: string, props: Props): Promise<void>;
}

/**
 * Thrown from `create` after something was made on a host: the engine records the resource with
 * these properties, so nothing is left untracked and the next `up` can continue or delete it.
 */
export class PartialCreateError extends Error {
  readonly reasons: string[];
  constructor(
    readonly id: string,
    readonly properties: Props,
    cause: unknown,
  ) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(message, { cause });
    this.reasons = [message];
  }
}

/** How each field of a connection is changed: another host is another resource; the rest is bookkeeping. */
export const connectionFieldRules = {
  host: "replace",
  port: "update",
  user: "update",
  privateKey: "update",
  privateKeyPassword: "update",
  password: "update",
  hostKey: "update",
  sudo: "update",
  dialTimeoutSeconds: "update",
} as const satisfies DiffRules;

export const connectionRule: Classifier = nested(connectionFieldRules);

export interface Spec<S extends z.ZodType> {
  /** Resource type name, for messages. */
  typeName: string;
  schema: S;
  /** How each input is changed. Inputs without a rule never cause a diff. */
  rules: DiffRules;
  /** Checks that need the previous inputs (a shrink refused before preview ends, say). */
  validateChange?: (olds: z.output<S>, news: z.output<S>) => InputFailure[];
}

export function checkWith<S extends z.ZodType>(spec: Spec<S>, olds: Props, news: Props): CheckResult {
  const parsed = parseInputs(spec.schema, news);
  if (!parsed.ok) {
    return { inputs: stripProviderKey(news) as Props, failures: parsed.failures };
  }
  const inputs = parsed.value as Props;
  const previous = parseInputs(spec.schema, olds);
  const failures = previous.ok && spec.validateChange && Object.keys(stripProviderKey(olds) as Props).length > 0
    ? spec.validateChange(previous.value, parsed.value)
    : [];
  return { inputs, failures };
}

export function diffWith(spec: Pick<Spec<z.ZodType>, "rules">, olds: Props, news: Props): DiffResult {
  const outcome = diffInputs(olds, news, spec.rules);
  return { changes: outcome.changes, replaces: outcome.replaces, deleteBeforeReplace: outcome.replaces.length > 0 };
}
