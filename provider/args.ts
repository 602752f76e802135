import type * as pulumi from "@pulumi/pulumi";

/** A value where every level may be an Output, a Promise or plain: what users pass as resource args. */
export type DeepInput<T> = pulumi.Input<
  T extends string | number | boolean | undefined | null ? T : { [K in keyof T]: DeepInput<T[K]> }
>;

/** Resource args derived from the zod input type of a schema. */
export type ArgsOf<T> = { [K in keyof T]: DeepInput<T[K]> };
