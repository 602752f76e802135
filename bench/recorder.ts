/**
 * Collects the samples of a run and writes them as they come (a run cut short keeps what it
 * measured), then the table and the picture beside them.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { benchPanels, renderSvg } from "./plot";
import { formatResults, groupKey, RESULTS_FORMAT, type BenchResults, type Failure, type Machine, type Phase, type Sample } from "./samples";
import { renderTable } from "./table";

export const RESULT_FILES = { json: "results.json", table: "results.md", picture: "results.svg" } as const;

export class Recorder {
  private readonly results: BenchResults;

  constructor(
    private readonly outDir: string,
    quick: boolean,
    machine: Machine,
    private readonly hosts: readonly string[],
  ) {
    const now = new Date().toISOString();
    this.results = { format: RESULTS_FORMAT, startedAt: now, finishedAt: now, quick, machine, samples: [], failures: [] };
    mkdirSync(outDir, { recursive: true });
  }

  /** Records a sample (its run number counted among earlier ones of its subject and params) and writes the JSON. */
  sample(s: Omit<Sample, "run">): Sample {
    const same = this.results.samples.filter((x) => groupKey(x) === groupKey(s));
    const sample: Sample = { ...s, run: same.length + 1 };
    this.results.samples.push(sample);
    const figures = Object.entries(s.metrics)
      .filter(([k]) => !k.includes("."))
      .map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toFixed(1)}`)
      .join(" ");
    process.stdout.write(`[bench] ${s.phase} ${s.subject} ${JSON.stringify(s.params)} run ${sample.run}: ${figures}\n`);
    this.write();
    return sample;
  }

  failure(phase: Phase, subject: string, params: Record<string, string | number>, err: unknown): void {
    const f: Failure = { phase, subject, params, at: new Date().toISOString(), message: err instanceof Error ? err.message : String(err) };
    this.results.failures.push(f);
    process.stdout.write(`[bench] FAILED ${phase} ${subject} ${JSON.stringify(params)}: ${f.message}\n`);
    this.write();
  }

  /** Writes the JSON, the Markdown table and the SVG picture. */
  finish(): string[] {
    this.write();
    const table = path.join(this.outDir, RESULT_FILES.table);
    const picture = path.join(this.outDir, RESULT_FILES.picture);
    atomicWrite(table, renderTable(this.results, this.hosts));
    atomicWrite(picture, renderSvg(benchPanels(this.results), `pulumi-xen-ha benchmark, ${this.results.finishedAt}, ${this.results.quick ? "quick" : "full"} mode; dashed: baselines`));
    return [path.join(this.outDir, RESULT_FILES.json), table, picture];
  }

  private write(): void {
    this.results.finishedAt = new Date().toISOString();
    atomicWrite(path.join(this.outDir, RESULT_FILES.json), formatResults(this.results));
  }
}

function atomicWrite(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** The machine the benchmark runs on, and how the lab's nodes run on it. */
export function machineInfo(labDescription: string): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    kernel: os.release(),
    node: process.version,
    lab: labDescription,
  };
}

/** The lab's QEMU accelerator (TCG, emulation, unless LAB_ACCEL says otherwise) and whether KVM exists here. */
export function labAccelerator(): string {
  const accel = process.env.LAB_ACCEL ?? "tcg";
  return `QEMU ${accel} (${existsSync("/dev/kvm") ? "/dev/kvm present" : "no /dev/kvm"})`;
}
