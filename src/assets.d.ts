// Module types for files imported as text or as embedded files (Bun import attributes).
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "#embedded-engine/pglite.wasm" {
  const path: string;
  export default path;
}
declare module "#embedded-engine/initdb.wasm" {
  const path: string;
  export default path;
}
declare module "#embedded-engine/pglite.data" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui-bundle.js" {
  const path: string;
  export default path;
}
declare module "swagger-ui-dist/swagger-ui.css" {
  const path: string;
  export default path;
}
// The browser script of the WebAuthn pages, embedded as text (src/interaction/assets/webauthn.js).
declare module "*/assets/webauthn.js" {
  const text: string;
  export default text;
}
