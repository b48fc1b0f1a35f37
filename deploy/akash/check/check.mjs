// Checks deploy/akash/*.yaml with Akash's own SDL parser (@akashnetwork/chain-sdk, the successor
// of akashjs, whose 0.11 refuses the `uact` denom providers take now): the file must
// parse, validate and yield a manifest and deployment groups for the beta3 network. Then the
// drift check: every variable an SDL sets on a `heaven` service is one the binary reads (found
// in the workers' and canisters' sources), the variables the binary requires are set, and every
// `${NAME}` placeholder is in deploy/README.md's secrets table. Exits non-zero naming the file
// and field of the first problem of each kind.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import yaml from "js-yaml";
import { SDL } from "@akashnetwork/chain-sdk";

const root = join(fileURLToPath(new URL(".", import.meta.url)), "../../..");
const akashDir = join(root, "deploy/akash");
const problems = [];

/** Every `.rs` file under `dir`, recursively (tests and benches excluded). */
function rustFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (!["tests", "benches", "target", "node_modules"].includes(name)) out.push(...rustFiles(path));
    } else if (name.endsWith(".rs")) {
      out.push(path);
    }
  }
  return out;
}

// The variables the binary reads: every `EnvSource` lookup (`optional`, `required`, `parse_or`,
// `positive_or`, and heaven's `choice(env, …)`) with a literal name in the workers' and
// canisters' sources, unit-test modules (from `#[cfg(test)]` on) left out.
const read = new Set();
const required = new Set();
for (const file of [...rustFiles(join(root, "workers")), ...rustFiles(join(root, "canisters"))]) {
  const full = readFileSync(file, "utf8");
  const cut = full.indexOf("#[cfg(test)]");
  const text = cut >= 0 ? full.slice(0, cut) : full;
  for (const m of text.matchAll(/(?:\.(optional|required|parse_or|positive_or)\(|\bchoice\(\s*env,)\s*"([A-Z][A-Z0-9_]*)"/g)) {
    read.add(m[2]);
    if (m[1] === "required") required.add(m[2]);
  }
  // The canister bridge reads its variables through a lookup closure (`get("ICP_URL")`,
  // `principal("ICP_CREDITS_CANISTER_ID")`) so that tests can pass a map.
  if (file.endsWith(join("canister-bridge", "src", "config.rs"))) {
    for (const m of text.matchAll(/\b(?:get|principal)\(\s*"([A-Z][A-Z0-9_]*)"/g)) read.add(m[1]);
  }
  // An S3 object store configured by object_store's `AmazonS3Builder::from_env` reads the
  // AWS_* variables it documents.
  if (text.includes("AmazonS3Builder::from_env")) {
    for (const v of ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_ENDPOINT", "AWS_ALLOW_HTTP"]) read.add(v);
  }
}
if (read.size < 20) problems.push(`drift: only ${read.size} variables found in the sources; the scan is broken`);

// The documented secrets and settings: the first column of deploy/README.md's table.
const readme = readFileSync(join(root, "deploy/README.md"), "utf8");
const documented = new Set(
  [...readme.matchAll(/^\| ([^|]+) \|/gm)].flatMap((row) => [...row[1].matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1])),
);

const files = readdirSync(akashDir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"));
if (files.length === 0) problems.push("deploy/akash: no SDL file");
for (const file of files) {
  const path = join(akashDir, file);
  const name = relative(root, path);
  const text = readFileSync(path, "utf8");
  let sdl;
  try {
    sdl = SDL.fromString(text, "beta3");
    const manifest = sdl.manifest();
    const groups = sdl.groups();
    const services = manifest.flatMap((g) => g.services.map((s) => `${s.name}×${s.count}`));
    console.log(`${name}: valid SDL ${sdl.data.version}; ${groups.length} group(s); services ${services.join(", ")}`);
  } catch (err) {
    problems.push(`${name}: Akash's SDL parser refused it: ${err.message}`);
    continue;
  }
  const uncommented = text.replace(/^\s*#.*$/gm, "");
  for (const placeholder of new Set([...uncommented.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]))) {
    if (!documented.has(placeholder)) {
      problems.push(`${name}: \${${placeholder}} is not in deploy/README.md's secrets table`);
    }
  }
  const data = yaml.load(text);
  for (const [service, spec] of Object.entries(data.services)) {
    if (!String(spec.image).includes("HEAVEN_IMAGE")) continue;
    const set = new Set();
    for (const entry of spec.env ?? []) {
      const variable = String(entry).split("=")[0];
      set.add(variable);
      if (!read.has(variable)) {
        problems.push(`${name}: services.${service}.env: ${variable} is not read by heaven`);
      }
    }
    for (const variable of required) {
      if (!set.has(variable)) {
        problems.push(`${name}: services.${service}.env: ${variable} is required by heaven and not set`);
      }
    }
  }
}

if (problems.length > 0) {
  for (const problem of problems) console.error(problem);
  process.exit(1);
}
console.log(`drift: ${read.size} variables read by heaven; every SDL setting is one of them`);
