/**
 * Joins two channels both ways with backpressure: a side that cannot take more pauses the
 * other's reading until it drains; either side closing closes the other.
 */
import type { Channel } from "../transport/index.js";

export function pipeChannels(a: Channel, b: Channel): void {
  const oneWay = (from: Channel, to: Channel) => {
    from.onMessage((m) => {
      if (to.closed) return;
      if (!to.send(m)) from.pause();
    });
    to.onDrain(() => from.resume());
    from.onClose((why) => {
      if (!to.closed) to.close(why);
    });
  };
  oneWay(a, b);
  oneWay(b, a);
}
