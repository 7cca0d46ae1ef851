/**
 * Compares three ways to read tfvars files: our own scanner/parser, hcl2-parser (HashiCorp's Go
 * HCL compiled to JavaScript) and web-tree-sitter with the tree-sitter-hcl grammar.
 *
 *   node_modules/.bin/node bench/hcl-parsers.ts
 *
 * Each parser runs in a fresh child process, so its load time and peak memory are its own.
 * Prints, per parser: load time, mean parse time per fixture file, the parse time of a large
 * generated file, peak resident memory, how many valid files parse without error, how many
 * invalid snippets are rejected, and whether positions are available.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";

const PARSERS = ["own", "hcl2-parser", "tree-sitter"] as const;
type ParserName = (typeof PARSERS)[number];

/** One parser behind the same face: does the text parse, and are positions available. */
interface ParserHandle {
  positions: boolean;
  parse(text: string): boolean;
}

interface Figures {
  parser: ParserName;
  loadMs: number;
  files: Array<{ file: string; bytes: number; meanMs: number; ok: boolean }>;
  large: { bytes: number; medianMs: number; ok: boolean };
  invalidRejected: number;
  invalidTotal: number;
  maxRssMb: number;
  positions: boolean;
  note: string;
}

const FIXTURES = new URL("../test/fixtures/editors/tfvars/", import.meta.url);
const REPEATS = 10;

/** Snippets that are not valid HCL (HashiCorp's parser rejects each). */
const INVALID = [
  "a = \n",
  'a = "multi\nline"\n',
  "a = {x = 1 y = 2}\n",
  "a = [1,,2]\n",
  'a = "${var.x"\n',
  "a = 1 b = 2\n",
  "a = <<EOF\nx\n",
  'a = "\\x"\n',
  "a = 1 +\n 2\n",
  "a = { x = 1\n , y = 2 }\n",
  'a = "%{ if true }x"\n',
  "a = 1.\n",
  '"a" = 1\n',
  "p = 1\np = 2\n",
  "a = 1 /* x\n",
  "a = <<EOF \nx\nEOF\n",
];

async function loadParser(name: ParserName): Promise<{ handle: ParserHandle; note: string }> {
  if (name === "own") {
    const { parseTfvars } = await import("../src/editors/tfvars/tfvars-parser.ts");
    return {
      handle: {
        positions: true,
        parse: (text) => succeeds(() => parseTfvars(text, "bench.tfvars")),
      },
      note: "",
    };
  }
  if (name === "hcl2-parser") {
    const hcl = createRequire(import.meta.url)("hcl2-parser") as {
      parseToObject(text: string): unknown[];
    };
    return {
      handle: {
        positions: false,
        parse: (text) => succeeds(() => hcl.parseToObject(text)[1] === null),
      },
      note: "",
    };
  }
  const treeSitter = await import("web-tree-sitter");
  const { Language, Parser } = treeSitter;
  await Parser.init();
  const wasm = fileURLToPath(
    import.meta.resolve("@tree-sitter-grammars/tree-sitter-hcl/tree-sitter-hcl.wasm"),
  );
  const language = await Language.load(wasm);
  const parser = new Parser();
  parser.setLanguage(language);
  const parse = (text: string): boolean => {
    const tree = parser.parse(text);
    const ok = tree !== null && !tree.rootNode.hasError;
    tree?.delete();
    return ok;
  };
  // The version bindings are set by Parser.init(), so they are read through the namespace after it.
  const note = `grammar ABI ${language.abiVersion}, web-tree-sitter accepts ABI ${treeSitter.MIN_COMPATIBLE_VERSION}-${treeSitter.LANGUAGE_VERSION}`;
  return { handle: { positions: true, parse }, note };
}

function succeeds(parse: () => unknown): boolean {
  try {
    return parse() !== false;
  } catch {
    return false;
  }
}

/** A large Talos-on-Proxmox style tfvars: many worker objects, comments, aligned groups. */
function largeTfvars(workers: number): string {
  let text =
    '# generated for the benchmark\ncluster_name = "bench"\nworker_count = ' +
    workers +
    "\n\nnodes = {\n";
  for (let i = 0; i < workers; i++) {
    text += `  "worker-${i}" = {\n    host_node    = "pve${i % 3}" # placement\n    machine_type = "worker"\n    cpu          = 4\n    ram          = 8192\n    ip           = "10.0.${i >> 8}.${i & 255}"\n    labels       = { zone = "z${i % 2}", "node.kubernetes.io/pool" = "general" }\n    disks        = [32, 64]\n  }\n`;
  }
  return `${text}}\n`;
}

function timeMs(run: () => void): number {
  const start = performance.now();
  run();
  return performance.now() - start;
}

async function measure(name: ParserName): Promise<Figures> {
  const start = performance.now();
  const { handle, note } = await loadParser(name);
  const loadMs = performance.now() - start;
  const files = readdirSync(FIXTURES)
    .filter((file) => file.endsWith(".tfvars"))
    .sort()
    .map((file) => {
      const text = readFileSync(new URL(file, FIXTURES), "utf8");
      const ok = handle.parse(text);
      const meanMs =
        timeMs(() => {
          for (let i = 0; i < REPEATS; i++) handle.parse(text);
        }) / REPEATS;
      return { file, bytes: Buffer.byteLength(text), meanMs, ok };
    });
  const big = largeTfvars(500);
  const runs = [0, 1, 2].map(() => timeMs(() => handle.parse(big))).sort((a, b) => a - b);
  const large = { bytes: Buffer.byteLength(big), medianMs: runs[1] ?? 0, ok: handle.parse(big) };
  const invalidRejected = INVALID.filter((text) => !handle.parse(text)).length;
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  return {
    parser: name,
    loadMs,
    files,
    large,
    invalidRejected,
    invalidTotal: INVALID.length,
    maxRssMb,
    positions: handle.positions,
    note,
  };
}

function runChild(name: ParserName): Figures {
  const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--child", name], {
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(output) as Figures;
}

function report(all: Figures[]): void {
  const cpu = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `Machine: ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}\n`,
  );
  const fileNames = all[0]?.files.map((file) => file.file) ?? [];
  console.log(`Mean parse time per fixture file (ms, ${REPEATS} runs each):`);
  console.log(
    `${"file".padEnd(45)}${"bytes".padStart(7)}${all.map((f) => f.parser.padStart(14)).join("")}`,
  );
  fileNames.forEach((file, i) => {
    const bytes = all[0]?.files[i]?.bytes ?? 0;
    const cells = all.map((f) => {
      const entry = f.files[i];
      return `${entry?.meanMs.toFixed(2) ?? "-"}${entry?.ok ? "" : "!"}`.padStart(14);
    });
    console.log(`${file.padEnd(45)}${String(bytes).padStart(7)}${cells.join("")}`);
  });
  console.log('("!" marks a file the parser reports an error in)\n');
  const rows: Array<[string, (f: Figures) => string]> = [
    ["module load (ms)", (f) => f.loadMs.toFixed(0)],
    [
      "corpus total per pass (ms)",
      (f) => f.files.reduce((sum, file) => sum + file.meanMs, 0).toFixed(1),
    ],
    [
      "valid files without error",
      (f) => `${f.files.filter((file) => file.ok).length}/${f.files.length}`,
    ],
    [
      `large file ${((all[0]?.large.bytes ?? 0) / 1024).toFixed(0)} KiB (ms)`,
      (f) => `${f.large.medianMs.toFixed(0)}${f.large.ok ? "" : "!"}`,
    ],
    ["invalid snippets rejected", (f) => `${f.invalidRejected}/${f.invalidTotal}`],
    ["peak RSS (MiB)", (f) => f.maxRssMb.toFixed(0)],
    ["positions", (f) => (f.positions ? "yes" : "no")],
  ];
  console.log(`${"".padEnd(30)}${all.map((f) => f.parser.padStart(14)).join("")}`);
  for (const [label, cell] of rows)
    console.log(`${label.padEnd(30)}${all.map((f) => cell(f).padStart(14)).join("")}`);
  for (const f of all) if (f.note) console.log(`\n${f.parser}: ${f.note}`);
}

if (process.argv[2] === "--child") {
  const name = process.argv[3] as ParserName;
  process.stdout.write(JSON.stringify(await measure(name)));
} else {
  report(PARSERS.map(runChild));
}
