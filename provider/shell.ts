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

/** A piece of shell text, with the secrets it contains so they can be redacted from messages. */
export class Shell {
  constructor(
    readonly text: string,
    readonly secrets: readonly string[] = [],
  ) {}

  /** The command as it may be shown to people: secrets replaced by `***`. */
  get display(): string {
    return redact(this.text, [...this.secrets.map(quote), ...this.secrets]);
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

/**
 * Tagged template that quotes every interpolated value: strings and numbers become one word each,
 * arrays become one word per element, `Shell` values are inserted as they are (they were built
 * the same way).
 */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): Shell {
  let text = strings[0] ?? "";
  const secrets: string[] = [];
  values.forEach((value, i) => {
    text += render(value, secrets) + (strings[i + 1] ?? "");
  });
  return new Shell(text, secrets);
}

function render(value: ShellValue, secrets: string[]): string {
  if (value instanceof Shell) {
    secrets.push(...value.secrets);
    return value.text;
  }
  if (value instanceof SecretWord) {
    secrets.push(value.value);
    return quote(value.value);
  }
  if (Array.isArray(value)) {
    return value.map((item) => render(item as string | number | SecretWord, secrets)).join(" ");
  }
  return quote(value as string | number);
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
    parts.flatMap((p) => p.secrets),
  );
}

/** Trusted constant shell text written in this package's source (never user input). */
export function literal(text: string): Shell {
  return new Shell(text);
}

export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join("***");
  }
  return out;
}
