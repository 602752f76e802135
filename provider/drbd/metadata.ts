/** What `drbdmeta` says of a meta-data area: its generation identifiers, or that there is none. */
import { DrbdParseError } from "./status";

/** Generation identifiers as `drbdmeta … get-gi` prints them: `CURRENT:BITMAP:HIST1:HIST2:1:1:0:0:0:0:0`. */
export interface GenerationIdentifiers {
  current: string;
  bitmap: string;
  history: [string, string];
  consistent: boolean;
  wasUpToDate: boolean;
  /** create-md sets the current UUID to 4 until the device first becomes UpToDate. */
  justCreated: boolean;
}

export function parseGenerationIdentifiers(text: string): GenerationIdentifiers {
  const line = text.split("\n").find((l) => /^[0-9A-F]{16}:/i.test(l.trim()));
  const parts = line?.trim().split(":") ?? [];
  if (parts.length < 11) throw new DrbdParseError(`unexpected generation identifiers: ${JSON.stringify(text.trim())}`);
  const [current, bitmap, h1, h2, consistent, wasUpToDate] = parts as [string, string, string, string, string, string];
  return { current, bitmap, history: [h1, h2], consistent: consistent === "1", wasUpToDate: wasUpToDate === "1", justCreated: /^0*4$/.test(current) };
}

export interface CommandOutcome {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export type MetadataProbe = { found: true; gi: GenerationIdentifiers } | { found: false };

/**
 * The answer of `buildMetadataProbeCommand`: valid meta-data (keep it), or none (create-md may run).
 * Anything else (too small, missing device) is an error carrying drbdmeta's own words.
 */
export function parseMetadataProbe(outcome: CommandOutcome): MetadataProbe {
  if (outcome.exitCode === 0) return { found: true, gi: parseGenerationIdentifiers(outcome.stdout) };
  if (outcome.exitCode === 1) return { found: false };
  throw new DrbdParseError(`drbdmeta could not read the meta-data area (exit code ${outcome.exitCode}): ${(outcome.stderr || outcome.stdout).trim()}`);
}
