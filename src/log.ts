// The consola instance shared by the server and the CLI. JSON lines when stdout is not a terminal
// (log collectors), pretty lines on a terminal. Never pass secrets to it.
// consola/basic, not "consola": the full entry bundles its prompt module, whose top-level await
// keeps `bun build --bytecode` (build.ts) from precompiling the executable.
import { createConsola, type ConsolaInstance, type LogObject } from "consola/basic";
import { formatWithOptions } from "node:util";
import { readEnv } from "./config";

const LEVELS: Record<string, number> = { silent: -999, fatal: 0, error: 0, warn: 1, info: 3, debug: 4, trace: 5 };

function jsonReporter() {
  return {
    log(obj: LogObject) {
      const [first, ...rest] = obj.args;
      const line: Record<string, unknown> = { time: obj.date.toISOString(), level: obj.type, tag: obj.tag || undefined };
      if (typeof first === "string") line.msg = first;
      else if (first && typeof first === "object") Object.assign(line, first);
      for (const r of rest) if (r && typeof r === "object") Object.assign(line, r);
      const text = JSON.stringify(line) + "\n";
      (obj.level <= 1 ? process.stderr : process.stdout).write(text);
    },
  };
}

/** JSON lines when stdout is not a terminal. */
export const jsonLogs = !process.stdout.isTTY;

/**
 * Whether a stream gets colour: NO_COLOR (non-empty) never, FORCE_COLOR (not "0"/"false") always,
 * otherwise only a terminal that is not TERM=dumb. Decided per stream: stdout on a terminal says
 * nothing about stderr redirected to a file (https://no-color.org, FORCE_COLOR of Node and chalk).
 */
export function colorEnabled(stream: { isTTY?: boolean }, env: (name: string) => string | undefined = readEnv): boolean {
  if (env("NO_COLOR")) return false;
  const force = env("FORCE_COLOR");
  if (force !== undefined && force !== "") return force !== "0" && force.toLowerCase() !== "false";
  return Boolean(stream.isTTY) && env("TERM") !== "dumb";
}

// ESC [ ... final byte: the SGR and cursor sequences consola's reporters write.
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

/** The stream itself when it may have colour; otherwise a writer that drops escape codes (consola
 *  decides colour once, from stdout alone, so its fancy lines are coloured for every stream). */
export function colorAware(stream: NodeJS.WriteStream): NodeJS.WriteStream {
  if (colorEnabled(stream)) return stream;
  return new Proxy(stream, {
    get(target, prop) {
      if (prop === "write") return (chunk: unknown, ...rest: unknown[]) => (target.write as (...a: unknown[]) => boolean)(typeof chunk === "string" ? chunk.replace(ANSI, "") : chunk, ...rest);
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

const TAG_COLOURS: Record<string, string> = { fatal: "31", error: "31", warn: "33", info: "36", success: "32", ready: "32", start: "35", debug: "90", trace: "90" };

/** A terminal line per entry, "[type] message", the tag coloured when its stream may have colour
 *  (consola/basic has no colour of its own; the full entry's fancy reporter is not in the build). */
function lineReporter() {
  return {
    log(obj: LogObject) {
      const stream = obj.level <= 1 ? process.stderr : process.stdout;
      const text = formatWithOptions({ colors: false }, ...obj.args);
      const tag = `[${obj.type}]`;
      const code = TAG_COLOURS[obj.type];
      stream.write(`${code && colorEnabled(stream) ? `\x1b[${code}m${tag}\x1b[0m` : tag} ${text}\n`);
    },
  };
}

export const log: ConsolaInstance = createConsola({
  level: LEVELS.info,
  stdout: colorAware(process.stdout),
  stderr: colorAware(process.stderr),
  reporters: [jsonLogs ? jsonReporter() : lineReporter()],
});

export function setLogLevel(level: string): void {
  log.level = LEVELS[level.toLowerCase()] ?? LEVELS.info!;
}
