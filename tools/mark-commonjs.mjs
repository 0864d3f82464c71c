/**
 * Marks a CommonJS build folder as CommonJS: `node tools/mark-commonjs.mjs <dir>`
 * writes `<dir>/package.json` with `{"type":"commonjs"}`, so Node and
 * TypeScript read the `.js` and `.d.ts` files there as CommonJS although the
 * package itself says `"type": "module"`. See docs/packaging.md.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [dirArgument] = process.argv.slice(2);
if (!dirArgument) {
  console.error("usage: node tools/mark-commonjs.mjs <dir>");
  process.exit(64);
}
const dir = resolve(dirArgument);
if (!existsSync(dir)) {
  console.error(`mark-commonjs: ${dir} does not exist (build the CommonJS half first)`);
  process.exit(1);
}
writeFileSync(join(dir, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
