// The second embedded engine (AUTHLY_EMBEDDED_ENGINE=container): PostgreSQL in a container through
// testcontainers, as the original Authly does. Probed and bounded in time: testcontainers can hang
// for minutes on a socket that never answers.
import type { EmbeddedDatabase } from "./embedded";

const PROBE_TIMEOUT_MS = 5000;
const START_TIMEOUT_MS = 120_000;

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** testcontainers is not compiled into the release binary (build.ts): say so, and what to use. */
async function importTestcontainers(): Promise<typeof import("testcontainers")> {
  try {
    return await import("testcontainers");
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `The container engine needs the testcontainers package, which the compiled authly binary does not include (${reason}). ` +
        "Run Authly from its sources (bun src/main.ts serve --embedded) for AUTHLY_EMBEDDED_ENGINE=container, use the default embedded engine (AUTHLY_EMBEDDED_ENGINE=pglite), or point DATABASE_URL at a PostgreSQL server.",
    );
  }
}

export async function startContainer(onProgress: (m: string) => void = () => {}): Promise<EmbeddedDatabase> {
  onProgress("Looking for a container runtime (Docker or Podman)");
  const { getContainerRuntimeClient } = await importTestcontainers();
  try {
    await withTimeout(getContainerRuntimeClient(), PROBE_TIMEOUT_MS, `no answer within ${PROBE_TIMEOUT_MS / 1000} s`);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `The container engine needs a running Docker or Podman, and none could be reached (${reason}). ` +
        "Use the default embedded engine instead (AUTHLY_EMBEDDED_ENGINE=pglite), or point DATABASE_URL at a PostgreSQL server.",
    );
  }
  const { PostgreSqlContainer } = await importTestcontainers().then(() => import("@testcontainers/postgresql"));
  onProgress("Starting PostgreSQL in a container (postgres:17-alpine)");
  const container = await withTimeout(
    new PostgreSqlContainer("postgres:17-alpine").withDatabase("authly").start(),
    START_TIMEOUT_MS,
    "the PostgreSQL container did not start within 120 s",
  );
  return {
    url: container.getConnectionUri(),
    created: true,
    async stop() {
      await container.stop();
    },
  };
}
