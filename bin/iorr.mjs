#!/usr/bin/env node
// The iorr command. The sources are TypeScript, run through tsx's loader so
// that the installed command and the working tree never disagree.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
