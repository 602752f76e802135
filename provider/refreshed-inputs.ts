/**
 * What a refresh records as a resource's inputs. `pulumi preview --diff` shows a dynamic
 * resource's change as the difference between its recorded inputs and the program's (the SDK's
 * dynamic provider returns no detailed diff), so what the hosts showed must land in the inputs to
 * be seen: a guest someone stopped reads `~ state: "stopped" => "running"`, and drift found on a
 * host reads as a `drift` property that the next up removes.
 */
import type { z } from "zod";
import type { Props } from "./lifecycle";
import { defOf, WRAPPER_TYPES } from "./zod-def";

/** The top-level input names a schema knows. */
export function topLevelKeys(schema: unknown): string[] {
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return Object.keys(def.shape as Record<string, unknown>);
    case "pipe":
      return topLevelKeys(def.in);
    default:
      return WRAPPER_TYPES.has(def.type) ? topLevelKeys(def.innerType) : [];
  }
}

/** Drift worth showing: a non-empty list, or a record with a non-empty list in it. */
export function holdsDrift(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === "object") return Object.values(value).some(holdsDrift);
  return false;
}

/**
 * The inputs as the hosts show them: every input the schema knows, taken from the refreshed
 * properties (which `read` filled with what it observed), plus each drift property that holds any.
 */
export function refreshedInputs(schema: z.ZodType, props: Props, driftKeys: readonly string[] = []): Props {
  const inputs: Props = {};
  for (const key of topLevelKeys(schema)) if (props[key] !== undefined) inputs[key] = props[key];
  for (const key of driftKeys) if (holdsDrift(props[key])) inputs[key] = props[key];
  return inputs;
}
