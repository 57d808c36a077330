// Loaded before every test file (bunfig.toml [test] preload): integration tests start servers,
// databases and subprocesses, so the per-test default is 60 s instead of bun's 5 s. A test that
// needs longer says so itself.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(60_000);
