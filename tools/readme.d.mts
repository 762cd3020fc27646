/** Types of tools/readme.mjs for the tests that import it. */
export declare const ROOT: string;
export declare function runAll(): string;
export declare function npmStartBlock(stdout: string): string;
export declare function benchBlock(results: Record<string, unknown>): string;
export declare function replaceBlock(text: string, name: string, body: string): string;
export declare function regenerate(text: string, allStdout: string, results: Record<string, unknown>, claims?: Claims): string;
/** bench/claims.json as bench/claims.ts writes it (the fields the README block reads). */
export interface Claims {
  swarm: { command: string; dataMismatches: number; [k: string]: unknown };
  unpatched: { points: { rate: number; [k: string]: unknown }[]; [k: string]: unknown }[];
  [k: string]: unknown;
}
export declare function claimsBlock(claims: Claims): string;
export declare function readClaims(): Claims;
export declare function maskWallTimes(text: string): string;
export declare function readResults(): Record<string, unknown>;
