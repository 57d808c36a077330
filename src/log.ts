// The consola instance shared by the server and the CLI. JSON lines when stdout is not a terminal
// (log collectors), pretty lines on a terminal. Never pass secrets to it.
// consola/basic, not "consola": the full entry bundles its prompt module, whose top-level await
// keeps `bun build --bytecode` (build.ts) from precompiling the executable.
import { createConsola, type ConsolaInstance, type LogObject } from "consola/basic";

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

export const log: ConsolaInstance = createConsola({
  level: LEVELS.info,
  ...(jsonLogs ? { reporters: [jsonReporter()] } : {}),
});

export function setLogLevel(level: string): void {
  log.level = LEVELS[level.toLowerCase()] ?? LEVELS.info!;
}
