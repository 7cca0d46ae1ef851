/**
 * Jest setup file (setupFilesAfterEnv). nock intercepts fetch and http for the whole worker
 * process, and several test files share a worker: after each file this removes its mocks, allows
 * the network again and switches interception off, so the next file starts clean (a file that
 * imports nock switches it on again).
 */
import { afterAll } from "@jest/globals";

afterAll(async () => {
  const { default: nock } = await import("nock");
  nock.cleanAll();
  nock.enableNetConnect();
  nock.restore();
});
