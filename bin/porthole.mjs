#!/usr/bin/env node
// Entry point of the porthole command; the CLI itself is bundled into dist/ by `npm install`.
import { main } from "../dist/porthole.mjs";

process.exitCode = await main(process.argv.slice(2));
