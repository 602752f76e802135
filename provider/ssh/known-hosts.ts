/**
 * Host keys known to this provider process, by SSH server (`host:port`). One process serves every
 * resource of a `pulumi up`, and every call feeds what it states (pins in the program, keys
 * recorded in state) into this registry before it runs; the pool adds each key it learns on a
 * first-use dial. So a resource new to a host that the stack already knows is held to that key
 * instead of trusting whatever answers, and two keys for one server are refused.
 */
import { HostKeyConflictError, type HostKeySource } from "../errors";
import type { SourcedClaim } from "./host-key-claims";

export class KnownHosts {
  private readonly byEndpoint = new Map<string, HostKeySource>();

  /** The key known for an SSH server, with where it came from. */
  keyFor(endpoint: string): HostKeySource | undefined {
    return this.byEndpoint.get(endpoint);
  }

  /**
   * Adds one key. The first source of a key stays the one named in messages.
   * @throws HostKeyConflictError when another key is already known for the endpoint.
   */
  learn(claim: SourcedClaim, options: { afterLogin?: boolean } = {}): void {
    this.learnAll([claim], options);
  }

  /** Adds several keys, all or none: a call whose claims conflict changes nothing. */
  learnAll(claims: readonly SourcedClaim[], options: { afterLogin?: boolean } = {}): void {
    const staged = new Map<string, HostKeySource>();
    for (const claim of claims) {
      const known = staged.get(claim.endpoint) ?? this.byEndpoint.get(claim.endpoint);
      if (known === undefined) staged.set(claim.endpoint, { key: claim.key, source: claim.source });
      else if (known.key !== claim.key) {
        throw new HostKeyConflictError(claim.endpoint, known, { key: claim.key, source: claim.source }, options.afterLogin ?? false);
      }
    }
    for (const [endpoint, source] of staged) this.byEndpoint.set(endpoint, source);
  }

  /** Forgets every key (tests; the engine ends the provider process after each operation). */
  forget(): void {
    this.byEndpoint.clear();
  }
}

/** This process's registry, shared by the runtime and the connection pool. */
export const knownHosts = new KnownHosts();
