/** sync/: the synchronous client (blocking calls on a worker) for scripts, REPLs and debugging sessions. */
export {
  connectSync,
  DEFAULT_SYNC_TIMEOUT_MS,
  type SyncConnectOptions,
  SyncObject,
  SyncProperty,
  SyncSession,
} from "./sync-client.js";
