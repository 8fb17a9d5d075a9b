#!/usr/bin/env node
// shadowbench launcher: loads TypeScript through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';
import { redirectThreadSamplers, sendThreadLogsAside } from '../harness/profile/other-threads.mjs';

// Under clinic, before register() starts tsx's hooks thread (see other-threads.mjs).
redirectThreadSamplers();
sendThreadLogsAside();
register();
await import('../harness/cli/main.ts');
