/**
 * ServiceInfo (spec §4.1): 7 fields since libqi 2.9, 6 in 2.5. We always speak the 7-field
 * form and convert by field name when a peer uses the other (convertValue handles structs).
 */
import { ByteString, Struct } from "../wire/index.js";

export const SERVICE_INFO_SIGNATURE =
  "(sIsI[s]ss)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId,objectUid>";
export const SERVICE_INFO_SIGNATURE_V25 =
  "(sIsI[s]s)<ServiceInfo,name,serviceId,machineId,processId,endpoints,sessionId>";

export interface ServiceInfo {
  name: string;
  serviceId: number;
  machineId: string;
  processId: number;
  endpoints: string[];
  sessionId: string;
  /** The 20 raw bytes of the service object's uid; binary, so not always valid text. */
  objectUid: string | ByteString;
}

export function serviceInfoToStruct(info: ServiceInfo): Struct {
  return new Struct("ServiceInfo", { ...info, endpoints: [...info.endpoints] });
}

/** Accepts what the codec produced for a ServiceInfo (Struct, 6 or 7 fields). */
export function serviceInfoFromValue(v: unknown): ServiceInfo {
  const f = (v instanceof Struct ? v.fields : (v as Record<string, unknown>)) ?? {};
  return {
    name: String(f.name ?? ""),
    serviceId: Number(f.serviceId ?? 0),
    machineId: String(f.machineId ?? ""),
    processId: Number(f.processId ?? 0),
    endpoints: Array.isArray(f.endpoints) ? f.endpoints.map(String) : [],
    sessionId: String(f.sessionId ?? ""),
    objectUid: f.objectUid instanceof ByteString ? f.objectUid : String(f.objectUid ?? ""),
  };
}

export function uidAsString(uid: Uint8Array): ByteString {
  return new ByteString(uid);
}
