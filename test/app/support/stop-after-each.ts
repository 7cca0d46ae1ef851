/**
 * An app test file's lifetime of the app: its own HTTP server on 127.0.0.1 let through nock
 * (GitHub stays behind nock), and the app each test started stopped after that test.
 */
import { afterEach, beforeAll } from "@jest/globals";
import nock from "nock";
import type { RunningApp } from "../../../src/app/start-app.ts";

/**
 * Registers the file's hooks. The returned function is given the app a test started (and gives
 * it back), so that the app is stopped after the test, whether it passed or not.
 */
export function stopAfterEach(): (app: RunningApp) => RunningApp {
  let current: RunningApp | undefined;
  beforeAll(() => {
    nock.enableNetConnect("127.0.0.1");
  });
  afterEach(async () => {
    const app = current;
    current = undefined;
    await app?.stop();
  });
  return (app) => {
    current = app;
    return app;
  };
}
