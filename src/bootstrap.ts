// Start-up data: the first admin account and the first-party CLI client (bootstrap, per mode),
// and sample data for `serve --embedded --seed`. Idempotent and safe with several starters.
import type { Deps } from "./deps";

export interface BootstrapOptions {
  enabled: boolean;
  seed: boolean;
}

type Step = (deps: Deps, opts: BootstrapOptions) => Promise<void>;
const steps: Step[] = [];

/** Domains register their bootstrap steps here (accounts, clients, seed data). */
export function registerBootstrapStep(step: Step): void {
  steps.push(step);
}

export async function runBootstrap(deps: Deps, opts: BootstrapOptions): Promise<void> {
  for (const step of steps) await step(deps, opts);
}
