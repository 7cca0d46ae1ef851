/**
 * Removes secrets from text that is about to be posted to GitHub. GitHub Actions masks secrets in
 * job logs, but not in what a step sends through the API, so every comment goes through here.
 */

/** Environment variable names whose values are secrets. */
const SECRET_NAME =
  /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE|CREDENTIAL|API_KEY|ACCESS_KEY|WEBHOOK_URL/i;

/** Shorter values are too likely to be ordinary words to replace everywhere. */
const MIN_SECRET_LENGTH = 8;

const MASK = "***";

/**
 * The last part of a field name that says its value is a secret: `token`, `api_token`,
 * `PROXMOX_VE_API_TOKEN`, `client_secret`, `AWS_SECRET_ACCESS_KEY`, `x-api-key`, `DB_PASSWORD`.
 */
const SECRET_FIELD_END =
  "token|secret|password|passwd|passphrase|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization";

/**
 * A secret field and its value: `name = "value"`, `name: value`, `"name": "value"`, `NAME=value`,
 * `--name=value`, `Authorization: Bearer value`. The name ends with one of SECRET_FIELD_END, in
 * any case and after any other name parts (`api_token`, `PROXMOX_VE_API_TOKEN`, `clientSecret`);
 * it starts only where a name starts, so a long run of name characters is read once (see the
 * Proxmox pattern below), and it ends where the name ends, so `token_count` is no secret field.
 * A quoted value is taken whole, to its closing quote (escaped as in a JSON string or not); an
 * unquoted one up to a blank, quote or comma, when it has 8 characters or more.
 */
const SECRET_FIELD = new RegExp(
  `(?<![\\w-])([\\w-]*(?:${SECRET_FIELD_END})|client-key-data|client-certificate-data)` +
    `(\\\\?["']?[ \\t]*[:=][ \\t]*(?:(?:Bearer|Basic|token)[ \\t]+)?)` +
    `(?:(\\\\?")((?:(?!\\3)(?:[^\\\\\\n]|\\\\.))*)\\3|'([^'\\n]*)'|` +
    `(?!\\((?:sensitive|known after apply))([^\\s"',]{8,}))`,
  "gi",
);

/**
 * The new value of a changed secret field in a Terraform plan (`~ api_token = "old" -> "new"`)
 * once SECRET_FIELD has masked the old one.
 */
const CHANGED_SECRET = /(\*\*\*\\?["']?[ \t]*->[ \t]*)(?:(\\?["'])[^"'\n]*\2|[^\s"',]+)/g;

/**
 * Values after a secret-looking name that are not secrets: numbers of up to 10 digits and
 * booleans (`token_ttl = 3600`, `create_secret = true`; a longer run of digits may well be a
 * secret, and goes), Terraform's own markers, references to where the secret is kept (`var.proxmox_api_token`, `${{ secrets.PROXMOX_API_TOKEN }}`), and values this
 * pass or an earlier one already masked.
 */
const NOT_A_SECRET =
  /^(?:-?\d{1,10}(?:\.\d+)?|true|false|null|\(sensitive(?: value)?\)|\(known after apply\)|(?:var|local|data|module|each)\.[\w.[\]"-]+|\$\{\{?[^}]*\}\}?)$/i;

/**
 * PEM private keys (SSH keys, kubeconfig client keys written out); a key whose END line is
 * missing is removed to the end of the text.
 */
const PEM_KEY =
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;

/** Secrets by their shape, for the ones that reach a log without passing through our env. */
const SHAPES: { pattern: RegExp; replace: string }[] = [
  // A PEM block in base64, as kubeconfig `client-key-data` and talosconfig `key` hold it
  // ("LS0tLS1CRUdJTi" is "-----BEGIN"). Certificates go too: nothing tells them apart before
  // decoding, and a report loses nothing without them.
  { pattern: /(?<![A-Za-z0-9+/])LS0tLS1CRUdJTi[A-Za-z0-9+/]*={0,2}/g, replace: MASK },
  // GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ and fine-grained personal access tokens.
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, replace: MASK },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, replace: MASK },
  // JSON Web Tokens (Kubernetes service account tokens, OIDC tokens): header.payload.signature.
  {
    pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g,
    replace: MASK,
  },
  // Proxmox API tokens, USER@REALM!TOKENID=SECRET: the id may show, the secret may not. The
  // look-behind starts a match only where a name starts: without it, a long run of name
  // characters is scanned again from each of its positions, and a 100 kB line takes seconds.
  {
    pattern: /(?<![\w.-])([\w.-]+@[\w.-]+![\w.-]+)=[0-9A-Fa-f-]{8,}/g,
    replace: `$1=${MASK}`,
  },
  // The password in a URL's user information (scheme://user:password@host), any scheme
  // (postgres://, s3://, https://): the user may show. The password runs to the last `@` before
  // a `/`, so an unencoded `#`, `?` or `@` in it does not end it early; quotes end it, so that in
  // a JSON line a URL never runs on into the next field.
  {
    pattern: /(?<![\w+.-])([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>\\]+:)[^\s/"'<>\\]+@/gi,
    replace: `$1${MASK}@`,
  },
];

/**
 * A bearer token with no field name before it (`curl -H "…Bearer eyJ…"`, an error quoting the
 * header's value). It must hold a digit, so prose ("Bearer authentication failed") stays.
 */
const BEARER = /(?<![\w-])(Bearer[ \t]+)(?=[\w.~+/-]*\d)[\w.~+/-]{8,}=*/gi;

/** The last line of a PEM private key. */
const PEM_END = /-----END [A-Z0-9 ]*PRIVATE KEY-----/g;
/** A full line of a PEM body (64 characters, or 76 from some tools); the last may be shorter. */
const BASE64_LINE = /^[A-Za-z0-9+/=]{16,}$/;
const BASE64_LAST_LINE = /^[A-Za-z0-9+/=]+$/;
const BASE64_CHARACTER = /[A-Za-z0-9+/=]/;

/**
 * `text` with the values of secret-looking environment variables (each line of multi-line ones,
 * such as a kubeconfig; for a URL, its path and query, as a chat webhook's holds its token) and
 * secret-shaped strings replaced by `***`: PEM private keys (whole, without their BEGIN line,
 * or in base64), GitHub tokens, JSON Web Tokens, Proxmox API token secrets, URL passwords of any
 * scheme, bearer tokens, and the values of secret-named fields (`proxmox_api_token = "…"`,
 * `client_secret: …`, `AWS_SECRET_ACCESS_KEY=…`, `x-api-key: …`).
 */
export function redactSecrets(text: string, env: Record<string, string | undefined>): string {
  let out = text;
  for (const value of secretValues(env)) out = out.replaceAll(value, MASK);
  out = maskHeadlessKeys(out.replace(PEM_KEY, MASK));
  for (const { pattern, replace } of SHAPES) out = out.replace(pattern, replace);
  out = out.replace(SECRET_FIELD, maskField);
  out = out.replace(CHANGED_SECRET, (_whole, before: string, quote: string | undefined) =>
    quote === undefined ? `${before}${MASK}` : `${before}${quote}${MASK}${quote}`,
  );
  return out.replace(BEARER, `$1${MASK}`);
}

/**
 * `value` with every string in it, at any depth of arrays and plain objects, passed through
 * {@link redactSecrets}; other values as they are.
 */
export function redactStrings<T>(value: T, env: Record<string, string | undefined>): T {
  if (typeof value === "string") return redactSecrets(value, env) as T;
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, env)) as T;
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value).map(([key, item]) => [key, redactStrings(item, env)]);
  return Object.fromEntries(entries) as T;
}

/** One SECRET_FIELD match, its value masked unless the value is not a secret. */
function maskField(
  whole: string,
  name: string,
  separator: string,
  doubleQuote: string | undefined,
  doubleQuoted: string | undefined,
  singleQuoted: string | undefined,
  bare: string | undefined,
): string {
  const value = doubleQuoted ?? singleQuoted ?? bare ?? "";
  if (value === "" || value.includes(MASK) || NOT_A_SECRET.test(value)) return whole;
  if (doubleQuoted !== undefined) return `${name}${separator}${doubleQuote}${MASK}${doubleQuote}`;
  if (singleQuoted !== undefined) return `${name}${separator}'${MASK}'`;
  return `${name}${separator}${MASK}`;
}

/**
 * Masks the body of a PEM private key whose BEGIN line is not in the text (a log cut inside the
 * key): the lines of base64 right above each END line, and the END line. Line breaks count
 * written as `\n` too, as inside a JSON log line. Walks back from each END line, so a long text
 * is read about once.
 */
function maskHeadlessKeys(text: string): string {
  let out = "";
  let done = 0;
  for (const end of text.matchAll(PEM_END)) {
    out += text.slice(done, headlessBodyStart(text, end.index, done)) + MASK;
    done = end.index + end[0].length;
  }
  return out + text.slice(done);
}

/** Where the base64 lines above the END line at `end` start; no earlier than `floor`. */
function headlessBodyStart(text: string, end: number, floor: number): number {
  let line = lineStart(text, end, floor);
  let start = end;
  while (start > line.index && BASE64_CHARACTER.test(text[start - 1] ?? "")) start--;
  // Other text before the END on its line: the key was written on that one line.
  if (text.slice(line.index, start).trim() !== "") return start;
  while (line.breakLength > 0) {
    const lineEnd = line.index - line.breakLength;
    const above = lineStart(text, lineEnd, floor);
    const content = text.slice(above.index, lineEnd);
    const shape = start === end ? BASE64_LAST_LINE : BASE64_LINE;
    if (!shape.test(content.trim())) break;
    start = above.index + content.length - content.trimStart().length;
    line = above;
  }
  return start;
}

/**
 * The start of the line holding position `at` (not before `floor`), and the length of the line
 * break before it: 1 for a newline, 2 for `\n` written out, 0 at `floor`.
 */
function lineStart(
  text: string,
  at: number,
  floor: number,
): { index: number; breakLength: number } {
  // A backward scan bounded by the line: lastIndexOf would search to the start of the text for
  // the kind of break that is not there, for every line.
  for (let i = at - 1; i >= floor; i--) {
    if (text[i] === "\n")
      return { index: i + 1, breakLength: i > floor && text[i - 1] === "\r" ? 2 : 1 };
    if (text[i] === "n" && i > floor && text[i - 1] === "\\")
      return { index: i + 1, breakLength: 2 };
  }
  return { index: floor, breakLength: 0 };
}

function secretValues(env: Record<string, string | undefined>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !SECRET_NAME.test(name)) continue;
    for (const piece of [value, ...value.split(/\r?\n/), ...urlSecretPieces(value.trim())]) {
      const trimmed = piece.trim();
      if (trimmed.length >= MIN_SECRET_LENGTH) values.add(trimmed);
    }
  }
  // Longest first, so a whole value goes before any of its lines.
  return [...values].sort((a, b) => b.length - a.length);
}

/** A path segment that names a route ("services", "webhooks"), not a secret. */
const ROUTE_WORD = /^[a-z]+$/;

/**
 * The parts of a URL that carry its secret when the whole URL is one: a chat's incoming webhook
 * holds its token in the path (`/hooks/…`, `/services/T…/B…/…`), other services in the query.
 * Servers repeat the path in their answers ("Cannot POST /hooks/…"), so each of these is a
 * secret of its own: the path with the query, the path, the query, each path segment and query
 * value of 8 characters or more (as written and decoded), and the password. Segments of
 * lowercase letters only are route names and left, or the words would go from every text.
 * Empty for a value that is not an absolute URL.
 */
export function urlSecretPieces(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return [];
  const segments = parsed.pathname
    .split("/")
    .filter((segment) => segment.length >= MIN_SECRET_LENGTH && !ROUTE_WORD.test(segment));
  const queryValues = parsed.search
    .slice(1)
    .split("&")
    .map((pair) => pair.slice(pair.indexOf("=") + 1))
    .filter((value) => value.length >= MIN_SECRET_LENGTH);
  const pieces: string[] = [];
  if (segments.length > 0 || parsed.search !== "") pieces.push(parsed.pathname + parsed.search);
  if (segments.length > 0) pieces.push(parsed.pathname);
  pieces.push(parsed.search, ...segments, ...queryValues, parsed.password);
  const withDecoded = pieces.flatMap((piece) => [piece, safeDecode(piece)]);
  return [...new Set(withDecoded)].filter((piece) => piece.length >= MIN_SECRET_LENGTH);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}
