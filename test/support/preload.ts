// Loaded once before the test files (bunfig.toml [test] preload): integration tests start servers,
// databases and subprocesses, so the per-test default is 60 s instead of bun's 5 s. Bun 1.4 keeps
// this for the first test file only (oven-sh/bun#43787): runs of several files pass
// `--timeout 60000` (README, `bun run test`, .ci/run). A test that needs longer says so itself.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
