/** Jest runs in native ESM (node --experimental-vm-modules); @swc/jest strips the types. */
export default {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  extensionsToTreatAsEsm: [".ts"],
  moduleFileExtensions: ["ts", "js", "mjs", "json"],
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      { jsc: { parser: { syntax: "typescript" }, target: "es2023" }, module: { type: "es6" } },
    ],
  },
  setupFilesAfterEnv: [
    "<rootDir>/test/support/nock-setup.ts",
    "<rootDir>/test/support/graphql-setup.ts",
  ],
  testTimeout: 30000,
  // Each test file's modules stay in the process that ran it (vm modules are not collected), so
  // one process running every file outgrows the heap. With a limit, jest runs the files in a
  // worker even on a machine with one core to spare, and starts a new worker once one holds more.
  workerIdleMemoryLimit: "1GB",
};
