/**
 * The YARP ports of one qi service: `<prefix>/<Service>/rpc` (a Bottle `method arg…` calls the
 * method; the reply carries the result, `ok` for none, or `fail <text>`), one
 * `<prefix>/<Service>/<method>:i` per input (each Bottle posts a call), and one
 * `<prefix>/<Service>/<member>:o` per signal or property (subscribed on qi only while a YARP
 * reader is connected).
 */
import type { Logger } from "pino";
import type { RemoteObject } from "../../object/index.js";
import { parseSignature } from "../../wire/index.js";
import type { BridgeMetrics } from "../plugin.js";
import { type Bottle, type BottleValue, encodeBottle, Vocab } from "./bottle.js";
import { argsToBottle, bottleToArgs, qiToItem } from "./convert.js";
import { encodeRgbImage, frameOf } from "./image.js";
import type { NameClient } from "./name-client.js";
import { type PortLimits, YarpPort } from "./port.js";
import type { ServiceMapping } from "./settings.js";

export interface ServicePortsOptions {
  service: string;
  remote: RemoteObject;
  mapping: ServiceMapping;
  prefix: string;
  host: string;
  limits: PortLimits;
  maxPendingCalls: number;
  names: NameClient;
  logger: Logger;
  metrics: BridgeMetrics;
  /** Readers changed on some port (the bridge sums them for the subscribers gauge). */
  onReaders: () => void;
}

const word = (v: BottleValue | undefined): string | undefined =>
  typeof v === "string" ? v : v instanceof Vocab ? v.text : undefined;

export async function openServicePorts(o: ServicePortsOptions): Promise<YarpPort[]> {
  const meta = o.remote.metaObject;
  const methods = [...meta.methods.values()];
  const signals = [...meta.signals.values()];
  const properties = [...meta.properties.values()];
  const base = `${o.prefix}/${o.service}`;
  const ports: YarpPort[] = [];
  const events = {
    logger: o.logger,
    names: o.names,
    onDrop: (n: number) => o.metrics.dropped(n),
    onSent: () => o.metrics.messagesOut(1),
  };
  const known = (name: string) => methods.some((m) => m.name === name);
  for (const m of [...o.mapping.rpc, ...o.mapping.inputs])
    if (!known(m))
      o.logger.warn({ service: o.service, method: m }, "YARP mapping names a method the service lacks");

  /** Calls `name` with the Bottle's items, trying each overload with that many parameters. */
  const call = async (name: string, items: BottleValue[]): Promise<{ value: unknown; returnSig: string }> => {
    const candidates = methods.filter((m) => m.name === name);
    let lastError: Error = new Error(`no method "${name}"`);
    for (const m of candidates) {
      let args: unknown[];
      try {
        args = bottleToArgs(items, m.parametersSignature);
      } catch (e) {
        lastError = e as Error;
        continue;
      }
      const value = await o.remote.call(`${name}::${m.parametersSignature}`, ...args);
      return { value, returnSig: m.returnSignature };
    }
    throw lastError;
  };

  if (o.mapping.rpc.length > 0) {
    const allowed = new Set(o.mapping.rpc.filter(known));
    const rpc = new YarpPort(`${base}/rpc`, o.host, o.limits, {
      ...events,
      onData: async (bottle): Promise<Bottle> => {
        o.metrics.messagesIn(1);
        const name = word(bottle[0]);
        if (name === undefined) return ["fail", "a call is a Bottle: method name, then its arguments"];
        if (!allowed.has(name)) {
          if (name === "help")
            return methods
              .filter((m) => allowed.has(m.name))
              .map((m) => `${m.name}${m.parametersSignature} -> ${m.returnSignature}`);
          return ["fail", `method "${name}" is not mapped to YARP (try help)`];
        }
        try {
          const { value, returnSig } = await call(name, bottle.slice(1));
          return returnSig === "v" ? ["ok"] : [qiToItem(value, parseSignature(returnSig))];
        } catch (e) {
          return ["fail", (e as Error).message];
        }
      },
    });
    ports.push(rpc);
  }

  for (const method of o.mapping.inputs.filter(known)) {
    let pending = 0;
    ports.push(
      new YarpPort(`${base}/${method}:i`, o.host, o.limits, {
        ...events,
        onData: async (bottle) => {
          o.metrics.messagesIn(1);
          if (pending >= o.maxPendingCalls) {
            o.metrics.dropped(1);
            return undefined;
          }
          pending++;
          call(method, bottle)
            .catch((e: Error) =>
              o.logger.debug({ service: o.service, method, err: e.message }, "YARP input call failed"),
            )
            .finally(() => pending--);
          return undefined;
        },
      }),
    );
  }

  for (const member of o.mapping.outputs) {
    const signal = signals.find((s) => s.name === member);
    const property = properties.find((p) => p.name === member);
    if (!signal && !property) {
      o.logger.warn(
        { service: o.service, member },
        "YARP mapping names a signal or property the service lacks",
      );
      continue;
    }
    const signature = (signal ?? property)!.signature;
    const port: YarpPort = new YarpPort(`${base}/${member}:o`, o.host, o.limits, {
      ...events,
      onReaders: (count) => {
        o.onReaders();
        subscription.want(count > 0);
      },
    });
    const publishArgs = (args: unknown[]) => {
      if (port.readerCount === 0) return;
      const frame = o.mapping.images ? frameOf(args) : undefined;
      const image = frame && encodeRgbImage(frame.width, frame.height, frame.rgb);
      port.publish(image ?? encodeBottle(argsToBottle(args, signature)));
    };
    const subscription = new Subscription(
      async () => {
        if (signal) {
          const s = o.remote.signal(member);
          const link = await s.connect((...args: unknown[]) => publishArgs(args));
          return () => s.disconnect(link);
        }
        const p = o.remote.property(member);
        const link = await p.connect((value: unknown) => publishArgs([value]));
        publishArgs([await p.get()]);
        return () => p.disconnect(link);
      },
      o.logger.child({ port: port.name }),
    );
    ports.push(port);
  }

  for (const p of ports) await p.listen();
  return ports;
}

/**
 * A qi subscription that follows whether anyone reads: connected while wanted, one change at a
 * time, so readers coming and going quickly never leave a subscription behind.
 */
class Subscription {
  private wanted = false;
  private off: (() => Promise<void>) | undefined;
  private busy = false;

  constructor(
    private readonly subscribe: () => Promise<() => Promise<void>>,
    private readonly logger: Logger,
  ) {}

  want(on: boolean): void {
    this.wanted = on;
    void this.settle();
  }

  private async settle(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.wanted !== (this.off !== undefined)) {
        if (this.wanted) this.off = await this.subscribe();
        else {
          const off = this.off!;
          this.off = undefined;
          await off();
        }
      }
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, "YARP output could not follow its qi member");
    } finally {
      this.busy = false;
    }
  }
}
