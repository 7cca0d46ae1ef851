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
};
