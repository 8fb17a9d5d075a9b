#!/usr/bin/env node
// shadowbench launcher: loads TypeScript through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
