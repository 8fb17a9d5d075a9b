// piscina loads this file in each pool thread: register tsx in the thread,
// then hand piscina the TypeScript task function.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
