/** object/: defining, serving and proxying objects (QiObject, RemoteObject), reserved members, objects passed by reference. */
export { allocateClientObjectId, allocateHostedObjectId, MAIN_OBJECT_ID } from "./ids.js";
export { PeerObjects, type PeerObjectsOptions, type ServiceRegistry } from "./peer.js";
export {
  type CallContext,
  type MethodImpl,
  type MethodOptions,
  QiObject,
  type QiObjectOptions,
} from "./qi-object.js";
export {
  type CallOutcome,
  type InvokeOptions,
  RemoteObject,
  RemoteProperty,
  RemoteSignal,
  type SignalCallback,
} from "./remote-object.js";
export * from "./reserved.js";
export { isRequestForwarder, type RequestForwarder } from "./forwarder.js";

// Internal face: what other folders of src/ use (kept up to date by scripts/route-imports.ts).
export { releaseWithLastPassedOnProxy } from "./passed-on-proxy.js";
export {
  answerForwarded,
  eventSignatureOf,
  forwardedParams,
  forwardedReturns,
  passOn,
  requestSignature,
} from "./relay.js";
export * from "./subscription-rate.js";
