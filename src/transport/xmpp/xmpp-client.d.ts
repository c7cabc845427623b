/** The part of @xmpp/client (0.14, untyped JavaScript) this transport uses. */
declare module "@xmpp/client" {
  import type { EventEmitter } from "node:events";

  export interface XmlElement {
    name: string;
    attrs: Record<string, string | undefined>;
    children: Array<XmlElement | string>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    text(): string;
    toString(): string;
  }

  export function xml(
    name: string,
    attrs?: Record<string, string | number | undefined>,
    ...children: Array<XmlElement | string>
  ): XmlElement;

  export interface IqContext {
    stanza: XmlElement;
    element: XmlElement;
    from: { toString(): string } | null;
  }

  export interface XmppSocketClass {
    new (): EventEmitter & { _attachSocket(socket: unknown): void; secure: boolean };
  }

  export interface XmppTransportInstance {
    Socket: XmppSocketClass;
    socketParameters(service: string): unknown;
  }

  export interface XmppTransport {
    new (...args: unknown[]): XmppTransportInstance;
    prototype: XmppTransportInstance;
  }

  export interface XmppClient extends EventEmitter {
    status: string;
    jid: { toString(): string } | null;
    socket: { secure?: boolean } | null;
    options: { service: string; domain: string };
    transports: XmppTransport[];
    reconnect: EventEmitter & { delay: number; stop(): void; start(): void };
    streamFeatures: {
      use(
        name: string,
        xmlns: string,
        handler: (ctx: { entity: XmppClient }, next: () => unknown) => unknown,
      ): unknown;
    };
    iqCaller: { request(stanza: XmlElement, timeoutMs?: number): Promise<XmlElement> };
    iqCallee: {
      set(xmlns: string, name: string, handler: (ctx: IqContext) => unknown): void;
    };
    isSecure(): boolean;
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(element: XmlElement): Promise<void>;
    restart(): Promise<void>;
    sendReceive(element: XmlElement, timeoutMs?: number): Promise<XmlElement>;
    _attachSocket(socket: unknown): void;
  }

  export interface ClientOptions {
    service: string;
    domain: string;
    resource?: string;
    credentials?: (
      authenticate: (creds: { username: string; password: string }, mechanism: string) => Promise<void>,
      mechanisms: string[],
      fast: unknown,
      entity: XmppClient,
    ) => Promise<void>;
  }

  export function client(options: ClientOptions): XmppClient;
}
