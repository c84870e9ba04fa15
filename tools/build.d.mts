// Types for tools/build.mjs (plain JavaScript so that it runs before anything is built).

/** The bundle's path, relative to the checkout. */
export declare const BUNDLE: string;
/** SHA-256 of every file the bundle is made from (every file under src/, and the build's own inputs). */
export declare function sourceHash(root?: string): string;
/** The source hash recorded in the bundle's first line; undefined without a bundle. */
export declare function bundleHash(root?: string): string | undefined;
/** Build the bundle from the sources under root and rename it into place. */
export declare function build(root?: string, hash?: string): Promise<{ path: string; bytes: number; hash: string }>;
