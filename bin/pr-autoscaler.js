#!/usr/bin/env node
// Runs the TypeScript sources directly (Node >= 22.18 strips types) in a checkout, and the
// compiled dist/ in an installed package or container image, where src/ is not shipped.
import { existsSync } from "node:fs";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `pr-autoscaler needs Node.js >= 22.18 (this is ${process.version}). ` +
      "In a checkout, run it through npm (`npx pr-autoscaler`, `npm start`), which uses the Node.js that `npm ci` installed.\n",
  );
  process.exit(2);
}
const source = new URL("../src/cli/main.ts", import.meta.url);
const entry = existsSync(source) ? source : new URL("../dist/cli/main.js", import.meta.url);
const { runCli } = await import(entry.href);
process.exitCode = await runCli(process.argv.slice(2));
