/**
 * The layer order of src/ (docs/architecture.md): a folder may import only folders listed
 * before it, and only through their index.ts. Shared by the architecture test and the import
 * rewrite script, so both read one list.
 */
export const LAYERS = [
  "errors", // the error base: below everything
  "wire", // signatures, values, codec, header, framer, MetaObject
  "dispatch", // when and where a method runs; knows nothing of messages or networking
  "transport", // URLs, channels, connect/listen per scheme
  "connection", // handshake, message ids, pending calls, routing to bound objects
  "object", // QiObject, RemoteObject, objects by reference
  "session", // Session, Service Directory, ServiceInfo
  "record", // recording signals to MCAP files and replaying them (qi record, qi play)
  "gateway", // the Gateway
  "bridges", // the gateway's plug-ins to other robotics frameworks (ROS 1, rosbridge, Foxglove, YARP)
  "fleet", // many robots and their clients over a NATS cluster: robot side, edge gateways, presence
  "config", // configuration files -> options of the Service Directory and the gateway
  "sync", // the synchronous client
  "demo", // the simulated robot's services
  "discovery", // robots on the LAN over mDNS/DNS-SD: advertise the gateway, list what answers (no session)
  "web", // browser client, web console and its HTTP handler
  "cli", // the `qi` command
] as const;

export type Layer = (typeof LAYERS)[number];

/** Rank of a folder in LAYERS, or -1 for a folder not listed (the test fails on those). */
export function layerRank(folder: string): number {
  return (LAYERS as readonly string[]).indexOf(folder);
}
