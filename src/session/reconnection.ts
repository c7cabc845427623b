/**
 * A host of services that lost its Service Directory: tries to reach it again with a backoff
 * (reconnect.ts) until it answers or maxAttempts, while clients connected to the host's
 * listeners are served all along. What one attempt does (connect, attach, register the
 * services again) is the Session's.
 */
import { Backoff, type BackoffPolicy, CancellableDelay } from "./reconnect.js";
import type { ReregisteredService } from "./service-host.js";

export interface ReconnectionHooks {
  /** One whole attempt; undefined when the session closed meanwhile. Throws to try again. */
  attempt(url: string): Promise<ReregisteredService[] | undefined>;
  reconnecting(attempt: number, delayMs: number, lastError: string | undefined): void;
  registeredAgain(services: ReregisteredService[]): void;
  failed(lastError: string | undefined): void;
}

export class DirectoryReconnection {
  private loop: Promise<void> | undefined;
  private readonly delay = new CancellableDelay();
  private cancelled = false;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly hooks: ReconnectionHooks,
  ) {}

  /** Whether the directory is being reached again (the host's ids mean nothing to it meanwhile). */
  get active(): boolean {
    return this.loop !== undefined;
  }

  start(url: string): void {
    if (this.cancelled || this.loop !== undefined) return;
    this.loop = this.run(url).finally(() => {
      this.loop = undefined;
    });
  }

  cancel(): void {
    this.cancelled = true;
    this.delay.cancel();
  }

  private async run(url: string): Promise<void> {
    const backoff = new Backoff(this.policy);
    let lastError: string | undefined;
    for (;;) {
      const wait = backoff.next();
      if (wait === undefined) {
        this.hooks.failed(lastError);
        return;
      }
      this.hooks.reconnecting(backoff.attempt, wait, lastError);
      if (!(await this.delay.wait(wait)) || this.cancelled) return;
      try {
        const again = await this.hooks.attempt(url);
        if (again !== undefined) this.hooks.registeredAgain(again);
        return;
      } catch (e) {
        lastError = e instanceof Error ? e.message : String(e);
      }
    }
  }
}
