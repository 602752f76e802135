/**
 * The contract every resource implements, and the shared parts of it: validating inputs in
 * `check`, property diffs in `diff`, and the shape of a create that failed half way.
 */
import type { z } from "zod";
import { diffInputs, nested, type Classifier, type DiffRules } from "./diff";
import type { InputFailure } from "./errors";
import { containsUnknown, parseInputs, stripProviderKey } from "./inputs";

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
  read(id: string, props: Props): Promise<{ id?: string; props?: Props; inputs?: Props }>;
  update(id: string, olds: Props, news: Props): Promise<{ outs: Props }>;
  delete(id: string, props: Props): Promise<void>;
  /** The inputs a refresh records, from the refreshed properties (see refreshed-inputs.ts). */
  refreshedInputs?(props: Props): Props;
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

/**
 * How each field of a connection is changed: all of it is bookkeeping. Reaching the same machine
 * by another address (an IP for a name, a new management address) is an update, and the update
 * proves it is the same machine by the host key recorded in the state before it touches anything.
 */
export const connectionFieldRules = {
  host: "update",
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
  /**
   * For a resource that holds data: what a replace would delete, for the refusal (given the old
   * inputs). A replace is then refused in preview unless the new inputs set `allowDestructiveReplace`.
   */
  dataLostOnReplace?: (olds: z.output<S>) => string;
}

/**
 * Whether a checked create takes over what may exist (`adopt: true`, no earlier state, every input
 * known): only then may `check` read the hosts to refuse a take-over in preview.
 */
export function isAdoptingCreate(olds: Props, result: CheckResult): boolean {
  const creating = Object.keys(stripProviderKey(olds) as Props).length === 0;
  return creating && result.failures.length === 0 && result.inputs.adopt === true && !containsUnknown(result.inputs);
}

export function checkWith<S extends z.ZodType>(spec: Spec<S>, olds: Props, news: Props): CheckResult {
  const parsed = parseInputs(spec.schema, news);
  if (!parsed.ok) {
    return { inputs: stripProviderKey(news) as Props, failures: parsed.failures };
  }
  const inputs = parsed.value as Props;
  const previous = parseInputs(spec.schema, olds, { unknownFields: "ignore" });
  const hasOlds = previous.ok && Object.keys(stripProviderKey(olds) as Props).length > 0;
  if (!hasOlds) return { inputs, failures: [] };
  const failures = [
    ...(spec.validateChange?.(previous.value, parsed.value) ?? []),
    ...replaceRefusals(spec, previous.value as Props, inputs),
  ];
  return { inputs, failures };
}

/** A replace deletes the old resource first: refused for data unless the user opted in. */
function replaceRefusals<S extends z.ZodType>(spec: Spec<S>, olds: Props, news: Props): InputFailure[] {
  if (!spec.dataLostOnReplace || news.allowDestructiveReplace === true) return [];
  const { replaces } = diffInputs(olds, news, spec.rules);
  const lost = spec.dataLostOnReplace(olds as z.output<S>);
  // A value still unknown in preview is checked again once it is known, before anything is applied.
  return replaces.filter((property) => !containsUnknown(news[property])).map((property) => ({
    property,
    reason:
      `changing ${property} replaces this ${spec.typeName}, which deletes ${lost}. ` +
      `Nothing was changed. Set allowDestructiveReplace: true if that loss is intended; to keep the data, ` +
      `leave ${property} as it was and move the data deliberately (a new resource beside this one, copy, then remove this one).`,
  }));
}

export function diffWith(spec: Pick<Spec<z.ZodType>, "rules">, olds: Props, news: Props): DiffResult {
  const outcome = diffInputs(olds, news, spec.rules);
  return { changes: outcome.changes, replaces: outcome.replaces, deleteBeforeReplace: outcome.replaces.length > 0 };
}
