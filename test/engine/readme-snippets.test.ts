/**
 * The README's TypeScript and the example programs compile as a user's program would: against the
 * packed package installed in a program directory of its own (never this repository's sources or
 * its `node_modules/pulumi-xen-ha -> ..` link), beside the SDK this repository pins.
 *
 * - Every ```ts block of README.md, each a module of its own, under the compiler options of
 *   `pulumi new typescript` (strict, nodenext, and no skipLibCheck: the package's declarations are
 *   checked too, as in such a program). A block fenced ```ts continued goes on from the block
 *   before it, in the same module: a fragment that uses what that block declared.
 * - Every .ts file under examples/, under the tsconfig.json beside it (examples/cluster's extends
 *   the repository's), or the template's options where there is none.
 *
 * Needs no engine, only the npm registry (or npm's cache) for the install.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { installProgram, installedVersion, packPackage, repoRoot } from "../support/engine";

jest.setTimeout(10 * 60_000);

/** The compiler options of Pulumi's `typescript` template (pulumi/templates, typescript/tsconfig.json). */
const PULUMI_NEW_TYPESCRIPT = {
  strict: true,
  outDir: "bin",
  target: "es2020",
  module: "nodenext",
  moduleResolution: "nodenext",
  sourceMap: true,
  experimentalDecorators: true,
  pretty: true,
  noFallthroughCasesInSwitch: true,
  noImplicitReturns: true,
  forceConsistentCasingInFileNames: true,
};

const TSC = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
const EXAMPLES = path.join(repoRoot, "examples");

/** README.md's TypeScript as modules: each line of code with the README line it came from. */
interface Snippet {
  file: string;
  code: string[];
  readmeLines: number[];
}

function readmeSnippets(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  let open: Snippet | undefined;
  markdown.split("\n").forEach((text, i) => {
    if (open) {
      if (/^```\s*$/.test(text)) open = undefined;
      else {
        open.code.push(text);
        open.readmeLines.push(i + 1);
      }
      return;
    }
    const fence = /^```(?:ts|typescript)(\s+continued)?\s*$/.exec(text);
    if (!fence) return;
    if (fence[1]) {
      open = snippets[snippets.length - 1];
      if (!open) throw new Error(`README.md:${i + 1}: a \`ts continued\` block with no TypeScript block before it`);
    } else {
      open = { file: `block-${snippets.length + 1}.ts`, code: [], readmeLines: [] };
      snippets.push(open);
    }
  });
  return snippets;
}

/** The example programs: each .ts file under examples/, grouped by the tsconfig.json in its directory ("" for none). */
function examplePrograms(): Map<string, string[]> {
  const programs = new Map<string, string[]>();
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        const tsconfig = path.join(dir, "tsconfig.json");
        const key = fs.existsSync(tsconfig) ? tsconfig : "";
        programs.set(key, [...(programs.get(key) ?? []), file]);
      }
    }
  };
  walk(EXAMPLES);
  return programs;
}

/**
 * `tsc -p <dir>` with its diagnostics, and the files of the compilation that came from this
 * repository rather than the program directory (TypeScript's own lib files aside).
 */
function typeCheck(programDir: string, projectDir: string): { diagnostics: string[]; fromRepository: string[] } {
  const r = spawnSync(process.execPath, [TSC, "-p", projectDir, "--noEmit", "--listFiles", "--pretty", "false"], {
    cwd: programDir,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const lines = `${r.stdout}${r.stderr}`.split("\n").filter(Boolean);
  const listed = lines.filter((l) => path.isAbsolute(l) && /\.[cm]?tsx?$/.test(l));
  const typeScriptLibs = path.join(repoRoot, "node_modules", "typescript", "lib") + path.sep;
  return {
    diagnostics: lines.filter((l) => !listed.includes(l)),
    fromRepository: listed.filter((f) => f.startsWith(repoRoot + path.sep) && !f.startsWith(typeScriptLibs)),
  };
}

describe("the README's TypeScript and the examples, against the packed package", () => {
  let dir: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-xen-ha-snippets-"));
    const tarball = packPackage(dir);
    installProgram(dir, {
      "@pulumi/pulumi": installedVersion(repoRoot, "@pulumi/pulumi"),
      "@types/node": installedVersion(repoRoot, "@types/node"),
      "pulumi-xen-ha": `file:${tarball}`,
    });
  });

  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("every ```ts block of README.md compiles in a program made by `pulumi new typescript`", () => {
    const snippets = readmeSnippets(fs.readFileSync(path.join(repoRoot, "README.md"), "utf8"));
    const project = path.join(dir, "readme");
    fs.mkdirSync(project);
    for (const { file, code } of snippets) {
      // `export {}` keeps a block without imports a module, so that blocks never see each other's names.
      fs.writeFileSync(path.join(project, file), `${code.join("\n")}\nexport {};\n`);
    }
    const files = snippets.map((s) => s.file);
    fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify({ compilerOptions: PULUMI_NEW_TYPESCRIPT, files }, null, 2));
    const { diagnostics, fromRepository } = typeCheck(dir, project);
    // Diagnostics name the README's own lines: "README.md(24,5): error TS2322: …".
    const inReadme = diagnostics.map((d) =>
      d.replace(/readme[/\\](block-\d+\.ts)\((\d+),(\d+)\)/g, (found, file: string, row: string, col: string) => {
        const line = snippets.find((s) => s.file === file)?.readmeLines[Number(row) - 1];
        return line ? `README.md(${line},${col})` : found;
      }),
    );
    expect({ blocks: snippets.length > 0, diagnostics: inReadme, fromRepository }).toEqual({ blocks: true, diagnostics: [], fromRepository: [] });
  });

  it.each([...examplePrograms()].map(([tsconfig, files]) => [path.relative(repoRoot, tsconfig ? path.dirname(tsconfig) : EXAMPLES), tsconfig, files] as const))(
    "%s compiles under its own tsconfig",
    (_name, tsconfig, files) => {
      // The files keep their place under examples/, so relative imports between them still resolve.
      const copies = files.map((f) => {
        const copy = path.join(dir, path.relative(repoRoot, f));
        fs.mkdirSync(path.dirname(copy), { recursive: true });
        fs.copyFileSync(f, copy);
        return copy;
      });
      const project = path.dirname(copies[0]!);
      const config = tsconfig
        ? // `extends` keeps the example's own options; `files` and `rootDir` move it here.
          { extends: tsconfig, compilerOptions: { rootDir: ".", noEmit: true }, files: copies, include: [] }
        : { compilerOptions: PULUMI_NEW_TYPESCRIPT, files: copies };
      fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(config, null, 2));
      expect(typeCheck(dir, project)).toEqual({ diagnostics: [], fromRepository: [] });
    },
  );
});
