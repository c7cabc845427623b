/**
 * Per-subscription rate control (issue 11), as a subscriber asks for it: at most `maxRate`
 * events per second (throttle: the newest of each interval goes, never a backlog), and/or
 * `latestOnly` (a slow subscriber gets the newest event, never a queue of old ones).
 *
 * On the wire: a Call of member 87 on the subscribed object, arguments (IILdb) = (service,
 * signal, link id of the registerEvent, maxRate in Hz (0: none), latestOnly), sent after the
 * registerEvent. Our gateway answers it and paces that subscription; anything else (a libqi
 * service, an old gateway) answers an Error, which the client takes as "not here" and goes on
 * unpaced. Plain libqi clients never send it, and no MetaObject changes: nothing else sees it.
 * 87 is just past libqi's reserved 80–86 and below the first user member (100).
 */
export const SUBSCRIPTION_RATE_ACTION = 87;
export const SUBSCRIPTION_RATE_SIGNATURE = "(IILdb)";
/** The highest rate a subscriber may ask for (Hz): above it, pacing means nothing. */
export const MAX_SUBSCRIPTION_RATE = 1_000;

export interface SubscriptionRate {
  /** Events per second at most (throttle); 0 or omitted: no limit. */
  maxRate?: number;
  /** Only the newest event matters: never queue old ones for this subscriber. */
  latestOnly?: boolean;
}

/** Checks what a subscriber asked for; a RangeError says what is wrong. */
export function checkSubscriptionRate(rate: SubscriptionRate): void {
  const hz = rate.maxRate ?? 0;
  if (!(typeof hz === "number" && Number.isFinite(hz) && hz >= 0 && hz <= MAX_SUBSCRIPTION_RATE))
    throw new RangeError(
      `maxRate must be a number of Hz in 0…${MAX_SUBSCRIPTION_RATE} (got ${rate.maxRate})`,
    );
}
