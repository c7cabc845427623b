/**
 * The worker thread behind one SyncSession (started by synckit): holds a real async Session and
 * the proxies the main thread uses, by handle. Every request answers with a SyncReply envelope,
 * so errors cross as data (never as a synckit failure) and keep their QiError code.
 */
import { runAsWorker } from "synckit";
import { UserTokenAuthenticator } from "../connection/index.js";
import { QiError } from "../connection/index.js";
import { MAIN_OBJECT_ID } from "../object/index.js";
import { RemoteObject } from "../object/index.js";
import { type ServiceInfo, serviceInfoToStruct } from "../session/index.js";
import { Session } from "../session/index.js";
import { encodeMetaObject, methodsByName } from "../wire/index.js";
import {
  type ConnectRequest,
  packValue,
  type SyncReply,
  type SyncRequest,
  serializeError,
  unpackArgs,
  unpackValue,
} from "./protocol.js";

export const SERVICE_INFO_LIST_SIGNATURE =
  "[(sIsI[s]ss)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId,objectUid>]";

let session: Session | undefined;
let timeoutMs = 30_000;
const proxies = new Map<number, RemoteObject>();
let nextHandle = 1;

function withTimeout<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new QiError("ERR_TIMEOUT", `${what} took more than ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function current(): Session {
  if (!session) throw new QiError("ERR_DISCONNECTED", "sync session is not connected");
  return session;
}

function proxy(handle: number): RemoteObject {
  const p = proxies.get(handle);
  if (!p) throw new QiError("ERR_CLOSED", `object handle ${handle} was released`);
  return p;
}

function objectReply(obj: RemoteObject): SyncReply {
  const handle = nextHandle++;
  proxies.set(handle, obj);
  return { ok: true, object: { handle, metaObject: encodeMetaObject(obj.metaObject) } };
}

/** The return signature of `name` (or `name::(sig)`), when all its overloads agree on one. */
function returnSignature(obj: RemoteObject, name: string): string | undefined {
  const sep = name.indexOf("::");
  const base = sep >= 0 ? name.slice(0, sep) : name;
  const params = sep >= 0 ? name.slice(sep + 2) : undefined;
  const sigs = new Set(
    methodsByName(obj.metaObject, base)
      .filter((m) => params === undefined || m.parametersSignature === params)
      .map((m) => m.returnSignature),
  );
  return sigs.size === 1 ? [...sigs][0] : undefined;
}

async function connect(req: ConnectRequest): Promise<SyncReply> {
  if (session) throw new QiError("ERR_PROTOCOL", "sync session already connected");
  timeoutMs = req.timeoutMs;
  const s = new Session({
    authenticator: req.user !== undefined ? new UserTokenAuthenticator(req.user, req.token ?? "") : undefined,
    clientTls: req.insecure ? { insecureAcceptAnyCertificate: true } : undefined,
    timeoutMs,
  });
  try {
    await withTimeout(`connecting to ${req.url}`, s.connect(req.url));
  } catch (e) {
    await s.close().catch(() => {});
    throw e;
  }
  session = s;
  return { ok: true };
}

async function handle(req: SyncRequest): Promise<SyncReply> {
  switch (req.op) {
    case "connect":
      return connect(req);
    case "services": {
      const list: ServiceInfo[] = await withTimeout("services()", current().services());
      return { ok: true, value: packValue(list.map(serviceInfoToStruct), SERVICE_INFO_LIST_SIGNATURE) };
    }
    case "service":
      return objectReply(await withTimeout(`service("${req.name}")`, current().service(req.name)));
    case "call": {
      const obj = proxy(req.handle);
      const result = await withTimeout(
        `call of ${req.name}`,
        obj.invoke(req.name, unpackArgs(req.args), { timeoutMs }),
      );
      if (result instanceof RemoteObject) return objectReply(result);
      return { ok: true, value: packValue(result, returnSignature(obj, req.name)) };
    }
    case "getProperty": {
      const prop = proxy(req.handle).property(req.name);
      const value = await withTimeout(`get of property ${req.name}`, prop.get());
      return { ok: true, value: packValue(value, prop.signature) };
    }
    case "setProperty": {
      const prop = proxy(req.handle).property(req.name);
      await withTimeout(`set of property ${req.name}`, prop.set(unpackValue(req.value)));
      return { ok: true };
    }
    case "release": {
      const p = proxies.get(req.handle);
      proxies.delete(req.handle);
      // A service's main object is shared by the session's cache: only other objects are released.
      if (p && p.objectId !== MAIN_OBJECT_ID) p.release();
      return { ok: true };
    }
    case "close": {
      proxies.clear();
      const s = session;
      session = undefined;
      if (s) await withTimeout("close()", s.close());
      // Nothing left to serve: end the thread once the reply is posted.
      setImmediate(() => process.exit(0));
      return { ok: true };
    }
  }
}

runAsWorker(async (req: SyncRequest): Promise<SyncReply> => {
  try {
    return await handle(req);
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
});
