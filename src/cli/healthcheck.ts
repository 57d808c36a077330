// `authly healthcheck`: GETs the server's liveness (or readiness) endpoint and exits 0 or 1, for a
// container HEALTHCHECK in an image that has no shell and no curl (FROM scratch).
import { defineCommand } from "citty";
import { readEnv } from "../config";
import { CliError, ExitCode } from "../errors";
import { helpText } from "./help";

const healthcheckCommand = defineCommand({
  meta: { name: "healthcheck", description: "Check that a local Authly server answers (exit 0) or not (exit 1)." },
  args: {
    url: { type: "string", valueHint: "URL", description: "Base URL of the server (default: http://127.0.0.1:$AUTHLY_PORT, port 8000)" },
    ready: { type: "boolean", description: "Check /health/ready (migrated, database reachable) instead of /health/live", default: false },
    timeout: { type: "string", valueHint: "SECONDS", description: "Seconds to wait for the answer (default: 3)", default: "3" },
  },
  async run({ args }) {
    const seconds = Number(args.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 120) throw new CliError("--timeout must be a number of seconds from 0 to 120", ExitCode.validation);
    const base = (args.url ?? `http://127.0.0.1:${readEnv("AUTHLY_PORT") ?? "8000"}`).replace(/\/+$/, "");
    const url = `${base}${args.ready ? "/health/ready" : "/health/live"}`;
    let problem: string;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(seconds * 1000), headers: { "user-agent": "authly-healthcheck" } });
      if (res.status === 200) {
        console.log(`healthy: ${url}`);
        return ExitCode.ok;
      }
      problem = `answered ${res.status}`;
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    // Thrown, not returned: citty drops a sub-command's return value.
    throw new CliError(`unhealthy: ${url}: ${problem}`, ExitCode.general);
  },
});

export default Object.assign(healthcheckCommand, {
  help: helpText({
    details: "Prints `healthy: <url>` and exits 0 when the endpoint answers 200; otherwise prints why and exits 1.\nThe image's HEALTHCHECK runs `authly healthcheck` (no shell or curl needed).",
    examples: ["# The local server (AUTHLY_PORT, default 8000)\n$ authly healthcheck", "# Readiness of another server, 10 s at most\n$ authly healthcheck --url http://127.0.0.1:9000 --ready --timeout 10"],
    exitCodes: [
      [0, "Healthy: the endpoint answered 200"],
      [1, "Unhealthy: no answer in time, refused, or another status"],
      [5, "Validation error (unknown or bad options)"],
    ],
  }),
});
