#!/usr/bin/env node
// Launcher: runs the compiled CLI (built by `npm ci` through the `prepare` script).
const path = require('node:path');
const fs = require('node:fs');
const main = path.join(__dirname, '..', 'dist', 'cli', 'main.js');
if (!fs.existsSync(main)) {
  console.error('autogan: not built yet. Run `npm ci` (or `npm run build`) in ' + path.join(__dirname, '..'));
  process.exit(1);
}
// --verbose (anywhere on the line) keeps TensorFlow's start-up lines from each tensor host.
const argv = process.argv.filter((a) => a !== '--verbose');
if (argv.length !== process.argv.length) process.env.AUTOGAN_VERBOSE = '1';
require('source-map-support/register');
require(main)
  .main(argv)
  .then((code) => process.exit(code));
