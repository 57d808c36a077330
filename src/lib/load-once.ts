// A part of the server loaded at its first use (a library, a document built on demand): every
// caller shares one load, and a load that failed is tried again by the next caller instead of
// failing every later one.

/** `load` run at the first call of the returned function; its promise shared until it fails. */
export function loadOnce<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((err) => {
      loading = undefined;
      throw err;
    }));
}
