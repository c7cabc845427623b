/**
 * `qimessaging`: the qi messaging stack of NAO and Pepper robots (libqi) in TypeScript — what an
 * application uses, listed name by name (test/architecture/public-api.test.ts pins the list).
 * Everything else is internal; codec users have `qimessaging/wire` (src/qimessaging-wire.ts).
 */

// A client and a service host (the API of libqi / Python's qi.Session)
export {
  Application,
  type ApplicationOptions,
  type ReregisteredService,
  type RobotLogger,
  type RobotLoggerOptions,
  type RobotLogLevel,
  robotLogger,
  ServiceDirectory,
  type ServiceDirectoryOptions,
  type ServiceInfo,
  Session,
  type SessionEvents,
  type SessionOptions,
} from "./session/index.js";

// Other ways to reach a robot: give the Session one of these as its `transport`
// (docs/xmpp.md: a robot behind NAT through an XMPP server; docs/fleet.md: a robot of a NATS fleet)
export { type XmppConnectOptions, xmppTransport } from "./transport/index.js";
export { fleetTransport, type FleetTransportOptions } from "./fleet/index.js";

// Objects: defining and serving them, and proxies of remote ones
export {
  type CallContext,
  type InvokeOptions,
  type MethodImpl,
  type MethodOptions,
  QiObject,
  type QiObjectOptions,
  RemoteObject,
  RemoteProperty,
  RemoteSignal,
  type SignalCallback,
} from "./object/index.js";

// Authentication, on both ends
export {
  type AuthContext,
  type AuthData,
  type AuthProvider,
  type AuthProviderFactory,
  type AuthProviderOption,
  type AuthResult,
  AuthState,
  ChallengeAuthenticator,
  ChallengeAuthProvider,
  type ChallengeSecrets,
  type ClientAuthenticator,
  UserTokenAuthenticator,
  UserTokenAuthProvider,
} from "./connection/index.js";

// TLS and URLs of the options above
export type { ClientTlsOptions, PemInput, ServerTlsOptions } from "./transport/index.js";

// When and where methods run (docs/dispatch.md)
export {
  type DispatchMode,
  Dispatcher,
  type DispatcherOptions,
  type RunOptions,
  Strand,
} from "./dispatch/index.js";

// The Gateway
export {
  type Action,
  DEFAULT_LIMITS,
  DEFAULT_LOGIN_LIMITS,
  Gateway,
  GatewayAuthProvider,
  type GatewayClientInfo,
  type GatewayOptions,
  hashToken,
  type LoginLimitOptions,
  type PermissionsConfig,
  type RouterLimits,
  type RuleSet,
  startGateway,
  type UserPermissions,
} from "./gateway/index.js";
export {
  type GatewayConfig,
  gatewayOptionsFromConfig,
  loadGatewayConfig,
  validateGatewayConfig,
} from "./config/index.js";

// Values and signatures
export {
  ByteString,
  Dynamic,
  inferSignature,
  type MetaMethod,
  type MetaMethodParameter,
  type MetaObject,
  type MetaProperty,
  type MetaSignal,
  ObjectRef,
  Optional,
  parseSignature,
  printSignature,
  Raw,
  Struct,
} from "./wire/index.js";

// The synchronous client (docs/sync-client.md)
export {
  connectSync,
  DEFAULT_SYNC_TIMEOUT_MS,
  type SyncConnectOptions,
  SyncObject,
  SyncProperty,
  SyncSession,
} from "./sync/index.js";

// Errors (docs/errors.md): one base, package-unique codes, checks that hold across copies
export { isQiBaseError, QiBaseError } from "./errors/index.js";
export { isWireError, WireError, type WireErrorCode } from "./wire/index.js";
export { isTransportError, TransportError, type TransportErrorCode } from "./transport/index.js";
export { isQiError, QiError, type QiErrorCode, type QiErrorDetails } from "./connection/index.js";
export { DispatchError, type DispatchErrorCode, isDispatchError } from "./dispatch/index.js";
export { GatewayError, type GatewayErrorCode, isGatewayError } from "./gateway/index.js";
export { ConfigError, isConfigError } from "./config/index.js";
