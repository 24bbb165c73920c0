// Validate a .glb with the Khronos glTF-Validator and print its JSON report.
// Usage: node gltf_validate.mjs FILE.glb  (the validator lives in .ci/node, see .ci/run)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(resolve(root, ".ci", "node", "package.json"));
const validator = require("gltf-validator");

const report = await validator.validateBytes(new Uint8Array(readFileSync(process.argv[2])), {
  maxIssues: 100,
});
console.log(JSON.stringify(report));
