#!/usr/bin/env -S npx tsx
// Usage: npx tsx libs/dataset/bin/synth.ts --help
import { runSynthCli } from '../src/synthetic/cli';

process.exitCode = await runSynthCli(process.argv.slice(2));
