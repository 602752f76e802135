import type * as pulumi from "@pulumi/pulumi";
import type { ResourceKind } from "./resource-kind";

/**
 * The provider object Pulumi serializes into the state. It captures only `kind`; each method
 * requires this package by name in the provider process (see runtime.ts).
 */
export function providerFor(kind: ResourceKind): pulumi.dynamic.ResourceProvider {
  let provider = providers.get(kind);
  if (!provider) {
    provider = shimFor(kind);
    providers.set(kind, provider);
  }
  return provider;
}

// One object per kind: the SDK caches serializations by provider identity.
const providers = new Map<ResourceKind, pulumi.dynamic.ResourceProvider>();

function shimFor(kind: ResourceKind): pulumi.dynamic.ResourceProvider {
  return {
    check: (olds, news) => require("pulumi-xen-ha/runtime").implementation(kind).check(olds, news),
    diff: (id, olds, news) => require("pulumi-xen-ha/runtime").implementation(kind).diff(id, olds, news),
    create: (inputs) => require("pulumi-xen-ha/runtime").implementation(kind).create(inputs),
    read: (id, props) => require("pulumi-xen-ha/runtime").implementation(kind).read(id, props),
    update: (id, olds, news) => require("pulumi-xen-ha/runtime").implementation(kind).update(id, olds, news),
    delete: (id, props) => require("pulumi-xen-ha/runtime").implementation(kind).delete(id, props),
  };
}
