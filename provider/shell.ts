/**
 * Building shell commands safely. Every value that reaches a remote shell goes through `quote`,
 * usually by way of the `sh` tagged template; nothing else concatenates values into command text.
 */

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX single-quoting: safe in dash and bash alike (unlike `$'…'`). */
export function quote(value: string | number): string {
  const text = String(value);
  if (text !== "" && SAFE_WORD.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * A piece of shell text, with the same text as it may be shown to people (each secret word as
 * `***`), built side by side as the text is put together: a secret is never searched for in the
 * text, so a short one cannot mangle the rest of the command.
 */
export class Shell {
  /** The command as it may be shown to people: secret words replaced by `***`. */
  readonly display: string;

  constructor(
    readonly text: string,
    display?: string,
    /** The secret values inside, for callers that must keep them out of other output. */
    readonly secrets: readonly string[] = [],
  ) {
    this.display = display ?? text;
  }

  toString(): string {
    return this.display;
  }
}

/** A value to be quoted like any other but never shown in messages. */
export class SecretWord {
  constructor(readonly value: string) {}
}

export function secretWord(value: string): SecretWord {
  return new SecretWord(value);
}

export type ShellValue = string | number | Shell | SecretWord | readonly (string | number | SecretWord)[];

const HIDDEN = "***";

/**
 * Tagged template that quotes every interpolated value: strings and numbers become one word each,
 * arrays become one word per element, `Shell` values are inserted as they are (they were built
 * the same way). Secret words are quoted into the text and shown as `***` in the display.
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): Shell {
  let text = strings[0] ?? "";
  let display = text;
  const secrets: string[] = [];
  values.forEach((value, i) => {
    const piece = render(value, secrets);
    const literalPart = strings[i + 1] ?? "";
    text += piece.text + literalPart;
    display += piece.display + literalPart;
  });
  return new Shell(text, display, secrets);
}

function render(value: ShellValue, secrets: string[]): { text: string; display: string } {
  if (value instanceof Shell) {
    secrets.push(...value.secrets);
    return { text: value.text, display: value.display };
  }
  if (value instanceof SecretWord) {
    secrets.push(value.value);
    return { text: quote(value.value), display: HIDDEN };
  }
  if (Array.isArray(value)) {
    const pieces = value.map((item) => render(item as string | number | SecretWord, secrets));
    return { text: pieces.map((p) => p.text).join(" "), display: pieces.map((p) => p.display).join(" ") };
  }
  const word = quote(value as string | number);
  return { text: word, display: word };
}

/** One command from an argument vector. */
export function argv(words: readonly (string | number | SecretWord)[]): Shell {
  return sh`${words}`;
}

/**
 * A script that stops at the first failing step (`set -eu`). Steps are separate lines, never
 * joined with `;`.
 */
export function script(...steps: readonly Shell[]): Shell {
  return joinLines([new Shell("set -eu"), ...steps]);
}

export function joinLines(parts: readonly Shell[]): Shell {
  return new Shell(
    parts.map((p) => p.text).join("\n"),
    parts.map((p) => p.display).join("\n"),
    parts.flatMap((p) => p.secrets),
  );
}

/** Trusted constant shell text written in this package's source (never user input). */
export function literal(text: string): Shell {
  return new Shell(text);
}

/**
 * Replaces each secret's text wherever it occurs, for free text such as a tool's output. Never for
 * a command: a short secret matches inside other words (a Shell's `display` is built instead).
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("***");
  }
  return out;
}
