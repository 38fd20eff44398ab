import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The package's root folder: docker/, kea-configs/ and relay/ are there. The same from the
 * TypeScript sources (orchestrator/paths.ts) and from the built package (dist/orchestrator/paths.js
 * is one level deeper, under dist/).
 */
export const ROOT = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  const up = join(here, "..");
  return /[\\/]dist$/.test(up) ? join(up, "..") : up;
})();
