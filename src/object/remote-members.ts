/** The signal and property handles of a RemoteObject (`proxy.signal(name)`, `proxy.property(name)`). */
import { Dynamic } from "../wire/index.js";
import type { RemoteObject, SignalCallback } from "./remote-object.js";
import type { SubscriptionRate } from "./subscription-rate.js";

export class RemoteSignal {
  constructor(
    private readonly owner: RemoteObject,
    readonly uid: number,
    readonly signature: string,
  ) {}

  /**
   * Subscribes; resolves with a link id for `disconnect` once the host acknowledged. `rate`:
   * at most `maxRate` events/s and/or only the newest (`latestOnly`), paced by the gateway
   * (subscription-rate.ts); it applies to this proxy's one subscription to the signal.
   */
  connect(callback: SignalCallback, rate?: SubscriptionRate): Promise<number> {
    return this.owner.connectSignal(this.uid, this.signature, callback, rate);
  }

  disconnect(link: number): Promise<void> {
    return this.owner.disconnectSignal(this.uid, link);
  }
}

export class RemoteProperty<T> {
  constructor(
    private readonly owner: RemoteObject,
    readonly uid: number,
    readonly name: string,
    readonly signature: string,
  ) {}

  async get(): Promise<T> {
    const v = await this.owner.invoke<Dynamic>("property", [new Dynamic("s", this.name)]);
    return (v instanceof Dynamic ? v.value : v) as T;
  }

  async set(value: T): Promise<void> {
    await this.owner.invoke("setProperty", [new Dynamic("s", this.name), new Dynamic(this.signature, value)]);
  }

  /** Change notifications: the property is also a signal with the same id (spec §3.1). */
  connect(callback: (value: T) => void, rate?: SubscriptionRate): Promise<number> {
    return this.owner.connectSignal(this.uid, `(${this.signature})`, callback as SignalCallback, rate);
  }

  disconnect(link: number): Promise<void> {
    return this.owner.disconnectSignal(this.uid, link);
  }
}
