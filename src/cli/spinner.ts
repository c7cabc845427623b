/**
 * A one-line spinner on stderr while the command waits for something, drawn only when stderr
 * is a terminal (never in pipes, logs or CI output), and erased when it stops.
 */
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

export interface Spinner {
  stop(): void;
}

export function startSpinner(text: string, stream: NodeJS.WriteStream = process.stderr): Spinner {
  if (stream.isTTY !== true) return { stop: () => {} };
  let frame = 0;
  const draw = () => {
    stream.write(`\r${FRAMES[frame]} ${text}…`);
    frame = (frame + 1) % FRAMES.length;
  };
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stream.write("\r\u001b[2K");
    },
  };
}
