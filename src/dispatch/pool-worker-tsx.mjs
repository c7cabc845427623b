// Pool worker entry used only when the dispatcher itself runs from TypeScript sources (vitest,
// tsx): Node 20 cannot load ./pool-worker.ts and does not pass `--import tsx` on to worker
// threads, so register tsx's ESM hooks in this worker first. From compiled dist/ JS, piscina
// loads ./pool-worker.js directly and this file is not used (tsc does not copy it).
import { register } from "tsx/esm/api";

register();
const worker = await import("./pool-worker.ts");
worker.noteTsLoaderPresent();
export const runPoolTask = worker.runPoolTask;
