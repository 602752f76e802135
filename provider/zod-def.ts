/** Reading a zod 4 schema's definition, for the walks that look at its structure beside a value. */

export interface ZodDef {
  type: string;
  [key: string]: unknown;
}

export const defOf = (schema: unknown): ZodDef => (schema as { _zod: { def: ZodDef } })._zod.def;

/** Definitions that wrap one inner schema (`def.innerType`) and take the same values. */
export const WRAPPER_TYPES: ReadonlySet<string> = new Set(["optional", "nullable", "default", "prefault", "nonoptional", "catch", "readonly", "promise"]);
