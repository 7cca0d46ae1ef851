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
  // A file's first reconcile warms up the modules and the checked GitHub mock: about 5 s on a
  // quiet machine, 23 s on two cores with other work besides. Tests that run processes or jobs
  // set their own, longer.
  testTimeout: 60_000,
  // Each test file's modules stay in the process that ran it (vm modules are not collected), so
  // one process running every file outgrows the heap. With a limit, jest runs the files in a
  // worker even on a machine with one core to spare, and starts a new worker once one holds more.
  workerIdleMemoryLimit: "1GB",
};
