/**
 * The resource options the component gives its children. The Node SDK (3.248) passes a parent's
 * `protect` and providers down to its children, but not its `dependsOn`, `customTimeouts` or
 * `retainOnDelete`: a child waits for the parent's registration in this process, yet the engine's
 * graph has no edge from the child to what the component depends on (so deletes and targeted
 * updates would not respect it). Those options are therefore set on every child here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DataKeeping } from "./cluster-plan";

export type ChildOptions = (dependsOn: pulumi.Resource[], keep?: DataKeeping) => pulumi.CustomResourceOptions;

/** Options for a child of `parent`: its own dependencies plus the component's, and the component's timeouts. */
export function childOptionsOf(parent: pulumi.ComponentResource, opts: pulumi.ComponentResourceOptions | undefined): ChildOptions {
  const given = opts?.dependsOn;
  return (dependsOn, keep = {}) => ({
    parent,
    // An Output or Promise (of one resource or a list) goes in as one item: the SDK resolves and
    // flattens what dependsOn holds (runtime/dependsOn.js).
    dependsOn: given === undefined ? dependsOn : Array.isArray(given) ? [...dependsOn, ...given] : [...dependsOn, given as pulumi.Input<pulumi.Resource>],
    ...(opts?.customTimeouts !== undefined ? { customTimeouts: opts.customTimeouts } : {}),
    ...(keep.protect !== undefined ? { protect: keep.protect } : {}),
    ...(keep.retainOnDelete !== undefined ? { retainOnDelete: keep.retainOnDelete } : {}),
  });
}
