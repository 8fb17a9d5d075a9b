// Types for samplers.mjs (plain JavaScript: bin/shadowbench.js runs it before tsx is registered).
export declare const OTHER_THREADS_DIR: string;
export declare function redirectThreadSamplers(env?: NodeJS.ProcessEnv): void;
