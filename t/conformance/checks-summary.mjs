// Summarise one checks.json written by `conformance server --output-dir`.
//
// usage: node checks-summary.mjs CHECKS_JSON
//
// First line: "<success> <failure> <warning>" (counts of checks by status).
// Following lines: one per FAILURE or WARNING check, "STATUS name: message".
// The conformance CLI treats a scenario with any FAILURE or WARNING check as
// failed when it evaluates an expected-failures baseline; callers apply the
// same rule to these counts.

import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node checks-summary.mjs CHECKS_JSON');
  process.exit(2);
}

let checks;
try {
  checks = JSON.parse(readFileSync(file, 'utf8'));
} catch (err) {
  console.error(`cannot read ${file}: ${err.message}`);
  process.exit(2);
}
if (!Array.isArray(checks)) {
  console.error(`${file}: expected an array of checks`);
  process.exit(2);
}

const count = (status) => checks.filter((c) => c.status === status).length;
console.log(`${count('SUCCESS')} ${count('FAILURE')} ${count('WARNING')}`);

for (const c of checks) {
  if (c.status !== 'FAILURE' && c.status !== 'WARNING') continue;
  const message = (c.errorMessage || c.description || '').replace(/\s+/g, ' ');
  console.log(`${c.status} ${c.name || c.id}: ${message}`);
}
