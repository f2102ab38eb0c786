/** Types of scripts/require-node.mjs (plain JavaScript so that any Node can run it). */
export declare const REQUIRED_MAJOR: number;
export declare function nodeProblem(version: string, platform: string, arch: string): string | null;
