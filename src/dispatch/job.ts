/** A task as the dispatcher tracks it, and the helpers that walk a chain of inline calls. */
import type { Strand } from "./strand.js";

export type JobState = "queued" | "running" | "done";

export interface Job {
  readonly body: (signal: AbortSignal) => unknown;
  readonly label: string | undefined;
  readonly strand: Strand | undefined;
  /** Present only when the task can be aborted with a reason of ours (a timeout is set). */
  controller: AbortController | undefined;
  /** What the task receives. */
  taskSignal: AbortSignal;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The task that ran this one inline (rule 1 of dispatcher.ts), if any. */
  parent: Job | undefined;
  state: JobState;
  ownsStrand: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  /** Async mode: called by the strand when it is this job's turn. */
  start(): void;
}

/** A yielded sync-mode task waiting to take the gate back (rule 2 of dispatcher.ts). */
export interface Resumer {
  readonly job: Job;
  readonly grant: () => void;
}

/** Given to tasks that cannot be aborted and take no parameter (see dispatcher.ts). */
export const NEVER_ABORTED = new AbortController().signal;

/** The outermost task of a chain of inline calls. */
export function rootOf(job: Job): Job {
  let j = job;
  while (j.parent !== undefined) j = j.parent;
  return j;
}

/** Does `job` or a task that ran it inline hold `strand`? */
export function heldInChain(job: Job, strand: Strand): boolean {
  for (let j: Job | undefined = job; j !== undefined; j = j.parent) if (strand._holder === j) return true;
  return false;
}
