// Worker bootstrap: registers tsx in this thread, then loads the TypeScript
// module named in workerData.__script. (Node 20 does not carry the parent's
// `--import tsx` loader into worker threads.)
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__script);
