/**
 * An ALTextToSpeech-like service: `say` logs the text instead of speaking it, taking a
 * little time per character, and brackets it with `started(id)` / `done(id)`.
 */
import { CheckedObject, inRange, oneOf } from "./checked-properties.js";
import type { LogFn } from "./log-manager.js";
import type { DemoOptions, DemoService } from "./types.js";

const LANGUAGES = ["English", "French", "German", "Japanese", "Spanish"];
/** Simulated speaking time: short enough for tests, long enough to see started/done apart. */
const MS_PER_CHAR = 5;
const MAX_SPEECH_MS = 2_000;

/** `log`, when given, also gets an info message per `say` (category "ALTextToSpeech"). */
export function createTextToSpeech({ logger }: DemoOptions, log?: LogFn): DemoService {
  let nextId = 1;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const object = new CheckedObject({ description: "Simulated ALTextToSpeech: logs what it would say" });
  object
    .method(
      "say",
      "(s)",
      "v",
      function (text: string) {
        const id = nextId++;
        const volume = object.getProperty("volume") as number;
        const language = object.getProperty("language") as string;
        logger.info(
          { service: "ALTextToSpeech", id, language, volume, caller: this.identity },
          `say: ${text}`,
        );
        log?.("info", "ALTextToSpeech", `say: ${text}`);
        object.emit("started", id);
        const signal = this.signal as AbortSignal | undefined; // undefined when called as a plain function
        return new Promise<void>((resolve, reject) => {
          const t = setTimeout(
            () => {
              timers.delete(t);
              object.emit("done", id);
              resolve();
            },
            Math.min(MAX_SPEECH_MS, text.length * MS_PER_CHAR),
          );
          timers.add(t);
          // Honours cancel (issue 11): it stops speaking, so a caller told Canceled was.
          signal?.addEventListener("abort", () => {
            clearTimeout(t);
            timers.delete(t);
            object.emit("done", id);
            reject(signal.reason);
          });
        });
      },
      { description: "Says a text (logs it) and returns when done", parameters: [{ name: "text" }] },
    )
    .method("getAvailableLanguages", "()", "[s]", () => [...LANGUAGES], {
      description: "Languages this voice can speak",
    })
    .method(
      "setLanguage",
      "(s)",
      "v",
      (language: string) => {
        if (!LANGUAGES.includes(language)) {
          throw new Error(
            `ALTextToSpeech::setLanguage: unknown language "${language}" (have ${LANGUAGES.join(", ")})`,
          );
        }
        object.setProperty("language", language);
      },
      {
        description: "Changes the language (checked against getAvailableLanguages)",
        parameters: [{ name: "language" }],
      },
    )
    .signal("started", "(i)")
    .signal("done", "(i)")
    .property("volume", "f", 0.8)
    .property("language", "s", "English")
    .checked("volume", inRange("volume", 0, 1))
    .checked("language", oneOf("language", LANGUAGES));
  return {
    name: "ALTextToSpeech",
    object,
    stop() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
