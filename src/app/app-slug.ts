import { z } from "zod";
import { InputError } from "../errors.ts";

const GitHubApp = z.object({ slug: z.string() });

/** What `appSlug` needs of an Octokit: one request. */
interface AppRequester {
  request(route: "GET /app"): Promise<{ data: unknown }>;
}

/**
 * The app's slug (its bot is `<slug>[bot]`). GitHub refusing the app means the credentials are
 * wrong; no answer at all means GitHub was not reached, which the credentials cannot fix.
 */
export async function appSlug(auth: () => Promise<AppRequester>, apiUrl: string): Promise<string> {
  try {
    const app = await auth();
    return GitHubApp.parse((await app.request("GET /app")).data).slug;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const status = (error as { status?: unknown }).status;
    const answered = typeof status === "number" && status >= 400 && status < 500;
    const unsigned = /key|PEM|DECODER|asn1/i.test(message);
    throw new InputError(
      answered || unsigned
        ? `cannot authenticate as the GitHub App (check APP_ID and the private key): ${message}`
        : `cannot reach GitHub at ${apiUrl} to start (the credentials were not checked): ${message}`,
      undefined,
      1,
    );
  }
}
