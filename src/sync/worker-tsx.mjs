// SyncSession worker entry used only when the client itself runs from TypeScript sources (vitest,
// tsx): Node 20 cannot load ./worker.ts and does not pass `--import tsx` on to worker threads, so
// register tsx's ESM hooks in this worker first (as dispatch/pool-worker-tsx.mjs does). From
// compiled dist/ JS, synckit starts ./worker.js directly and this file is not used.
import { register } from "tsx/esm/api";

register();
await import("./worker.ts");
