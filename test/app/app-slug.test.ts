import { describe, expect, it } from "@jest/globals";
import { appSlug } from "../../src/app/app-slug.ts";

/** An error as Octokit throws it: a message and, when GitHub answered, its status. */
function requestError(message: string, status: number): Error {
  return Object.assign(new Error(message), { status });
}

function failingWith(error: Error) {
  return async () => ({
    request: async (): Promise<{ data: unknown }> => {
      throw error;
    },
  });
}

const API = "https://api.github.com";

describe("the app's identity at start", () => {
  it("is the slug GitHub answers", async () => {
    const auth = async () => ({ request: async () => ({ data: { slug: "homelab-scaler" } }) });
    expect(await appSlug(auth, API)).toBe("homelab-scaler");
  });

  it.each([
    ["GitHub refuses the token", requestError("A JSON web token could not be decoded", 401)],
    ["the app does not exist", requestError("Integration not found", 404)],
  ])("blames the credentials when %s", async (_, error) => {
    await expect(appSlug(failingWith(error), API)).rejects.toThrow(
      `cannot authenticate as the GitHub App (check APP_ID and the private key): ${error.message}`,
    );
  });

  it("blames the key when no token could be signed", async () => {
    const auth = async () => {
      throw new Error(
        "[universal-github-app-jwt] Private Key is in PKCS#1 format, but only PKCS#8 is supported",
      );
    };
    await expect(appSlug(auth, API)).rejects.toThrow(/^cannot authenticate as the GitHub App/);
  });

  it.each([
    ["no connection", requestError("connect ECONNREFUSED 140.82.112.6:443", 500)],
    ["a name that does not resolve", requestError("getaddrinfo EAI_AGAIN api.github.com", 500)],
    ["GitHub down", requestError("Service Unavailable", 503)],
  ])("says GitHub was not reached, not that the credentials are wrong, on %s", async (_, error) => {
    await expect(appSlug(failingWith(error), API)).rejects.toThrow(
      `cannot reach GitHub at ${API} to start (the credentials were not checked): ${error.message}`,
    );
  });
});
