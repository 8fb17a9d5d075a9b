#!/usr/bin/env node
// shadowbench launcher: loads TypeScript through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';
import { redirectThreadSamplers } from '../harness/profile/samplers.mjs';

// Before register() starts tsx's hooks thread (see samplers.mjs).
redirectThreadSamplers();
register();
await import('../harness/cli/main.ts');
