/**
 * What Cloud Run accepts for one container's CPU and memory ("Configure memory limits" and "Configure CPU limits" in
 * Cloud Run's docs): at most 32 GiB, at least 512 MiB (the second-generation environment, which jobs and worker
 * pools use); more memory needs more CPU (> 4 GiB: 2, > 8 GiB: 4, > 16 GiB: 6, > 24 GiB: 8), and more CPU needs
 * more memory (4 CPU: 2 GiB, 6 or 8 CPU: 4 GiB). Checked at plan time, since the API refuses a revision only on
 * deploy.
 */

const MIN_CPU_FOR_MEMORY_GIB: ReadonlyArray<readonly [aboveGiB: number, cpu: number]> = [
  [24, 8],
  [16, 6],
  [8, 4],
  [4, 2],
];
const MIN_MEMORY_GIB_FOR_CPU: ReadonlyArray<readonly [cpu: number, gib: number]> = [
  [6, 4],
  [4, 2],
];

/** A memory quantity as this project writes one: `512Mi`, `2Gi`. */
export const QUANTITY = /^([0-9]+)(Mi|Gi)$/;

/** vCPUs one instance may have in all, shared by its containers (the app and any sidecar). */
export const MAX_CPU_PER_INSTANCE = 8;

/** `512Mi`, `2Gi` → GiB; undefined for anything else. */
export function quantityGiB(quantity: string): number | undefined {
  const m = QUANTITY.exec(quantity);
  if (!m) return undefined;
  return m[2] === "Gi" ? Number(m[1]) : Number(m[1]) / 1024;
}

/** Why Cloud Run would refuse `cpu` with `memory`, or undefined when it accepts them. */
export function cpuMemoryProblem(cpu: string, memory: string): string | undefined {
  const gib = quantityGiB(memory);
  const cpus = Number(cpu);
  if (gib === undefined || !Number.isFinite(cpus)) return undefined;
  if (gib > 32) return `memory ${memory} is above Cloud Run's 32Gi`;
  if (gib < 0.5) return `memory ${memory} is below Cloud Run's 512Mi`;
  const cpuNeeded = MIN_CPU_FOR_MEMORY_GIB.find(([above]) => gib > above)?.[1];
  if (cpuNeeded !== undefined && cpus < cpuNeeded)
    return `memory ${memory} needs at least ${cpuNeeded} CPU, not ${cpu}`;
  const memoryNeeded = MIN_MEMORY_GIB_FOR_CPU.find(([c]) => cpus >= c)?.[1];
  if (memoryNeeded !== undefined && gib < memoryNeeded)
    return `${cpu} CPU needs at least ${memoryNeeded}Gi of memory, not ${memory}`;
  return undefined;
}
