import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { InputError } from "../errors.ts";
import { escapeHtml } from "../reconcile/markdown.ts";

/** The manifest shipped with pr-autoscaler (permissions and events; README "Permissions"). */
export const MANIFEST_FILE = new URL("../../app.yml", import.meta.url);

export interface RegisterOptions {
  /** Where `.env` and the private key are written. */
  dir: string;
  /** Register under this organization instead of the signed-in user. */
  org?: string;
  /** Where GitHub sends webhooks (a public URL or a smee.io channel); absent: no webhooks. */
  webhookUrl?: string;
  /** Port of the local page (default 3000; 0 picks a free one). */
  port?: number;
  /** The GitHub web and API addresses (GitHub Enterprise Server: https://HOST, https://HOST/api/v3). */
  web?: string;
  api?: string;
  fetch?: typeof fetch;
  /** Called with the local page's address once it listens. */
  onListening?: (url: string) => void;
}

export interface Registered {
  appId: number;
  slug: string;
  htmlUrl: string;
  envFile: string;
  keyFile: string;
}

const Conversion = z.object({
  id: z.number(),
  slug: z.string(),
  html_url: z.string(),
  pem: z.string(),
  webhook_secret: z.string().nullable().optional(),
});

/**
 * GitHub's manifest flow: a local page posts app.yml's manifest to GitHub, GitHub creates the
 * app and sends the browser back with a one-time code, and the code is exchanged for the app's
 * id, private key and webhook secret, which are written to `.env` and a key file (never printed).
 */
export async function registerApp(options: RegisterOptions): Promise<Registered> {
  const envFile = join(options.dir, ".env");
  if (existsSync(envFile))
    throw new InputError(`${envFile} already exists: move it away to register another app`, {
      file: envFile,
    });
  const web = options.web ?? "https://github.com";
  const api = options.api ?? "https://api.github.com";
  const state = randomBytes(16).toString("hex");
  const manifest = parse(await readFile(MANIFEST_FILE, "utf8")) as Record<string, unknown>;
  return new Promise<Registered>((resolve, reject) => {
    let server: Server;
    const finish = (error: unknown, value?: Registered) => {
      server.close();
      if (error) reject(error);
      else resolve(value as Registered);
    };
    server = createServer((request, response) => {
      const url = new URL(request.url ?? "/", "http://127.0.0.1");
      if (url.pathname === "/") {
        const page = formPage(
          web,
          options.org,
          state,
          withHooks(manifest, local(server), options.webhookUrl),
        );
        response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page);
        return;
      }
      if (url.pathname !== "/callback") {
        response.writeHead(404).end();
        return;
      }
      const code = url.searchParams.get("code");
      if (url.searchParams.get("state") !== state || !code) {
        response
          .writeHead(400, { "content-type": "text/plain" })
          .end("unexpected answer from GitHub\n");
        return;
      }
      convert(api, code, options.fetch ?? fetch)
        .then((app) => save(options.dir, envFile, app))
        .then((saved) => {
          response
            .writeHead(200, { "content-type": "text/html; charset=utf-8" })
            .end(
              `<p>GitHub App <a href="${escapeHtml(saved.htmlUrl)}">${escapeHtml(saved.slug)}</a> registered. Install it on your infra repository from its page, then run <code>npm start</code>.</p>`,
            );
          finish(undefined, saved);
        })
        .catch((error: unknown) => {
          response
            .writeHead(500, { "content-type": "text/plain" })
            .end(`${(error as Error).message}\n`);
          finish(error);
        });
    });
    server.once("error", reject);
    server.listen(options.port ?? 3000, "127.0.0.1", () => options.onListening?.(local(server)));
  });
}

function local(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function withHooks(
  manifest: Record<string, unknown>,
  base: string,
  webhookUrl: string | undefined,
) {
  return {
    ...manifest,
    redirect_url: `${base}/callback`,
    hook_attributes: webhookUrl
      ? { url: webhookUrl, active: true }
      : // Without a public address the app runs on its loop alone; GitHub still wants a URL.
        { url: "https://example.invalid/api/github/webhooks", active: false },
  };
}

/** A page that posts the manifest to GitHub as soon as it opens (GitHub takes it only by POST). */
function formPage(web: string, org: string | undefined, state: string, manifest: object): string {
  const action = org
    ? `${web}/organizations/${encodeURIComponent(org)}/settings/apps/new?state=${state}`
    : `${web}/settings/apps/new?state=${state}`;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>Register pr-autoscaler</title></head>
<body>
<form id="register" action="${escapeHtml(action)}" method="post">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(manifest)).replaceAll('"', "&quot;")}">
<p>Registering the pr-autoscaler GitHub App with GitHub… <button type="submit">Continue</button></p>
</form>
<script>document.getElementById("register").submit();</script>
</body></html>
`;
}

async function convert(api: string, code: string, fetcher: typeof fetch) {
  const answer = await fetcher(`${api}/app-manifests/${encodeURIComponent(code)}/conversions`, {
    method: "POST",
    headers: { accept: "application/vnd.github+json" },
  });
  if (!answer.ok)
    throw new Error(`GitHub did not create the app: ${answer.status} ${await answer.text()}`);
  return Conversion.parse(await answer.json());
}

async function save(
  dir: string,
  envFile: string,
  app: z.infer<typeof Conversion>,
): Promise<Registered> {
  const keyFile = join(dir, `${app.slug}.private-key.pem`);
  await writeFile(keyFile, app.pem, { mode: 0o600, flag: "wx" });
  const lines = [
    "# The GitHub App pr-autoscaler registered from app.yml. Keep this file and the key private.",
    `APP_ID=${app.id}`,
    `PRIVATE_KEY_PATH=${keyFile}`,
    ...(app.webhook_secret ? [`WEBHOOK_SECRET=${app.webhook_secret}`] : []),
    "",
  ];
  await writeFile(envFile, lines.join("\n"), { mode: 0o600, flag: "wx" });
  return { appId: app.id, slug: app.slug, htmlUrl: app.html_url, envFile, keyFile };
}
