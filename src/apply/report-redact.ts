/**
 * Removes secrets from text that is about to be posted to GitHub. GitHub Actions masks secrets in
 * job logs, but not in what a step sends through the API, so every comment goes through here.
 */

/** Environment variable names whose values are secrets. */
const SECRET_NAME = /TOKEN|SECRET|PASSWORD|PASSPHRASE|PRIVATE|CREDENTIAL|API_KEY|ACCESS_KEY/i;

/** Shorter values are too likely to be ordinary words to replace everywhere. */
const MIN_SECRET_LENGTH = 8;

const MASK = "***";

/** Secrets by their shape, for the ones that reach a log without passing through our env. */
const SHAPES: { pattern: RegExp; replace: string }[] = [
  // GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_ and fine-grained personal access tokens.
  { pattern: /\bgh[pousr]_[A-Za-z0-9]{20,}\b/g, replace: MASK },
  { pattern: /\bgithub_pat_[A-Za-z0-9_]{20,}\b/g, replace: MASK },
  // PEM private keys (SSH keys, kubeconfig client keys written out).
  {
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
    replace: MASK,
  },
  // Proxmox API tokens, USER@REALM!TOKENID=SECRET: the id may show, the secret may not. The
  // look-behind starts a match only where a name starts: without it, a long run of name
  // characters is scanned again from each of its positions, and a 100 kB line takes seconds.
  {
    pattern: /(?<![\w.-])([\w.-]+@[\w.-]+![\w.-]+)=[0-9A-Fa-f-]{8,}/g,
    replace: `$1=${MASK}`,
  },
  // The password in a URL's user information (http://user:password@host): the user may show.
  // Quotes end it, so that in a JSON line a URL never runs on into the next field.
  { pattern: /\b(https?:\/\/[^\s/?#@:"'<>\\]+:)[^\s/?#"'<>\\]+@/gi, replace: `$1${MASK}@` },
  // Credentials written as fields (kubeconfig YAML, HTTP headers, key=value).
  {
    pattern:
      /\b(client-key-data|client-certificate-data|token|password|secret|authorization)(["']?\s*[:=]\s*["']?(?:Bearer |Basic )?)[^\s"',]{8,}/gi,
    replace: `$1$2${MASK}`,
  },
];

/**
 * `text` with the values of secret-looking environment variables (each line of multi-line ones,
 * such as a kubeconfig) and secret-shaped strings replaced by `***`.
 */
export function redactSecrets(text: string, env: Record<string, string | undefined>): string {
  let out = text;
  for (const value of secretValues(env)) out = out.replaceAll(value, MASK);
  for (const { pattern, replace } of SHAPES) out = out.replace(pattern, replace);
  return out;
}

function secretValues(env: Record<string, string | undefined>): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || !SECRET_NAME.test(name)) continue;
    for (const piece of [value, ...value.split(/\r?\n/)]) {
      const trimmed = piece.trim();
      if (trimmed.length >= MIN_SECRET_LENGTH) values.add(trimmed);
    }
  }
  // Longest first, so a whole value goes before any of its lines.
  return [...values].sort((a, b) => b.length - a.length);
}
