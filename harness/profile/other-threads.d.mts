// Types for other-threads.mjs (plain JavaScript: bin/shadowbench.js runs it before tsx is registered).
export declare const OTHER_THREADS_DIR: string;
export declare const PROFILED_ENV: string;
export declare function redirectThreadSamplers(env?: NodeJS.ProcessEnv): void;
export declare function sendThreadLogsAside(execArgv?: readonly string[], env?: NodeJS.ProcessEnv): boolean;
