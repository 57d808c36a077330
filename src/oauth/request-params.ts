// Request parameters of the front channel (RFC 6749 §3.1): from the query string or a raw
// application/x-www-form-urlencoded body. Parameters sent without a value are treated as omitted;
// a parameter sent more than once is reported so the caller can answer invalid_request.
export interface ParsedParams {
  /** The single value of every parameter that has one (empty values dropped). */
  values: Record<string, string>;
  /** Names of parameters that were sent more than once with a value. */
  repeated: Set<string>;
}

export function parseParams(search: URLSearchParams): ParsedParams {
  const values: Record<string, string> = Object.create(null);
  const repeated = new Set<string>();
  for (const [name, value] of search) {
    if (value === "") continue;
    if (name in values) repeated.add(name);
    else values[name] = value;
  }
  return { values, repeated };
}

/** Parses the raw body of a form POST; a missing or wrong Content-Type gives undefined. */
export async function readFormBody(request: Request): Promise<ParsedParams | undefined> {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return undefined;
  return parseParams(new URLSearchParams(await request.text()));
}

/** The parameters of a request: the query string for GET, the form body for POST (OIDC Core §3.1.2.1). */
export async function readRequestParams(request: Request): Promise<ParsedParams | undefined> {
  if (request.method === "POST") return readFormBody(request);
  return parseParams(new URL(request.url).searchParams);
}
